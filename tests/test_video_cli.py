"""Issue 15 through the command line: sharing flags, typed /look /unshare /stats, one-line
errors with their exit codes, what the history keeps (counts, never pictures)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli_errors import assert_one_line_error, run_cli
from video_helpers import (
    ColourWindow,
    make_image,
    make_video,
    needs_cv2,
    needs_tk,
    needs_xvfb,
    xvfb,
)

from voicecli.audio import synth
from voicecli.errors import ExitCode
from voicecli.video.sources import CameraSource, window_box

SCENARIO = """
voice = "tone"
latency_ms = 50
realtime = 0
default_reply = "frames {frames} colour {colour}"
"""


@pytest.fixture
def args(tmp_path: Path) -> list[str]:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(SCENARIO)
    wav = tmp_path / "in.wav"
    synth.make_utterances_wav(wav, [(0.4, 0.4)])
    return ["talk", "--sim", "--scenario", str(scenario), "--input", str(wav)]


def test_image_flag_json_summary_and_history(args: list[str], tmp_path: Path) -> None:
    red = make_image(tmp_path / "red.png", (220, 20, 20))
    home = tmp_path / "home"
    proc = run_cli(*args, "--fast", "--image", str(red), "--json", env={"VOICECLI_HOME": str(home)})
    assert proc.returncode == 0, proc.stderr
    assert "sharing image red.png" in proc.stderr  # said before anything is sent
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    turns = [r for r in records if r["type"] == "turn"]
    assert turns[0]["model_text"] == "frames 1 colour red"
    end = next(r for r in records if r["type"] == "session_end")
    assert end["images_sent"] == 1 and end["video_bytes"] > 0
    db = sqlite3.connect(home / "history.sqlite3")
    (summary,) = db.execute("SELECT summary FROM sessions").fetchone()
    assert json.loads(summary)["images_sent"] == 1
    blob = (home / "history.sqlite3").read_bytes()
    assert b"\xff\xd8\xff" not in blob  # no JPEG in the history without --record-video


def test_typed_look_stats_unshare(args: list[str], tmp_path: Path) -> None:
    blue = make_image(tmp_path / "blue.png", (20, 20, 230))
    log = tmp_path / "app.log"
    log.write_text("starting\n")
    proc = subprocess.run(
        [sys.executable, "-m", "voicecli", *args, "--watch-file", str(log), "--no-history"],
        input=f"/look {blue}\n/stats\n/unshare\n/unshare\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    assert "sent blue.png" in out
    assert "sharing: watch " in out and "1 images" in out  # /stats
    assert "stopped sharing" in out
    assert "nothing is shared" in out  # the second /unshare


@needs_cv2
def test_sharing_errors_are_one_line(args: list[str], tmp_path: Path) -> None:
    env = {"DISPLAY": ""}
    assert_one_line_error(run_cli(*args, "--screen", env=env), ExitCode.DEVICE, "screen")
    assert_one_line_error(run_cli(*args, "--screen", "--fps", "50"), ExitCode.USAGE, "--fps")
    not_video = tmp_path / "x.avi"
    not_video.write_text("not a video")
    assert_one_line_error(run_cli(*args, "--video", str(not_video)), ExitCode.AUDIO, "video")


@needs_cv2
def test_camera_device_may_be_a_path(tmp_path: Path) -> None:
    clip = tmp_path / "cam.avi"
    make_video(clip, [(20, 200, 20)], seconds_each=0.5)
    cam = CameraSource(str(clip))
    cam.open()
    picture = cam.grab(0.0)
    cam.close()
    assert picture is not None and picture.image.size == (160, 120)
    assert picture.image.getpixel((80, 60))[1] > 150  # green, in RGB order


@needs_xvfb
@needs_tk
def test_screen_window_is_found_by_title(monkeypatch: pytest.MonkeyPatch) -> None:
    with xvfb(800, 600) as display:
        monkeypatch.setenv("DISPLAY", display)
        window = ColourWindow(display, "green")
        try:
            box = window_box("voicecli colour window")
        finally:
            window.close()
    assert (box["width"], box["height"]) == (800, 600)
