"""CLI contract: listings with stable JSON, exit codes, no tracebacks for user errors."""

from __future__ import annotations

import json
import subprocess
import sys

from soc2kit.library import load_catalog


def test_controls_json_has_the_documented_shape(cli):
    r = cli("controls", "--format", "json")
    assert r.code == 0
    data = json.loads(r.out)
    assert len(data["controls"]) == len(load_catalog().controls)
    for c in data["controls"]:
        assert {"id", "title", "criteria", "crosswalk", "frequency", "owner", "ai_specific", "policies", "applies_when"} <= set(c)
        assert {"iso42001", "nist_ai_rmf"} <= set(c["crosswalk"])
    ac05 = next(c for c in data["controls"] if c["id"] == "AC-05")
    assert "access-control" in ac05["policies"] and ac05["frequency"] == "quarterly"


def test_controls_inside_a_workspace_show_applicability_and_rendered_statements(cli, workspace):
    root = workspace("llm-startup")
    data = json.loads(cli("-w", root, "controls", "--format", "json").out)
    by_id = {c["id"]: c for c in data["controls"]}
    assert by_id["TRD-01"]["applicable"] is False and "ai.trains_models" in by_id["TRD-01"]["not_applicable_reason"]
    assert by_id["AC-05"]["applicable"] is True and "{{" not in by_id["AC-05"]["statement"]
    r = cli("-w", root, "controls", "--ai")
    assert r.code == 0 and "MDL-07" in r.out and "GOV-01" not in r.out


def test_criteria_listing_covers_all_61_and_marks_scope(cli, workspace):
    data = json.loads(cli("criteria", "--format", "json").out)
    assert data["count"] == 61 and all(c["controls"] for c in data["criteria"])
    root = workspace("llm-startup")
    data = json.loads(cli("-w", root, "criteria", "--format", "json").out)
    scope = {c["id"]: c["in_scope"] for c in data["criteria"]}
    assert scope["CC6.1"] and scope["C1.1"] and not scope["P1.1"] and not scope["A1.1"]
    r = cli("-w", root, "criteria")
    assert r.code == 0 and "CC6.1" in r.out


def test_policies_listing_reads_the_workspace_documents(cli, workspace):
    root = workspace("healthtech")
    data = json.loads(cli("-w", root, "policies", "--format", "json").out)
    ids = {p["id"] for p in data["policies"]}
    assert {"information-security", "access-control", "data-management", "incident-response", "vendor-management"} <= ids
    ac = next(p for p in data["policies"] if p["id"] == "access-control")
    assert ac["version"] == "1.0" and ac["status"] == "draft" and "AC-05" in ac["controls"]
    assert cli("policies").code == 0  # outside a workspace: the bundled templates


def test_examples_lists_the_bundled_profiles(cli):
    r = cli("examples")
    assert r.code == 0
    for name in ("llm-startup", "healthtech", "genai-platform"):
        assert name in r.out


def test_usage_errors_exit_2(cli):
    r = cli("controls", "--format", "yaml")
    assert r.code == 2
    r = cli("no-such-command")
    assert r.code == 2


def test_a_bug_exits_70_with_its_traceback(cli, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("soc2kit.cli.listing.load_catalog", boom)
    r = cli("controls")
    assert r.code == 70
    assert "Traceback" in r.err and "simulated bug" in r.err and "internal error" in r.err


def test_module_entry_point_and_version():
    r = subprocess.run([sys.executable, "-m", "soc2kit", "--version"], capture_output=True, text=True, check=False)
    assert r.returncode == 0 and r.stdout.startswith("soc2kit ")


def test_user_error_in_a_real_process_has_no_traceback(tmp_path):
    r = subprocess.run([sys.executable, "-m", "soc2kit", "init", str(tmp_path / "x"), "--example", "nope"], capture_output=True, text=True, check=False)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and r.stderr.startswith("error: unknown example 'nope'")
