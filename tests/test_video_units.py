"""Issue 15, the pure parts: change detection, scaling, watched-output batching, tail -F,
flag parsing, /look and /unshare parsing, the simulator's picture bookkeeping."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import numpy as np
import pytest
from video_helpers import make_image

from voicecli.errors import UsageError
from voicecli.sim.vision import Vision, colour_name
from voicecli.ui.commands import Cmd, parse
from voicecli.video.frames import (
    ChangeDetector,
    Picture,
    encode_jpeg,
    load_image,
    scaled_size,
)
from voicecli.video.options import fill_optional_values
from voicecli.video.spec import build_spec
from voicecli.video.watch import Batcher, FileFollower, WatchParams, clean_line, parse_command


def screen(h: int = 480, w: int = 640, value: int = 40) -> np.ndarray:
    return np.full((h, w, 3), value, np.uint8)


def pic(a: np.ndarray) -> Picture:
    return Picture.from_rgb(a)


def test_change_detector_sends_first_and_changed_pictures_only() -> None:
    det = ChangeDetector()
    a = screen()
    assert det.changed(pic(a)) is True  # the first picture
    assert det.changed(pic(a.copy())) is False  # identical: settled by the byte compare
    assert det.exact_checks == 1
    noisy = a.copy()
    noisy[::7, ::5] += 3  # sensor-like noise below the threshold
    assert det.changed(pic(noisy)) is False
    cursor = a.copy()
    cursor[100:116, 50:52] = 255  # a blinking cursor: 2x16 px
    assert det.changed(pic(cursor)) is False
    word = a.copy()
    for k in range(6):  # six typed characters, 1-px strokes
        word[200:216, 300 + 9 * k] = 255
        word[208, 300 + 9 * k : 306 + 9 * k] = 255
    assert det.changed(pic(word)) is True
    assert det.changed(pic(word)) is False
    assert det.changed(pic(screen(240, 320))) is True  # a new size
    det.reset()
    assert det.changed(pic(screen(240, 320))) is True


def test_small_changes_add_up() -> None:
    det = ChangeDetector()
    a = screen()
    det.changed(pic(a))
    sent = []
    for k in range(12):  # one character more each time, compared with the last one sent
        a = a.copy()
        a[200:216, 100 + 9 * k] = 255
        sent.append(det.changed(pic(a)))
    assert sent[0] is False  # one character alone is not worth a picture
    assert 2 <= sent.count(True) <= 5  # a few together are


def test_scaling_keeps_the_aspect_and_the_long_side_limit() -> None:
    assert scaled_size(1920, 1080, 1024) == (1024, 576)
    assert scaled_size(1080, 1920, 1024) == (576, 1024)
    assert scaled_size(800, 600, 1024) == (800, 600)
    jpeg = encode_jpeg(screen(1080, 1920), 1024)
    assert jpeg[:2] == b"\xff\xd8"
    assert load_image(jpeg).shape == (576, 1024, 3)


def test_clean_line_strips_ansi_and_progress_overwrites() -> None:
    assert clean_line("\x1b[1;31mFAILED\x1b[0m test_a\n") == "FAILED test_a"
    assert clean_line("\x1b]0;title\x07done") == "done"
    assert clean_line(" 10%\r 50%\r100% done\r\n") == "100% done"
    assert clean_line("bell\x07 and\x00 nul") == "bell and nul"


def test_batcher_rate_size_and_budget() -> None:
    b = Batcher(WatchParams(interval_s=2.0, max_chars=50, budget_chars_per_min=120))
    for k in range(10):
        b.add(f"line {k:02d} xxxxxxxxxx")  # 18 chars + newline
    first = b.take(0.0)
    assert first is not None and first[1] == 2 and first[0].startswith("line 00")
    assert b.take(1.0) is None  # rate: one message per 2 s
    assert b.take(2.0) is not None
    assert b.take(4.0) is not None
    assert b.take(6.0) is None  # 120 chars a minute are spent
    assert b.take(61.0) is not None  # the minute has passed
    assert b.lines_sent == 8


def test_batcher_bounds_its_backlog_and_reports_drops() -> None:
    b = Batcher(WatchParams(interval_s=0.0, max_chars=40, budget_chars_per_min=10_000))
    for _ in range(100):
        b.add("y" * 19)
    assert b.lines_dropped > 0
    texts = []
    t = 0.0
    while (got := b.take(t)) is not None:
        texts.append(got[0])
        t += 1
    assert any("lines not sent" in x for x in texts)


def test_file_follower_is_tail_dash_capital_f(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    f = FileFollower(log, tail_lines=2)
    assert f.poll() == []  # not there yet: waited for
    log.write_text("a\nb\nc\npartial")
    assert f.poll() == ["b", "c"]  # the last lines first; a partial line waits
    with log.open("a") as fh:
        fh.write(" end\nd\n")
    assert f.poll() == ["partial end", "d"]
    log.write_text("x\n")  # truncated (smaller): read again from the start
    assert f.poll() == ["x"]
    os.rename(log, tmp_path / "app.log.1")  # rotated: the new file is read from its start
    log.write_text("new 1\nnew 2\n")
    assert f.poll() == ["new 1", "new 2"]
    f.close()


def test_watch_command_is_split_like_argv_not_run_by_a_shell() -> None:
    assert parse_command("pytest -x 'tests/a b.py'") == ["pytest", "-x", "tests/a b.py"]
    with pytest.raises(UsageError):
        parse_command("")
    with pytest.raises(UsageError, match="cannot parse"):
        parse_command("echo 'unclosed")


def test_optional_flag_values() -> None:
    assert fill_optional_values(["talk", "--screen"]) == ["talk", "--screen", "1"]
    assert fill_optional_values(["talk", "--screen", "--sim"]) == ["talk", "--screen", "1", "--sim"]
    assert fill_optional_values(["talk", "--screen", "2"]) == ["talk", "--screen", "2"]
    assert fill_optional_values(["--camera", "-i", "x"]) == ["--camera", "0", "-i", "x"]
    assert fill_optional_values(["say", "--", "--screen"]) == ["say", "--", "--screen"]


def test_spec_checks(tmp_path: Path) -> None:
    assert build_spec().anything is False  # privacy: nothing unless asked
    assert build_spec(screen="2").screen == 2
    assert build_spec(screen_region="0,0,100,50").screen == 1
    with pytest.raises(UsageError, match="monitor number"):
        build_spec(screen="left")
    with pytest.raises(UsageError, match="fps"):
        build_spec(screen="1", fps=30)
    with pytest.raises(UsageError, match="not found"):
        build_spec(images=[tmp_path / "missing.png"])
    taken = make_image(tmp_path / "taken.png", (1, 2, 3))
    with pytest.raises(UsageError, match="does not overwrite"):
        build_spec(screen="1", record_video=taken)
    with pytest.raises(UsageError, match="needs something to share"):
        build_spec(record_video=tmp_path / "new.zip")


def test_look_and_unshare_commands() -> None:
    assert parse("/look") == parse("/look ")
    assert parse("/look").kind is Cmd.LOOK and parse("/look").arg == ""
    assert parse("/look camera").arg == "camera"
    assert parse("/unshare").kind is Cmd.UNSHARE
    assert parse("/unshare now").kind is Cmd.UNKNOWN


def test_sim_vision_counts_decodes_and_fills(tmp_path: Path) -> None:
    v = Vision()
    jpeg = encode_jpeg(np.full((20, 30, 3), (20, 30, 220), np.uint8))
    blob = {"mimeType": "image/jpeg", "data": base64.b64encode(jpeg).decode()}
    assert v.video(blob) is None
    assert v.video({"mimeType": "video/mp4", "data": ""}) is not None  # not a picture
    assert v.video({"mimeType": "image/png", "data": base64.b64encode(b"junk").decode()})
    v.context({"turns": [{"role": "user", "parts": [{"text": "[new output]\nok\nlast one"}]}]})
    assert v.fill("{frames} {colour} {watched}") == "1 blue last one"
    assert colour_name((250, 250, 250)) == "white"


def test_media_resolution_setting_is_checked() -> None:
    from voicecli.config import ConfigError, Settings

    assert Settings().with_overrides(media_resolution="high").media_resolution == "high"
    with pytest.raises(ConfigError, match="media_resolution"):
        Settings().with_overrides(media_resolution="ultra")
