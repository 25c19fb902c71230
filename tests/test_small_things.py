"""Issue 31, item 14: the small things a new user trips on."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tools_helpers import utterances

from voicecli.continuation import Plan, SeedTurn
from voicecli.live.stats import Summary
from voicecli.ui.status import SessionStatus
from voicecli.ui.status_line import status_line
from voicecli.ui.summary import media_summary


def test_one_image_one_frame() -> None:
    s = Summary()
    s.frames_sent, s.images_sent, s.watched_lines = 1, 1, 1
    text = media_summary(s)
    assert "1 frame sent" in text and "1 image" in text and "1 watched line" in text
    assert "1 images" not in text and "1 frames" not in text


def test_a_one_turn_session_seeds_one_turn() -> None:
    plan = Plan(1, 1, None, seed=[SeedTurn("user", "hi"), SeedTurn("model", "hello")])
    assert plan.seeded_note() == "1 earlier turn seeded"


def test_status_line_at_60_columns_keeps_the_clock_whole() -> None:
    s = SessionStatus(connection_limit_s=900.0)
    s.set_level(-20.0)
    for width in (60, 80, 120):
        line = status_line(s, 595.0, width).plain
        assert len(line) <= width, (width, line)
        assert "…" not in line
        assert re.search(r"09:55( |$)", line), (width, line)


def test_the_meter_falls_slowly_between_words() -> None:
    s = SessionStatus()
    s.set_level(-28.0, now=10.0)
    s.set_level(-120.0, now=10.06)  # a gap between words, 60 ms later
    assert s.level_dbfs > -35.0
    s.set_level(-120.0, now=13.0)  # silence for a while: the meter does reach the floor
    assert s.level_dbfs <= -90.0


def test_a_run_refused_for_no_key_leaves_no_history(tmp_path: Path) -> None:
    wav = utterances(tmp_path / "in.wav", 1)
    run = [sys.executable, "-m", "voicecli"]
    refused = subprocess.run([*run, "talk", "-i", str(wav)], capture_output=True, text=True)
    assert refused.returncode == 3
    listed = subprocess.run([*run, "history"], capture_output=True, text=True)
    assert "auth!" not in listed.stdout and "no conversations stored yet" in listed.stdout
