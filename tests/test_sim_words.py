"""Issue 31, item 6: with the simulator, the 'you' lines are its scenario's script, not what
was said; every view says so before the first of them (live view on a pty, plain, JSON)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pty_helpers import Term
from tools_helpers import utterances

NOTE = "the simulator recognises no speech"


@pytest.mark.parametrize("mode", ["plain", "json"])
def test_piped_views_say_the_words_are_scripted(tmp_path: Path, mode: str) -> None:
    wav = utterances(tmp_path / "in.wav", 1)
    extra = ["--json"] if mode == "json" else []
    out = subprocess.run(
        [sys.executable, "-m", "voicecli", "talk", "--sim", "--fast", "--no-history",
         "-i", str(wav), *extra],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert NOTE in out.stderr


def test_live_view_says_the_words_are_scripted(tmp_path: Path) -> None:
    wav = utterances(tmp_path / "in.wav", 1)
    args = ["talk", "--sim", "--fast", "--no-history", "-i", str(wav)]
    code, screen = Term(args, columns=80).run()
    assert code == 0, screen[-2000:]
    assert NOTE in screen.replace("\n", " ")
    assert screen.index("recognises no speech") < screen.index("you:")
