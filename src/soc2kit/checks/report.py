"""Readable reports of check results: Markdown (with an SVG chart beside it) or a standalone HTML
page. Every value from the data is escaped (group names come from the company's data)."""

from __future__ import annotations

import html
from typing import Any

from soc2kit.assess import charts
from soc2kit.render.environment import escape_markdown

TITLES = {"ai.bias": "Bias check", "ai.drift": "Drift check", "ai.performance": "Performance check", "access.review": "User access review",
          "ai.registry": "Model registry check"}
ACCESS_FINDINGS = {"terminated_active": "Active accounts of people who left", "orphaned": "Accounts matching no person",
                   "privileged": "Privileged accounts", "sod_conflicts": "Segregation-of-duties conflicts", "unused": "Unused accounts"}


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _tables(result: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    check = result["check"]
    if check == "ai.bias":
        rows = [[k, g["count"], g["selection_rate"], g["accuracy"], g["tpr"], g["fpr"], g["fnr"], g.get("auc"), "too small to judge" if g["small"] else ""]
                for k, g in result["by_group"].items()]
        summary = [[k, result["summary"][k], result["judged_summary"][k],
                    *((result["confidence_intervals"] or {}).get(k) or [None, None])] for k in result["summary"]]
        return [("By group", ["Group", "Count", "Selection rate", "Accuracy", "TPR", "FPR", "FNR", "AUC", "Note"], rows),
                ("Summary", ["Metric", "All groups", "Judged groups", "95% low", "95% high"], summary)]
    if check == "ai.drift":
        rows = []
        for name, m in result["columns"].items():
            value = m["ks_p_value"] if m["test"] == "ks" else m["chi2_p_value"] if m["test"] == "chi2" else m[m["test"]]
            rows.append([name, m["kind"], m["test"], value, m["psi"], m["psi_band"], m["drifted"]])
        return [("Columns", ["Column", "Kind", "Test", "Value", "PSI", "PSI band", "Drifted"], rows)]
    if check == "access.review":
        out = [("Sources", ["Side", "File", "Detected source"], [["identity provider", result["idp_file"], result["idp_source"]],
                                                                 ["HR roster", result["hr_file"], result["hr_source"]]])]
        for kind, title in ACCESS_FINDINGS.items():
            items = result["findings"].get(kind, [])
            if kind == "sod_conflicts":
                rows = [[i["person"], " + ".join(i["duties"]), "; ".join(f"{d}: {', '.join(g)}" for d, g in i["groups"].items()), i["rule"]] for i in items]
                out.append((f"{title} ({len(items)})", ["Person", "Duties", "Through groups", "Rule"], rows))
                continue
            rows = []
            for i in items:
                detail = i.get("reason") or i.get("note") or ", ".join(i.get("why", [])) or i.get("hr_status") or ""
                if kind == "terminated_active" and i.get("termination_date"):
                    detail = f"left on {i['termination_date']}"
                if kind == "unused":
                    detail = f"last used {i.get('last_login') or 'never'}" + (f" ({i['days']} days)" if i.get("days") is not None else "")
                rows.append([i["account"], i.get("email") or "", i.get("name") or "", detail])
            out.append((f"{title} ({len(items)})", ["Account", "E-mail", "Name", "Detail"], rows))
        return out
    if check == "ai.registry":
        lineage = [[x["model"], x["version"], ", ".join(x.get("production") or []) or "-", x.get("run_id") or "-", x.get("dataset_manifest") or "missing",
                    ", ".join(f"{k}={_fmt(v)}" for k, v in (x.get("metrics") or {}).items()) or "-"] for x in result["lineage"]]
        unapproved = [[u["model"], u["version"], u.get("why", "")] for u in result["production_without_independent_approval"]]
        cards = [[u["model"], u["version"], "yes" if u.get("production") else "no"] for u in result["versions_without_model_card"]]
        return [("Lineage", ["Model", "Version", "In production", "Run", "Dataset manifest", "Metrics"], lineage),
                (f"Production versions without an independent approval ({len(unapproved)})", ["Model", "Version", "Why"], unapproved),
                (f"Versions without a model card ({len(cards)})", ["Model", "Version", "In production"], cards)]
    rows = [[k, v["baseline"], v["current"], v["change"], v["degraded"]] for k, v in result["metrics"].items()]
    return [("Metrics", ["Metric", "Baseline", "Current", "Change", "Degraded"], rows)]


def chart(result: dict[str, Any]) -> str | None:
    if result["check"] == "ai.bias":
        items = [(k, g["selection_rate"]) for k, g in result["by_group"].items()][:40]
        return charts.readiness_bars(items, "Selection rate by group")
    if result["check"] == "access.review" and result.get("accounts"):
        n = result["accounts"]
        items = [(title, min(1.0, len(result["findings"].get(kind, [])) / n)) for kind, title in ACCESS_FINDINGS.items() if kind != "sod_conflicts"]
        return charts.readiness_bars(items, f"Share of the {n} accounts with each finding")
    return None


def _verdict(result: dict[str, Any]) -> str:
    lines = [f"Status: {result['status']}."]
    lines += [f"Finding: {f}." for f in result.get("failures", [])]
    if result["check"] == "ai.drift":
        lines.append(f"Share of drifted columns: {result['share_drifted']:.2f} (the dataset drifts at {result['thresholds']['share']}).")
    return " ".join(lines)


def check_markdown(result: dict[str, Any], chart_path: str | None) -> str:
    title = TITLES.get(result["check"], result["check"])
    out = [f"# {title}", "", escape_markdown(_verdict(result)), ""]
    if chart_path and chart(result) is not None:
        out += [f"![{title}]({chart_path})", ""]
    for name, header, rows in _tables(result):
        if not rows:
            out += [f"## {name}", "", "None.", ""]
            continue
        out += [f"## {name}", "", "| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
        out += ["| " + " | ".join(escape_markdown(_fmt(v)).replace("\n", " ") for v in row) + " |" for row in rows]
        out.append("")
    return "\n".join(out)


def check_html(result: dict[str, Any]) -> str:
    title = TITLES.get(result["check"], result["check"])
    parts = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
             f"<title>{html.escape(title)}</title><style>body{{font:15px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}}"
             "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccd;padding:.3rem .6rem;text-align:left}</style></head><body>",
             f"<h1>{html.escape(title)}</h1><p>{html.escape(_verdict(result))}</p>"]
    svg = chart(result)
    if svg:
        parts.append(svg)
    for name, header, rows in _tables(result):
        if not rows:
            parts.append(f"<h2>{html.escape(name)}</h2><p>None.</p>")
            continue
        parts.append(f"<h2>{html.escape(name)}</h2><table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr></thead><tbody>")
        parts += ["<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>" for row in rows]
        parts.append("</tbody></table>")
    parts.append("</body></html>\n")
    return "".join(parts)
