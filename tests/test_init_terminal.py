"""`soc2kit init` in a real (pseudo-)terminal: the questionnaire, an interrupt, and resuming."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

ANSWERS = [
    "Terminal Tested, Inc.", "https://tt.example", "9", "Speech analytics for call centres",
    "n", "y", "OpenAI", "speech", "n", "1", "ccpa", "", "2027-04-01", "6", "gcp",
    "Ana, CEO", "Ben, CTO", "", "Cy, ML lead", "", "", "",
]


def _controlling_terminal() -> None:
    """In the child: a new session whose controlling terminal is the pty, so Ctrl-C sends SIGINT."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


PROMPT = re.compile(rb"\[\d+/\d+\]")


def run_in_pty(args: list[str], lines: list[str], env: dict[str, str], interrupt_after: int | None = None, timeout: float = 60) -> tuple[int, str]:
    """Run a command with stdin/stdout on a pty, answering one line per questionnaire prompt."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True, preexec_fn=_controlling_terminal)
    os.close(slave)
    output = b""
    answered = 0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            elif proc.poll() is not None:
                break
            if len(PROMPT.findall(output)) > answered and output.endswith(b": "):
                if interrupt_after is not None and answered == interrupt_after:
                    os.write(master, b"\x03")  # Ctrl-C: the terminal sends SIGINT
                    interrupt_after = None
                elif answered < len(lines):
                    os.write(master, lines[answered].encode() + b"\n")
                answered += 1
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        os.close(master)
    return proc.returncode, output.decode(errors="replace")


def test_questionnaire_in_a_terminal_with_an_interrupt_and_a_resume(tmp_path):
    env = dict(os.environ, SOC2KIT_STATE_HOME=str(tmp_path / "state"), COLUMNS="120", TERM="dumb")
    target = tmp_path / "ws"
    cmd = [sys.executable, "-m", "soc2kit", "init", str(target)]
    code, out = run_in_pty(cmd, ANSWERS, env, interrupt_after=5)
    assert code == 130, out
    assert not target.exists()
    code, out = run_in_pty(cmd, ANSWERS[5:], env)
    assert code == 0, out
    assert "Resuming: 5 earlier answers kept" in out
    profile = (target / "soc2kit.yaml").read_text()
    assert "Terminal Tested, Inc." in profile and "speech" in profile and "ccpa" in profile
    assert (target / "policies" / "access-control.md").exists()
    assert not any(Path(tmp_path / "state").rglob("*.yaml"))  # saved answers are removed after success
