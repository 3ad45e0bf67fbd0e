"""``soc2kit vendor review``: what in the register needs attention on a given day.

Rules (each names the policy statement it tests; the numbers come from the profile):

- ``review_due``: a High-tier vendor is reviewed every ``parameters.vendor_review_interval``, a
  Medium-tier vendor every 2 years (VMP-9.1); a Low-tier vendor is re-tiered at renewal, so its
  review falls due on ``contract_end``. A vendor never reviewed is due now. Overdue reviews are
  listed, and so are reviews falling due within the window; a High-tier review more than 30 days
  overdue is marked as a control deficiency (VMP-9.2).
- ``certifications``: a certification expired (an ISO certificate past ``expires``; a SOC report
  more than 12 months after its period end with no bridge letter reaching further, VMP-5.6) or
  expiring within the window; a SOC 2 report whose period ended more than 3 months ago with no
  bridge letter (VMP-5.3); a High-tier vendor with no current SOC 2 Type II report or ISO/IEC 27001
  certificate (VMP-5.2, 5.4).
- ``ai_training``: an AI provider that receives company data and trains on it (``ai.trains_on_data``
  true, or an opt-out state of ``not_opted_out``) without a recorded approval
  (``training_approved_by`` and ``training_approved_on``), or whose training use is not recorded
  (VMP-6.2).
- ``data_not_allowed``: data types the Data Management policy does not allow the vendor to receive:
  personal information without a signed DPA (VMP-7.2, DMP sharing rules), PHI without a signed BAA,
  Restricted data to an AI provider without zero data retention (VMP-6.3), data held outside the
  committed regions (VMP-5.7), personal data crossing borders with no transfer mechanism recorded, a
  tier too low for the data (VMP-4.2: any listed data type makes a vendor High tier), and a carved-out
  subservice organization with no complementary controls recorded (VMP-8.2).
- ``incident_notice``: a High- or Medium-tier vendor whose incident-notification window is longer
  than ``parameters.vendor_breach_notice_hours``, or not recorded (VMP-5.10).

Retired vendors are skipped. The review fails (exit 1) when any rule finds something.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from soc2kit.errors import UsageError
from soc2kit.profile.vocab import FREQUENCY_DAYS
from soc2kit.vendors.register import CERT_LABELS, PERSONAL_TYPES, RESTRICTED_TYPES, Vendor, add_months, load_register

MEDIUM_REVIEW_MONTHS = 24
DEFICIENCY_DAYS = 30
RULES = ("review_due", "certifications", "ai_training", "data_not_allowed", "incident_notice")


def parse_window(text: str) -> int:
    """``30d``, ``6w``, ``3m`` (months of 30 days) or a bare number of days."""
    m = re.fullmatch(r"\s*(\d{1,4})\s*([dwm]?)\s*", text or "")
    if not m:
        raise UsageError(f"cannot read the window {text!r}", hint="use a number of days such as 30d, 6w or 3m")
    n = int(m.group(1))
    return n * {"": 1, "d": 1, "w": 7, "m": 30}[m.group(2)]


def next_review(v: Vendor, profile) -> tuple[dt.date | None, str]:
    """(due date, basis); None when the vendor needs no periodic review."""
    if v.criticality == "low":
        return v.contract_end, "Low tier: re-tiered at renewal (contract_end)"
    if v.criticality == "high":
        basis = f"High tier: every {profile.parameters.vendor_review_interval} review"
        due = v.last_review + dt.timedelta(days=FREQUENCY_DAYS[profile.parameters.vendor_review_interval] or 366) if v.last_review else None
    else:  # calendar years, so that a leap day in between does not bring the date forward
        basis = "Medium tier: every 2 years"
        due = add_months(v.last_review, MEDIUM_REVIEW_MONTHS) if v.last_review else None
    return due, basis if due else basis + "; never reviewed"


def _item(v: Vendor, rule: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"vendor": v.name, "criticality": v.criticality, "rule": rule, "detail": detail, **extra}


def review_vendors(ws, *, as_of: dt.date, within_days: int = 30) -> dict[str, Any]:
    loaded = load_register(ws)
    profile = ws.profile
    horizon = as_of + dt.timedelta(days=within_days)
    notice = profile.parameters.vendor_breach_notice_hours
    committed = {r.lower() for r in profile.data.residency}
    gdpr = bool({"gdpr", "uk_gdpr"} & set(profile.regulations))
    f: dict[str, list[dict[str, Any]]] = {k: [] for k in RULES}
    active = [v for v in loaded.vendors if v.status == "active"]
    for v in active:
        # --- reviews due
        due, basis = next_review(v, profile)
        if v.criticality != "low" and due is None:
            f["review_due"].append(_item(v, "never_reviewed", f"{basis}; assess it with `soc2kit vendor assess`", due=None, last_review=None, overdue_days=None,
                                         deficiency=v.criticality == "high"))
        elif due is not None and due <= horizon:
            late = (as_of - due).days
            f["review_due"].append(_item(v, "overdue" if late > 0 else "due_soon", f"{basis}; due {due.isoformat()}", due=due.isoformat(),
                                         last_review=v.last_review.isoformat() if v.last_review else None, overdue_days=max(late, 0),
                                         deficiency=v.criticality == "high" and late > DEFICIENCY_DAYS))
        # --- certifications
        current_core = False
        for c in v.certifications:
            until = c.valid_until()
            label = CERT_LABELS[c.type]
            if c.type in ("soc2_type2", "iso27001") and until >= as_of:
                current_core = True
            if until < as_of:
                f["certifications"].append(_item(v, "expired", f"{label} " + (f"expired {until.isoformat()}" if c.expires else f"period ended {c.period_end}; stale since {until.isoformat()}"),
                                                 certification=c.type, valid_until=until.isoformat()))
            elif until <= horizon:
                f["certifications"].append(_item(v, "expiring", f"{label} valid until {until.isoformat()}", certification=c.type, valid_until=until.isoformat()))
            elif c.type == "soc2_type2" and c.period_end and add_months(c.period_end, 3) < as_of and not (c.bridge_letter_until and c.bridge_letter_until >= as_of - dt.timedelta(days=92)):
                f["certifications"].append(_item(v, "bridge_letter_missing", f"{label} period ended {c.period_end}, more than 3 months ago, and no bridge letter covers the months since",
                                                 certification=c.type, valid_until=until.isoformat()))
        if v.criticality == "high" and not current_core:
            f["certifications"].append(_item(v, "no_current_assurance", "High tier with no current SOC 2 Type II report or ISO/IEC 27001 certificate", certification=None, valid_until=None))
        # --- AI training on company data
        if v.is_ai and v.data_shared:
            ai = v.ai
            trains = ai is not None and (ai.trains_on_data is True or ai.opt_out == "not_opted_out")
            approved = ai is not None and bool(ai.training_approved_by) and ai.training_approved_on is not None
            if trains and not approved:
                f["ai_training"].append(_item(v, "training_without_approval", f"trains on company data ({', '.join(v.data_shared)}) with no recorded approval",
                                              opt_out=ai.opt_out if ai else "unknown"))
            elif ai is None or (ai.trains_on_data is None and ai.opt_out in ("unknown", "not_offered")):
                f["ai_training"].append(_item(v, "training_use_unknown", "whether it trains on company data is not recorded (set ai.trains_on_data and ai.opt_out)",
                                              opt_out=ai.opt_out if ai else "unknown"))
        # --- data the Data Management policy does not allow
        personal = [t for t in v.data_shared if t in PERSONAL_TYPES]
        restricted = [t for t in v.data_shared if t in RESTRICTED_TYPES]
        if personal and v.dpa_signed is not True:
            f["data_not_allowed"].append(_item(v, "no_dpa", f"receives personal information ({', '.join(personal)}) without a signed data processing agreement", data=personal))
        if "phi" in v.data_shared and v.baa_signed is not True:
            f["data_not_allowed"].append(_item(v, "no_baa", "receives protected health information without a signed business associate agreement", data=["phi"]))
        if restricted and v.is_ai and not (v.ai and v.ai.zero_data_retention):
            f["data_not_allowed"].append(_item(v, "restricted_without_zdr", f"AI provider receives Restricted data ({', '.join(restricted)}) without zero data retention", data=restricted))
        if v.data_shared and committed:
            outside = [r for r in v.regions if r.lower() not in committed]
            if outside:
                f["data_not_allowed"].append(_item(v, "outside_regions", f"holds company data in {', '.join(outside)}, outside the committed region(s) {', '.join(profile.data.residency)}",
                                                   data=list(v.data_shared), regions=outside))
            elif not v.regions:
                f["data_not_allowed"].append(_item(v, "regions_unknown", "receives company data but its regions are not recorded", data=list(v.data_shared)))
            if outside and personal and gdpr and v.transfer_mechanism in (None, "not_needed"):
                f["data_not_allowed"].append(_item(v, "no_transfer_mechanism", "personal data leaves the committed regions with no transfer mechanism recorded", data=personal))
        if v.data_shared and v.criticality != "high":
            f["data_not_allowed"].append(_item(v, "tier_too_low", f"receives {', '.join(v.data_shared)} but is tiered {v.criticality}; the policy makes such a vendor High tier",
                                               data=list(v.data_shared)))
        if v.subservice.carve_out and not v.subservice.complementary_controls:
            f["data_not_allowed"].append(_item(v, "carve_out_without_cuec", "carved-out subservice organization with no complementary controls recorded", data=[]))
        # --- incident notification window
        if v.criticality in ("high", "medium"):
            if v.incident_notice_hours is None:
                f["incident_notice"].append(_item(v, "notice_unknown", f"incident-notification window not recorded (policy: {notice} hours)", hours=None, limit=notice))
            elif v.incident_notice_hours > notice:
                f["incident_notice"].append(_item(v, "notice_too_long", f"notifies within {v.incident_notice_hours} hours; the policy allows {notice}", hours=v.incident_notice_hours, limit=notice))
    total = sum(len(x) for x in f.values())
    return {
        "check": "vendors.review",
        "status": "fail" if total else "pass",
        "as_of": as_of.isoformat(),
        "due_within_days": within_days,
        "register": loaded.path.name,
        "vendors": len(loaded.vendors),
        "active": len(active),
        "parameters": {"vendor_review_interval": profile.parameters.vendor_review_interval, "vendor_breach_notice_hours": notice,
                       "residency": list(profile.data.residency)},
        "findings": f,
        "counts": {k: len(v) for k, v in f.items()},
    }
