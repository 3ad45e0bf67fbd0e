"""Helper process for the reliability tests: adds evidence to a store in a loop.

usage: python _evidence_writer.py ROOT URL WORKER COUNT SIZE
"""

import os
import sys
from pathlib import Path

from soc2kit.evidence.store import EvidenceStore, NewEvidence

root, url, worker, count, size = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
store = EvidenceStore.at(root, url)
for i in range(count):
    shared = i % 5 == 0  # some content is identical across workers: stored once
    data = (b"shared-%d" % i) if shared else os.urandom(size) + b"%d-%d" % (worker, i)
    store.add(NewEvidence(controls=["AC-05"], data=data, name=f"w{worker}-{i}.bin", description=f"worker {worker} item {i}"), actor=f"worker-{worker}")
    print(i, flush=True)
store.close()
