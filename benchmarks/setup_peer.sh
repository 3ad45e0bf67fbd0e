#!/usr/bin/env bash
# Install the benchmark peer (JupiterOne's policy builder and its templates) from the npm registry
# into benchmarks/.peer/ (git-ignored). Only the benchmark uses it; soc2kit itself never does.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p .peer
cd .peer
[ -f package.json ] || echo '{"private": true}' > package.json
npm install --no-audit --no-fund --silent @jupiterone/security-policy-builder@4.2.0 @jupiterone/security-policy-templates@2.11.1
echo "peer installed: $(pwd)/node_modules/.bin/psp"
