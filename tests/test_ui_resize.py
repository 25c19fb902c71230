"""The live view in a real terminal (tmux) that is resized from 120 to 70 columns: the status
line stays one row and no stale line of the old, wider drawing stays behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

SCRIPT = """
import time
from voicecli.live import events as ev
from voicecli.ui.live_view import LiveView
view = LiveView(connection_limit_s=600)
view.start()
view.set_input("")
view.on_event(ev.UserSpeechStarted(), 0.1)
view.on_event(ev.InputTranscript("what the user is saying right now, at some length"), 0.2)
view.on_event(ev.Usage(1000, 2000, 123456), 0.3)
open("drawn", "w").close()
while not __import__("os").path.exists("resized"):
    time.sleep(0.05)
time.sleep(2.5)  # a few redraws at the new width
view.on_event(ev.TurnEnded(1, "spoken", "hello there", "general kenobi", 1.0, 0.3), 3.0)
time.sleep(1.5)
print("MARK-END", flush=True)
time.sleep(60)
"""


def _tmux(sock: str, *args: str) -> str:
    done = subprocess.run(["tmux", "-L", sock, *args], capture_output=True, text=True, check=True)
    return done.stdout


def _wait(path: Path, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)


def test_resize_leaves_no_stale_line(tmp_path: Path) -> None:
    (tmp_path / "show.py").write_text(SCRIPT)
    sock, name = f"voicecli-test-{uuid.uuid4().hex[:8]}", "resize"
    root = Path(__file__).resolve().parent.parent
    cmd = f"cd {tmp_path} && PYTHONPATH={root} {sys.executable} show.py"
    env = {**os.environ, "TERM": "xterm-256color"}
    subprocess.run(
        ["tmux", "-L", sock, "-f", "/dev/null", "new-session", "-d", "-s", name,
         "-x", "120", "-y", "20", cmd],
        check=True, env=env,
    )  # fmt: skip
    try:
        _wait(tmp_path / "drawn")
        time.sleep(0.5)
        wide = _tmux(sock, "capture-pane", "-p", "-t", name)
        assert "123,456 tokens" in wide
        _tmux(sock, "resize-window", "-t", name, "-x", "70")
        (tmp_path / "resized").touch()
        time.sleep(2.0)
        narrow = [ln for ln in _tmux(sock, "capture-pane", "-p", "-t", name).splitlines() if ln]
        status = [ln for ln in narrow if "│" in ln]
        assert len(status) == 1, narrow  # one status row: no stale copy from 120 columns
        assert len(status[0]) <= 70 and status[0].rstrip().endswith(("tokens", "…")), narrow
        assert sum("you:" in ln for ln in narrow) == 1, narrow
        deadline = time.monotonic() + 20
        while "MARK-END" not in (screen := _tmux(sock, "capture-pane", "-p", "-t", name)):
            assert time.monotonic() < deadline, screen
            time.sleep(0.1)
        rows = [ln for ln in screen.splitlines() if ln]
        assert sum("│" in ln for ln in rows) == 1 and sum("you:" in ln for ln in rows) == 1, rows
        assert not any(ln.strip() == "tokens" for ln in rows), rows
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)
