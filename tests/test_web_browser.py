"""End-to-end: the dashboard served by `soc2kit serve` (uvicorn, loopback) in a real headless Chromium.

Debian's ``chromium`` driven by Playwright for Python through ``executable_path`` (no browser is
downloaded). Skipped with the reason shown when Chromium or Playwright is missing, unless
SOC2KIT_REQUIRE_BROWSER=1 (as in CI), where that is a failure. A screenshot of each page is kept:
in $SOC2KIT_ARTIFACTS if set, else in pytest's temporary directory; the path is printed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path(os.environ.get("SOC2KIT_CHROMIUM", "/usr/lib/chromium/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
REQUIRED = os.environ.get("SOC2KIT_REQUIRE_BROWSER") == "1"


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright; no browser download is needed)"
    if not CHROMIUM.is_file():
        return f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
    return None


REASON = _missing()
if REASON and REQUIRED:
    pytest.fail(f"SOC2KIT_REQUIRE_BROWSER=1 but {REASON}", pytrace=False)
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(workspace, tmp_path):
    """`soc2kit serve` in a subprocess on a free loopback port; yields (base URL, workspace)."""
    root = workspace("llm-startup")
    port = _free_port()
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "soc2kit", "--workspace", str(root), "serve", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"soc2kit serve exited with {proc.returncode}: {log.read()}")
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            pytest.fail("soc2kit serve did not answer within 10 s")
        yield base, root
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture
def shots(tmp_path_factory):
    env = os.environ.get("SOC2KIT_ARTIFACTS")
    directory = Path(env) / "screenshots" if env else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    yield directory
    print(f"\nscreenshots of the dashboard: {directory}")


def test_overview_drill_down_upload_and_acknowledge(server, shots, tmp_path, record_property):
    from playwright.sync_api import sync_playwright

    base, root = server
    evidence = tmp_path / "access-review-2027-01.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% access review export\n%%EOF\n")
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

            page.goto(base + "/")
            assert page.locator("h1").inner_text() == "SOC 2 readiness of Quillnote AI, Inc."
            assert page.locator("#chart-categories svg").count() == 1 and page.locator("#chart-areas svg").count() == 1
            assert page.locator("link[rel=stylesheet]").evaluate("l => l.sheet.cssRules.length") > 10  # the stylesheet loaded under the CSP
            page.screenshot(path=str(shots / "01-overview.png"), full_page=True)

            page.get_by_role("link", name="Criteria", exact=True).click()
            page.wait_for_url(base + "/criteria")
            page.screenshot(path=str(shots / "02-criteria.png"), full_page=True)
            page.get_by_role("link", name="CC6.2", exact=True).click()
            page.wait_for_url(base + "/criteria/CC6.2")
            page.screenshot(path=str(shots / "03-criterion.png"), full_page=True)
            page.get_by_role("link", name="AC-05", exact=True).first.click()
            page.wait_for_url(base + "/controls/AC-05")
            assert "AC-05" in page.locator("h1").inner_text()
            assert page.get_by_text("No evidence for this control yet.").is_visible()
            page.screenshot(path=str(shots / "04-control.png"), full_page=True)

            page.set_input_files("#file", str(evidence))
            page.fill("#description", "January access review, signed")
            page.fill("#period_start", "2027-01-01")
            page.fill("#period_end", "2027-01-31")
            page.fill("#added_by", "Dana Ops")
            page.get_by_role("button", name="Store as evidence").click()
            page.wait_for_url(base + "/controls/AC-05?added=1#evidence")
            assert "Evidence 1 stored" in page.locator(".notice").inner_text()
            row = page.locator("#evidence + table tbody tr").first
            assert "access-review-2027-01.pdf" in row.inner_text() and "Dana Ops (dashboard)" in row.inner_text()
            page.screenshot(path=str(shots / "05-control-after-upload.png"), full_page=True)
            with page.expect_download() as dl:
                page.get_by_role("link", name="access-review-2027-01.pdf").click()
            assert Path(dl.value.path()).read_bytes() == evidence.read_bytes()

            page.get_by_role("link", name="Policies", exact=True).click()
            page.get_by_role("link", name="Information Security Policy").click()
            page.wait_for_url(base + "/policies/information-security")
            assert page.locator("#policy-version").inner_text() == "1.0"
            page.fill("#ack-name", "Ana Lima")
            page.fill("#ack-email", "ana@example.com")
            page.get_by_role("button", name="Acknowledge").click()
            page.wait_for_url(base + "/policies/information-security?acknowledged=1#acknowledgements")
            assert "Ana Lima" in page.locator("#acknowledgements + table").inner_text()
            page.screenshot(path=str(shots / "06-policy-acknowledged.png"), full_page=True)

            page.get_by_role("link", name="Acknowledgements", exact=True).click()
            assert "1 acknowledgement recorded" in page.locator(".lead").inner_text()
            page.screenshot(path=str(shots / "07-acknowledgements.png"), full_page=True)
            for name, shot in (("Gap report", "08-gap.png"), ("Plan", "09-plan.png"), ("Controls", "10-controls.png")):
                page.get_by_role("link", name=name, exact=True).click()
                page.wait_for_load_state()
                page.screenshot(path=str(shots / shot), full_page=True)
            before_error = list(problems)
            page.goto(base + "/controls/NOPE-1")
            assert page.locator("h1").inner_text() == "404 Not Found"
            page.screenshot(path=str(shots / "11-error.png"), full_page=True)
        finally:
            browser.close()
    record_property("screenshots", str(shots))
    assert before_error == []  # no CSP violation, no script error, no missing resource
    assert len(problems) == 1 and "404" in problems[0]  # the error page itself
    assert len(list(shots.glob("*.png"))) == 11
    from soc2kit.evidence.acknowledgements import list_acknowledgements
    from soc2kit.evidence.store import EvidenceStore
    from soc2kit.workspace import Workspace

    store = EvidenceStore.open(Workspace.open(root))
    try:
        assert [r.source_kind for r in store.list()] == ["upload", "acknowledgement"]
        assert [a.name for a in list_acknowledgements(store)] == ["Ana Lima"]
    finally:
        store.close()
