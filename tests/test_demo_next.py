"""Issue 31, item 15: ``make demo`` shows pip's progress, plays the replies when it can (and
says so when it cannot), and ends with what to try next."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_demo_ends_with_next_steps_and_says_when_it_cannot_play(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "voicecli", "demo", "--out-dir", str(tmp_path / "out")],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=180,
        env={**os.environ, "VOICECLI_OUTPUT_DEVICE": "no-such-speaker-here"},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    tail = out.stdout.splitlines()[-4:]
    assert tail[0] == "next:"
    assert [line.split("  ")[1].strip() for line in tail[1:]] == [
        "voicecli talk --sim", "voicecli devices --test", "voicecli key set",
    ]  # fmt: skip
    assert "not playing the replies" in out.stderr


def test_make_venv_shows_pips_progress() -> None:
    makefile = (ROOT / "Makefile").read_text()
    installs = [ln for ln in makefile.splitlines() if "$(BIN)/pip install" in ln and " -e " in ln]
    assert installs and not any(re.search(r"\s-q\b", ln) for ln in installs)  # make demo
