"""What the vendor register gives other parts of the kit: the system description's subservice
organizations and the gap report's vendor items."""

from __future__ import annotations

import datetime as dt
from typing import Any

from soc2kit.vendors.register import load_register

_SYSDESC_KIND = {"cloud": "cloud", "ai_model": "ai_model", "ai_service": "ai_model"}
#: Review rule -> the control whose operation it puts in doubt.
RULE_CONTROL = {"review_due": "VEN-04", "certifications": "VEN-02", "ai_training": "VEN-05", "data_not_allowed": "VEN-03", "incident_notice": "VEN-03"}


def vendors_for_system_description(ws) -> list[dict[str, Any]]:
    """Active vendors as the system description takes them: name, service, kind ("cloud",
    "ai_model" or "other"), carve_out and complementary_controls. Vendors that serve no in-scope
    system and are not carve-outs are left out unless they are cloud or AI providers."""
    out = []
    for v in load_register(ws).vendors:
        if v.status != "active":
            continue
        kind = _SYSDESC_KIND.get(v.kind, "other")
        if kind == "other" and not v.systems and not v.subservice.carve_out:
            continue
        out.append({"name": v.name, "service": v.service, "kind": kind, "carve_out": v.subservice.carve_out,
                    "complementary_controls": list(v.subservice.complementary_controls)})
    return out


def vendor_gap_items(ws, *, as_of: dt.date | None = None) -> list[dict[str, Any]]:
    """One item per review finding, with the VEN control it bears on, for the gap report:
    ``{"control", "vendor", "rule", "kind", "detail"}``. Empty when the register is absent."""
    from soc2kit.vendors.review import review_vendors

    result = review_vendors(ws, as_of=as_of or dt.date.today())
    return [{"control": RULE_CONTROL[kind], "vendor": i["vendor"], "rule": kind, "kind": i["rule"], "detail": i["detail"]}
            for kind, items in result["findings"].items() for i in items]
