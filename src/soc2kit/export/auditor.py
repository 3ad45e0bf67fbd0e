"""``soc2kit export auditor``: one zip for the auditor, organized by criterion.

Layout (under one top folder ``<company>-soc2-package-<date>/``)::

    README.md                     what is inside and how to verify it
    MANIFEST.sha256               SHA-256 of every other file (``sha256sum -c MANIFEST.sha256``)
    policies/*.pdf                every policy as PDF and the combined policy manual
    policies/source/*.md          the same policies as the company's Markdown (the text of record)
    control-matrix.xlsx           controls, criteria and crosswalks (``soc2kit export matrix``)
    reports/gap-report.html|json  readiness by category, criterion and control (``soc2kit gap``)
    reports/plan.html             the dated remediation plan
    system-description.md         the draft system description, when that export is available
    oscal/*.json                  OSCAL catalog, profile, component definition and SSP, when available
    criteria/<ID>/README.md       per in-scope criterion: its controls with status, the policy
                                  statements that implement them, and the evidence, linked
    evidence/index.csv|json       control, file, SHA-256, collected_at, period, source per record
    evidence/files/<id>-<name>    each evidence file once (criteria link to it)
    audit/checkpoint.json         a signed audit-log checkpoint made at export time (tree size, root)
    audit/verification.json       the result of verifying the audit log and the evidence files

Evidence files are stored once and linked from every criterion they support, so a record linked to
three criteria does not triple the package. Each evidence file is hashed as it is copied; a file
whose bytes no longer match the SHA-256 recorded when it was added stops the export (run
``soc2kit evidence verify``). The zip is written to a temporary file and renamed into place, and its
entries carry the export date, so the same workspace exported twice on one day gives the same
members.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from soc2kit import __version__
from soc2kit.errors import UserError

STORED_SUFFIXES = {".pdf", ".xlsx", ".docx", ".zip", ".png", ".jpg", ".jpeg", ".gz", ".parquet"}
EVIDENCE_COLUMNS = ["evidence_id", "controls", "criteria", "file", "sha256", "size", "name", "description", "collected_at", "period_start",
                    "period_end", "source_kind", "source_id", "source_version", "added_by", "audit_entry"]


@dataclass
class PackageResult:
    path: Path
    files: int
    bytes: int
    policies: int
    criteria: int
    evidence: int
    checkpoint: dict[str, Any] | None


#: bytes of an evidence file's own name in the package: with the "<id>-" prefix a path component stays
#: well under the 255-byte limit of common file systems, so the package unpacks anywhere
MAX_NAME_BYTES = 200
_UNPORTABLE = re.compile(r'[<>:"|?*\\]')


def evidence_member(rec) -> str:
    """``evidence/files/<id>-<name>``: the recorded name made portable (no character Windows refuses,
    no trailing dot or space) and cut to ``MAX_NAME_BYTES`` of UTF-8, keeping a short extension.
    The id prefix keeps members unique whatever the names."""
    name = _UNPORTABLE.sub("_", rec.name).rstrip(". ") or "evidence"
    if len(name.encode()) > MAX_NAME_BYTES:
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem or len(ext.encode()) > 16:
            stem, dot, ext = name, "", ""
        budget = MAX_NAME_BYTES - len((dot + ext).encode())
        name = stem.encode()[:budget].decode("utf-8", "ignore").rstrip(". ") + dot + ext
    return f"evidence/files/{rec.id:06d}-{name}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "company"


def _md(text: Any) -> str:
    from soc2kit.render.environment import escape_markdown

    return str(escape_markdown(str(text)))


class _Package:
    """Members of the zip: bytes, or a file path copied in chunks and hashed on the way."""

    def __init__(self, top: str, date: dt.date):
        self.top = top
        self.date_time = (date.year, date.month, date.day, 0, 0, 0)
        self.members: dict[str, bytes | tuple[Path, str]] = {}

    def add(self, name: str, data: bytes | str) -> None:
        self.members[name] = data.encode("utf-8") if isinstance(data, str) else data

    def add_file(self, name: str, path: Path, sha256: str) -> None:
        self.members[name] = (path, sha256)

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(f"{self.top}/{name}", date_time=self.date_time)
        info.compress_type = zipfile.ZIP_STORED if Path(name).suffix.lower() in STORED_SUFFIXES else zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        return info

    def write(self, target: Path) -> tuple[int, int]:
        """Write atomically; returns (files, bytes of content)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        manifest: list[tuple[str, str]] = []
        total = 0
        try:
            with zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
                for name in sorted(self.members):
                    member = self.members[name]
                    info = self._info(name)
                    if isinstance(member, bytes):
                        zf.writestr(info, member)
                        manifest.append((hashlib.sha256(member).hexdigest(), name))
                        total += len(member)
                        continue
                    path, expected = member
                    digest = hashlib.sha256()
                    with path.open("rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                        for chunk in iter(lambda: src.read(1 << 20), b""):
                            digest.update(chunk)
                            dst.write(chunk)
                            total += len(chunk)
                    if digest.hexdigest() != expected:
                        raise UserError(f"evidence file {name} no longer matches the SHA-256 recorded when it was added",
                                        hint="run `soc2kit evidence verify` to see every altered or missing file; the package was not written")
                    manifest.append((expected, name))
                text = "".join(f"{sha}  {name}\n" for sha, name in sorted(manifest, key=lambda m: m[1]))
                zf.writestr(self._info("MANIFEST.sha256"), text.encode())
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return len(manifest) + 1, total


def build_package(ws, *, out: Path | None = None, today: dt.date | None = None, checkpoint: bool = True) -> PackageResult:
    from soc2kit.assess import report as assess_report
    from soc2kit.assess import service as assess_service
    from soc2kit.export.matrix import matrix_workbook
    from soc2kit.library import load_catalog
    from soc2kit.render.build import build as run_build
    from soc2kit.render.build import trace
    from soc2kit.render.context import build_context
    from soc2kit.render.documents import read_policy_documents
    from soc2kit.render.selection import select_controls

    today = today or dt.date.today()
    company = ws.profile.company.name
    top = f"{_slug(company)}-soc2-package-{today.isoformat()}"
    target = out or ws.root / "dist" / f"{top}.zip"
    if target.suffix.lower() != ".zip":
        raise UserError(f"the auditor package is a zip file; {target.name!r} does not end in .zip", hint="e.g. --out auditor-package.zip")
    pkg = _Package(top, today)

    # Policies: PDF through the build pipeline (into a private temporary directory), and the Markdown of record.
    with tempfile.TemporaryDirectory(prefix="soc2kit-package-") as tmp:
        run_build(ws, formats=["pdf"], out=Path(tmp) / "dist", today=today)
        pdfs = sorted((Path(tmp) / "dist" / "pdf").glob("*.pdf"))
        for pdf in pdfs:
            pkg.add(f"policies/{pdf.name}", pdf.read_bytes())
    documents = read_policy_documents(ws.policies_dir)
    for doc in documents:
        pkg.add(f"policies/source/{doc.path.name}", doc.path.read_bytes())

    pkg.add("control-matrix.xlsx", matrix_workbook(ws, today=today).data)
    gap = assess_service.gap(ws, today=today)
    pkg.add("reports/gap-report.html", assess_report.gap_html(gap))
    pkg.add("reports/gap-report.json", json.dumps(gap, indent=1, ensure_ascii=False, default=str) + "\n")
    pkg.add("reports/plan.html", assess_report.plan_html(assess_service.plan(ws, today=today)))

    _add_drafts(ws, pkg, today)

    # Evidence, the audit log and the per-criterion folders.
    catalog = load_catalog()
    views = select_controls(catalog, ws.profile, build_context(ws.profile), cache_dir=ws.state_dir / "cache")
    tr = trace(catalog, list(ws.profile.scope.tsc), views, documents)
    criteria_of: dict[str, list[str]] = {}
    for cat in tr.rows_by_category:
        for row in cat["rows"]:
            for v in row["controls"]:
                criteria_of.setdefault(v.id, []).append(row["criterion"].id)
    records, cp, verification = [], None, None
    if assess_service.has_store(ws):
        records, cp, verification = _add_evidence_and_audit(ws, pkg, criteria_of, checkpoint)
    else:
        _add_index(pkg, [])  # an empty index, as the README describes
    files_of: dict[str, list[tuple[Any, str]]] = {}
    for rec, fname in records:
        for cid in rec.controls:
            files_of.setdefault(cid, []).append((rec, fname))
    from soc2kit.assess.assessment import Assessment

    assessment = Assessment.load(ws.root)
    n_criteria = 0
    for cat in tr.rows_by_category:
        for row in cat["rows"]:
            pkg.add(f"criteria/{row['criterion'].id}/README.md", _criterion_page(row, assessment, files_of))
            n_criteria += 1
    pkg.add("README.md", _readme(ws, today, len(pdfs), n_criteria, len(records), cp, verification))
    files, size = pkg.write(target)
    return PackageResult(target, files, size, len(pdfs), n_criteria, len(records), cp)


def _add_drafts(ws, pkg: _Package, today: dt.date) -> None:
    """The draft system description and the OSCAL documents."""
    from soc2kit.export import oscal, system_description

    for name, data in system_description.package_files(ws, today=today).items():
        pkg.add(name, data)
    docs, _ = oscal.workspace_documents(ws, date=today)
    for name, data in oscal.document_bytes(docs).items():
        pkg.add(f"oscal/{name}", data)


def _add_evidence_and_audit(ws, pkg: _Package, criteria_of: dict[str, list[str]], checkpoint: bool):
    from soc2kit.evidence import service
    from soc2kit.evidence.store import EvidenceStore

    store = EvidenceStore.open(ws)
    try:
        records = store.list()
        report = service.verify_log(store)
        missing = [r for r in records if not store.blob_path(r.sha256).is_file()]
        if missing:
            raise UserError(f"{len(missing)} evidence file(s) are missing from the store, e.g. record {missing[0].id} ({missing[0].name})",
                            hint="run `soc2kit evidence verify`; the package was not written")
        cp = None
        if checkpoint:
            if not report.ok:
                raise UserError("the audit log fails verification; the package would carry a broken log",
                                hint="run `soc2kit audit verify` to see the first bad entry")
            cp, _ = service.make_checkpoint(ws, store)
        verification = {"audit_log": {"ok": report.ok, "entries": report.entries}, "evidence_records": len(records),
                        "verified_at_export": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(), "kit": f"soc2kit {__version__}"}
        out = []
        rows = []
        for rec in records:
            fname = evidence_member(rec)
            pkg.add_file(fname, store.blob_path(rec.sha256), rec.sha256)
            crits = sorted({c for cid in rec.controls for c in criteria_of.get(cid, [])})
            d = rec.as_dict()
            rows.append({"evidence_id": rec.id, "controls": "; ".join(rec.controls), "criteria": "; ".join(crits), "file": fname, "sha256": rec.sha256,
                         "size": rec.size, "name": rec.name, "description": rec.description, "collected_at": d["collected_at"],
                         "period_start": d["period"]["start"] or "", "period_end": d["period"]["end"] or "", "source_kind": rec.source_kind,
                         "source_id": rec.source_id, "source_version": rec.source_version, "added_by": rec.added_by, "audit_entry": rec.audit_seq})
            out.append((rec, fname))
        _add_index(pkg, rows)
        if cp is not None:
            from soc2kit.evidence import audit

            pkg.add("audit/checkpoint.json", audit.canonical(cp) + "\n")
        pkg.add("audit/verification.json", json.dumps(verification, indent=1) + "\n")
        return out, cp, verification
    finally:
        store.close()


def _add_index(pkg: _Package, rows: list[dict[str, Any]]) -> None:
    from soc2kit.render.matrix import safe_csv

    pkg.add("evidence/index.csv", safe_csv(EVIDENCE_COLUMNS, rows))
    pkg.add("evidence/index.json", json.dumps({"evidence": rows}, indent=1, ensure_ascii=False) + "\n")


def _criterion_page(row: dict[str, Any], assessment, files_of: dict[str, list[tuple[Any, str]]]) -> str:
    crit = row["criterion"]
    lines = [f"# {crit.id} — {_md(crit.title)}", "", f"Category: {crit.category}.", "", "## Controls", ""]
    if not row["controls"]:
        lines += ["No applicable control addresses this criterion in this workspace.", ""]
    else:
        lines += ["| Control | Title | Owner | Frequency | Status | Evidence records |", "| --- | --- | --- | --- | --- | --- |"]
        for v in row["controls"]:
            st = assessment.controls.get(v.id)
            lines.append(f"| {v.id} | {_md(v.control.title)} | {_md(v.owner_title)} | {_md(v.frequency)} | {st.status if st else 'not assessed'} "
                         f"| {len(files_of.get(v.id, []))} |")
        lines.append("")
    lines += ["## Policy statements", ""]
    if row["citations"]:
        for c in row["citations"]:
            lines.append(f"- {_md(c['policy_title'])}: {_md(c['statement'] or c['section'])} (`policies/source/{c['policy_id']}.md`)")
    else:
        lines.append("No policy statement cites these controls.")
    lines += ["", "## Evidence", ""]
    any_evidence = False
    for v in row["controls"]:
        for rec, fname in files_of.get(v.id, []):
            any_evidence = True
            period = f"{rec.period_start or ''}–{rec.period_end or ''}" if (rec.period_start or rec.period_end) else "no period"
            lines.append(f"- {v.id}: [{_md(rec.name)}](../../{quote(fname)}) — collected {rec.collected_at.date().isoformat()}, {period}, "
                         f"source {rec.source_kind}, SHA-256 `{rec.sha256}`")
    if not any_evidence:
        lines.append("No evidence has been stored for these controls yet.")
    return "\n".join(lines) + "\n"


def _readme(ws, today: dt.date, pdfs: int, criteria: int, evidence: int, cp: dict[str, Any] | None, verification: dict[str, Any] | None) -> str:
    company = _md(ws.profile.company.name)
    parts = [
        f"# SOC 2 readiness package — {company}", "",
        f"Prepared with soc2kit {__version__} on {today.isoformat()}. It collects what the company has written and recorded for its "
        "SOC 2 examination; it is readiness material, not an auditor's opinion.", "",
        "## Contents", "",
        f"- `policies/`: {pdfs} PDF files (each policy and the combined manual) and `policies/source/`, the policies as the company's Markdown.",
        "- `control-matrix.xlsx`: controls (owner, frequency, status, test procedure, evidence count, last evidence date), criteria and crosswalks.",
        "- `reports/`: the gap report (HTML and JSON) and the dated remediation plan.",
        "- `system-description.md`: the draft system description; the places marked [TO COMPLETE] are the company's to fill in.",
        "- `oscal/`: the control catalog, the workspace's profile, a component definition and a system security plan as OSCAL 1.1.3 JSON.",
        f"- `criteria/`: one folder per in-scope criterion ({criteria}), each with its controls, the policy statements that implement "
        "them and links to the evidence.",
        f"- `evidence/`: {evidence} evidence records; `index.csv`/`index.json` give control, file, SHA-256, collection time, period and source.",
    ]
    if verification is not None:
        parts.append("- `audit/`: " + ("a signed checkpoint of the audit log and " if cp is not None else "")
                     + "the verification result of the audit log at export time.")
    parts += ["- `MANIFEST.sha256`: the SHA-256 of every other file in the package.", ""]
    parts += ["## Verifying this package", "",
              "1. From the package folder run `sha256sum -c MANIFEST.sha256`: every line must say OK.",
              "2. Each evidence file's SHA-256 in `evidence/index.csv` is the hash recorded when it was added to the evidence store.", ]
    if cp is not None:
        parts += [f"3. `audit/checkpoint.json` is an Ed25519-signed tree head over the first {cp['tree_size']} audit-log entries "
                  f"(root `{cp['root_hash']}`). With the workspace, `soc2kit audit verify --checkpoint audit/checkpoint.json` shows that "
                  "no entry up to it was changed, removed or reordered afterwards; `soc2kit audit prove` gives an inclusion proof for one entry.", ]
    elif verification is None:
        parts += ["3. This workspace had no evidence store when the package was made, so it carries no evidence and no audit checkpoint."]
    return "\n".join(parts) + "\n"


def iter_manifest(zip_path: Path) -> Iterator[tuple[str, str, bytes]]:
    """(expected SHA-256, member name, member bytes) for each manifest line: used by the tests and
    by anyone checking a package without unpacking it."""
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        top = names[0].split("/", 1)[0]
        manifest = zf.read(f"{top}/MANIFEST.sha256").decode()
        for line in manifest.splitlines():
            sha, name = line.split("  ", 1)
            yield sha, name, zf.read(f"{top}/{name}")


def evidence_index_rows(zip_path: Path) -> list[dict[str, str]]:
    with zipfile.ZipFile(zip_path) as zf:
        top = zf.namelist()[0].split("/", 1)[0]
        return list(csv.DictReader(io.StringIO(zf.read(f"{top}/evidence/index.csv").decode())))
