"""Issue 31, item 12: Ctrl-C in the middle of a reply keeps what was said, marked as cut
off, in the live view (on a pseudo-terminal), in piped output and in the history."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pty_helpers import Term, plain
from tools_helpers import utterances

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")

SCENARIO = """
voice = "tone"
latency_ms = 50
[[turns]]
heard = "tell me"
reply = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima"
duration_s = 8.0
"""


def _args(tmp_path: Path) -> list[str]:
    (tmp_path / "scen.toml").write_text(SCENARIO)
    wav = utterances(tmp_path / "in.wav", 1)
    return ["talk", "--sim", "--scenario", str(tmp_path / "scen.toml"), "-i", str(wav)]


def _history_show() -> str:
    out = subprocess.run(
        [sys.executable, "-m", "voicecli", "history", "show", "1"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.parametrize("columns", [60, 120])
def test_ctrl_c_mid_reply_keeps_it_in_the_view_and_history(tmp_path: Path, columns: int) -> None:
    term = Term(_args(tmp_path), columns=columns)
    term.expect("charlie")  # the reply is under way
    os.kill(term.proc.pid, signal.SIGINT)
    code, screen = term.run()
    assert code == 0, screen[-2000:]
    assert "✂ cut off" in screen, screen[-2000:]
    kept = [line for line in screen.splitlines() if "gemini:" in line and "alpha" in line]
    assert kept, screen[-2000:]
    shown = _history_show()
    assert "gemini: alpha bravo charlie" in shown and "[cut off]" in shown, shown


def test_ctrl_c_mid_reply_piped(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "voicecli", *_args(tmp_path), "--no-history"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None
    seen = b""
    deadline = time.monotonic() + 60
    while b"charlie" not in seen and time.monotonic() < deadline:
        seen += os.read(proc.stdout.fileno(), 4096)
    proc.send_signal(signal.SIGINT)
    seen += proc.stdout.read()
    assert proc.wait(30) == 0
    text = plain(seen.decode())
    assert "gemini: alpha bravo charlie" in text and "[cut off]" in text, text
