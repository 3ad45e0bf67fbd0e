"""Policy acknowledgements: a person states they read a version of a policy.

Each acknowledgement is one evidence record (a small JSON document, ``source_kind``
``acknowledgement``, ``source_id`` the policy id, ``source_version`` the policy version) linked to
GOV-05 (policies published to staff and acknowledged) and, where the profile applies it, GOV-02 (code
of conduct acknowledged at hire and yearly). Being evidence, it is hashed, in the audit log and
counted by ``evidence coverage``; the dashboard, ``soc2kit people acknowledge`` and the people
check all read and write through this module so they agree on the format.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from soc2kit.errors import UserError
from soc2kit.evidence.store import EvidenceStore, NewEvidence, check_text

SOURCE_KIND = "acknowledgement"
CONTROLS = ("GOV-05", "GOV-02")
_EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")


@dataclass(frozen=True)
class Acknowledgement:
    evidence_id: int
    policy: str
    version: str
    name: str
    email: str
    acknowledged_at: dt.datetime
    via: str

    def as_dict(self) -> dict[str, Any]:
        return {"evidence_id": self.evidence_id, "policy": self.policy, "version": self.version, "name": self.name, "email": self.email,
                "acknowledged_at": self.acknowledged_at.isoformat(), "via": self.via}


def check_email(value: str) -> str:
    value = check_text(value.strip(), "e-mail address", max_len=254)
    if not _EMAIL.match(value):
        raise UserError(f"{value!r} is not an e-mail address", hint="give it as name@example.com")
    return value.lower()


def record_acknowledgement(store: EvidenceStore, *, policy: str, version: str, name: str, email: str,
                           at: dt.datetime | None = None, via: str = "cli", known_controls: set[str] | None = None) -> Acknowledgement:
    """Store one acknowledgement as evidence (and so in the audit log). ``known_controls``: the
    workspace's applicable controls; the acknowledgement is linked to those of :data:`CONTROLS` among them."""
    name = check_text(name.strip(), "name", max_len=200)
    if not name:
        raise UserError("the name of the person acknowledging is empty", hint="give their full name")
    email = check_email(email)
    policy = check_text(policy, "policy id", max_len=100)
    version = check_text(str(version), "policy version", max_len=50)
    at = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    controls = [c for c in CONTROLS if known_controls is None or c in known_controls] or [CONTROLS[0]]
    body = {"kind": "policy-acknowledgement", "policy": policy, "version": version, "name": name, "email": email,
            "acknowledged_at": at.isoformat(), "via": via}
    rec = store.add(NewEvidence(controls=controls, data=(json.dumps(body, indent=1, ensure_ascii=False) + "\n").encode(),
                                name=f"acknowledgement-{policy}-v{version}-{at:%Y%m%dT%H%M%SZ}.json",
                                description=f"{name} acknowledged {policy} version {version}", collected_at=at,
                                period=(at.date(), at.date()), source_kind=SOURCE_KIND, source_id=policy, source_version=version))
    return Acknowledgement(rec.id, policy, version, name, email, at, via)


def list_acknowledgements(store: EvidenceStore, *, policy: str | None = None) -> list[Acknowledgement]:
    """Every acknowledgement in the store, oldest first (read back from the stored, hashed bodies)."""
    out = []
    for rec in store.list():
        if rec.source_kind != SOURCE_KIND or (policy and rec.source_id != policy):
            continue
        body = json.loads(store.blob_path(rec.sha256).read_bytes())
        out.append(Acknowledgement(rec.id, body["policy"], body["version"], body["name"], body["email"],
                                   dt.datetime.fromisoformat(body["acknowledged_at"]), body.get("via", "")))
    return out
