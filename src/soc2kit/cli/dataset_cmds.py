"""`soc2kit dataset manifest|verify` (check ai.dataset)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Annotated

import typer

from soc2kit.cli.app import TableFormat, _emit_json, _maybe_workspace, app, err, out
from soc2kit.errors import ExitCode

dataset_app = typer.Typer(help="Dataset integrity manifests: SHA-256 per file and a Merkle root as the dataset version.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(dataset_app, name="dataset")


def _cache_file(ws, directory: Path) -> Path:
    key = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:16]
    if ws is not None:
        return ws.state_dir / "cache" / "datasets" / f"{key}.json"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "soc2kit" / "datasets" / f"{key}.json"


@dataset_app.command("manifest")
def dataset_manifest(
    directory: Annotated[Path, typer.Argument(help="The dataset directory.")],
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Also write the manifest to this file.")] = None,
    control: Annotated[list[str] | None, typer.Option("--control", "-c", help="Controls the manifest is evidence for (default: TRD-04).")] = None,
    no_evidence: Annotated[bool, typer.Option("--no-evidence", help="Do not store the manifest in the evidence store.")] = False,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.table,
) -> None:
    """Hash every file of a dataset and record the manifest (as evidence, inside a workspace)."""
    from soc2kit._fs import atomic_write_text
    from soc2kit.checks.dataset import build_manifest

    ws = _maybe_workspace()
    result = build_manifest(directory, _cache_file(ws, directory))
    manifest = result.manifest
    text = json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"
    if out_file:
        atomic_write_text(out_file, text)
    evidence_id = None
    if ws is not None and not no_evidence:
        from soc2kit.evidence.store import EvidenceStore, NewEvidence

        store = EvidenceStore.open(ws)
        try:
            rec = store.add(NewEvidence(controls=control or ["TRD-04"], data=text.encode(), name=f"dataset-manifest-{manifest['dataset']}.json",
                                        description=f"Dataset manifest of {directory}: {manifest['file_count']} files, root {manifest['merkle_root']}",
                                        source_kind="check", source_id="ai.dataset"))
            evidence_id = rec.id
        finally:
            store.close()
    if fmt == TableFormat.json:
        _emit_json({"merkle_root": manifest["merkle_root"], "file_count": manifest["file_count"], "total_bytes": manifest["total_bytes"],
                    "hashed": result.hashed, "cached": result.cached, "evidence": evidence_id, "manifest": out_file and str(out_file)})
        return
    out.print(f"{manifest['file_count']} files, {manifest['total_bytes']} bytes; dataset version (Merkle root) {manifest['merkle_root']}")
    out.print(f"  {result.hashed} files hashed, {result.cached} unchanged since the last run (from the cache)")
    if evidence_id is not None:
        out.print(f"  stored as evidence {evidence_id} for {', '.join(control or ['TRD-04'])}")
    if out_file:
        out.print(f"  manifest written to {out_file}")


@dataset_app.command("verify")
def dataset_verify(
    directory: Annotated[Path, typer.Argument(help="The dataset directory.")],
    manifest: Annotated[Path | None, typer.Option("--manifest", "-m", help="A manifest file written by `dataset manifest --out`.")] = None,
    evidence: Annotated[int | None, typer.Option("--evidence", "-e", help="The evidence id of a stored manifest.")] = None,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.table,
) -> None:
    """Compare a dataset with an earlier manifest: added, removed and modified files (exit 1)."""
    from soc2kit.checks.dataset import build_manifest, compare, load_manifest
    from soc2kit.errors import UsageError

    if (manifest is None) == (evidence is None):
        raise UsageError("give exactly one of --manifest FILE and --evidence ID")
    ws = _maybe_workspace()
    if evidence is not None:
        if ws is None:
            raise UsageError("--evidence needs a workspace", hint="pass --workspace DIR")
        from soc2kit.evidence.store import EvidenceStore

        store = EvidenceStore.open(ws)
        try:
            manifest = store.blob_path(store.get(evidence).sha256)
        finally:
            store.close()
    old = load_manifest(manifest)
    new = build_manifest(directory, _cache_file(ws, directory)).manifest
    diff = compare(old, new)
    if fmt == TableFormat.json:
        _emit_json(diff.as_dict() | {"expected_root": old["merkle_root"], "actual_root": new["merkle_root"]})
    else:
        for kind in ("added", "removed", "modified"):
            for path in getattr(diff, kind):
                err.print(f"{kind}: {path}")
        if diff.ok:
            out.print(f"dataset matches the manifest: {new['file_count']} files, root {new['merkle_root']}")
        else:
            err.print(f"dataset differs from the manifest ({len(diff.added)} added, {len(diff.removed)} removed, {len(diff.modified)} modified)")
    if not diff.ok:
        raise typer.Exit(ExitCode.FINDINGS)
