"""Readable reports of check results: Markdown (with an SVG chart beside it) or a standalone HTML
page. Every value from the data is escaped (group names come from the company's data)."""

from __future__ import annotations

import html
from typing import Any

from soc2kit.assess import charts
from soc2kit.render.environment import escape_markdown

TITLES = {"ai.bias": "Bias check", "ai.drift": "Drift check", "ai.performance": "Performance check"}


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
    rows = [[k, v["baseline"], v["current"], v["change"], v["degraded"]] for k, v in result["metrics"].items()]
    return [("Metrics", ["Metric", "Baseline", "Current", "Change", "Degraded"], rows)]


def chart(result: dict[str, Any]) -> str | None:
    if result["check"] == "ai.bias":
        items = [(k, g["selection_rate"]) for k, g in result["by_group"].items()][:40]
        return charts.readiness_bars(items, "Selection rate by group")
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
        parts.append(f"<h2>{html.escape(name)}</h2><table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr></thead><tbody>")
        parts += ["<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>" for row in rows]
        parts.append("</tbody></table>")
    parts.append("</body></html>\n")
    return "".join(parts)
