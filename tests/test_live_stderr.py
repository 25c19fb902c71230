"""Issue 31, item 1: native output on stderr never lands over the live view.

ALSA writes ``ALSA lib pcm.c:8570:(snd_pcm_recover) underrun occurred`` to file descriptor
2 from C. Here a thread of the voicecli process does the same (``os.write(2, ...)``, no
Python stream involved) while a ``talk --sim`` live view runs on a pseudo-terminal: the
underruns are counted and said once at the end, the other line is a dim notice in the view.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest
from pty_helpers import Term
from tools_helpers import utterances

from voicecli.ui.stderr_capture import StderrCapture, is_underrun

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")

UNDERRUN = "ALSA lib pcm.c:8570:(snd_pcm_recover) underrun occurred"

WRAPPER = """
import os, sys, threading, time
from voicecli.ui import live_view

start = live_view.LiveView.start

def noisy_start(self, **kw):
    view = start(self, **kw)
    def write():
        time.sleep(0.5)
        for _ in range(3):
            os.write(2, b"%s\\n")
            time.sleep(0.05)
        os.write(2, b"ALSA lib conf.c:5204:(snd_config_expand) Unknown parameter x\\n")
    threading.Thread(target=write, daemon=True).start()
    return view

live_view.LiveView.start = noisy_start
from voicecli.cli import main
sys.exit(main(sys.argv[1:]))
""" % UNDERRUN.encode()  # noqa: UP031

SCENARIO = """
voice = "tone"
latency_ms = 50
[[turns]]
heard = "hello"
reply = "a reply that takes a while"
duration_s = 2.0
"""


def test_alsa_lines_are_counted_not_printed_over_the_view(tmp_path: Path) -> None:
    (tmp_path / "scen.toml").write_text(SCENARIO)
    wav = utterances(tmp_path / "in.wav", 1)
    args = ["talk", "--sim", "--scenario", str(tmp_path / "scen.toml"), "-i", str(wav)]
    term = Term([], argv=[sys.executable, "-c", WRAPPER, *args, "--no-history"], columns=80)
    code, screen = term.run()
    assert code == 0, screen[-3000:]
    assert "underrun occurred" not in screen, screen[-3000:]
    assert "reported 3 underruns" in screen, screen[-3000:]
    assert "· stderr: ALSA lib conf.c:5204:(snd_config_expand) Unknown parameter x" in screen


def test_capture_hands_over_lines_and_gives_fd2_back(tmp_path: Path) -> None:
    lines: list[str] = []
    saved = os.dup(2)
    log = os.open(tmp_path / "err.txt", os.O_WRONLY | os.O_CREAT)
    os.dup2(log, 2)  # a stand-in for the terminal
    try:
        with StderrCapture(lines.append):
            os.write(2, b"\x1b[31mred\x1b[0m one\nsecond line without end")
            time.sleep(0.05)
        os.write(2, b"after\n")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(log)
    assert lines == ["red one", "second line without end"]
    assert (tmp_path / "err.txt").read_text() == "after\n"
    assert threading.active_count() >= 1


def test_underrun_lines_are_recognised() -> None:
    assert is_underrun(UNDERRUN)
    assert not is_underrun("ALSA lib conf.c:5204:(snd_config_expand) Unknown parameter x")
