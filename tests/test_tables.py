"""Issue 31, item 2: tables a user reads at any width. A name typed back (model id, voice,
history id, device) is never broken across lines; at narrow widths, less important columns
are left out instead; headers line up with their rows. Run on a pseudo-terminal of 60, 80
and 120 columns, as a new user's terminal."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pty_helpers import Term
from tools_helpers import utterances

from voicecli.audio.device_choice import DeviceInfo
from voicecli.live import capabilities
from voicecli.speech.voices import voices
from voicecli.ui import devices_view
from voicecli.ui.tables import plain_columns

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
WIDTHS = (60, 80, 120)


def _lines(screen: str) -> list[str]:
    return [line for line in screen.splitlines() if line.strip()]


@pytest.mark.parametrize("columns", WIDTHS)
def test_models_ids_are_never_broken(columns: int) -> None:
    code, screen = Term(["models"], columns=columns).run()
    assert code == 0, screen
    lines = _lines(screen)
    for m in capabilities.all_models():
        assert any(re.match(rf"{re.escape(m.name)}\b", line) for line in lines), (m.name, screen)
    assert max(len(line) for line in lines) <= columns, screen
    assert lines[0].startswith("model ")


@pytest.mark.parametrize("columns", WIDTHS)
def test_voices_names_are_whole_and_lines_fit(columns: int) -> None:
    code, screen = Term(["voices"], columns=columns).run()
    assert code == 0, screen
    lines = _lines(screen)
    starts = {line.split()[0] for line in lines[1:]}
    assert set(voices()) <= starts, screen
    assert max(len(line) for line in lines) <= columns, screen


@pytest.fixture(scope="module")
def home_with_a_session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    wav = utterances(home / "in.wav", 1)
    env = {**os.environ, "VOICECLI_HOME": str(home)}
    subprocess.run(
        [sys.executable, "-m", "voicecli", "talk", "--sim", "--fast", "-i", str(wav)],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    return home


@pytest.mark.parametrize("columns", WIDTHS)
def test_history_list_fits_and_keeps_ids_and_models(
    columns: int, home_with_a_session: Path
) -> None:
    env = {**os.environ, "VOICECLI_HOME": str(home_with_a_session)}
    code, screen = Term(["history"], columns=columns, env=env).run()
    assert code == 0, screen
    lines = _lines(screen)
    head, row = lines[0], lines[1]
    assert max(len(line) for line in lines) <= columns, screen
    assert re.match(r"\s*1\s", row) and capabilities.DEFAULT_MODEL in row, screen
    assert head.index("model") == row.index(capabilities.DEFAULT_MODEL)


@pytest.mark.parametrize("columns", WIDTHS)
def test_devices_header_lines_up(columns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    found = [
        DeviceInfo(0, "HDA Intel PCH: ALC3246 Analog (hw:0,0)", "ALSA", 2, 2, 48000.0),
        DeviceInfo(12, "default", "ALSA", 32, 32, 44100.0, True, True),
    ]
    out = io.StringIO()
    monkeypatch.setattr(devices_view, "terminal_width", lambda out=None: columns, raising=False)
    monkeypatch.setattr("voicecli.ui.tables.terminal_width", lambda out=None: columns)
    devices_view.print_devices(found, out)
    head, first, second, *_ = out.getvalue().splitlines()
    assert head.index("#") == first.index("0") == second.index("2")  # right-aligned index
    assert head.index("name") == first.index("HDA") == second.index("default")
    assert max(len(line) for line in (head, first, second)) <= columns


def test_piped_tables_are_whole() -> None:
    lines = plain_columns(("voice", "sounds"), [("Zephyr", "Bright " * 30)])
    assert lines[1].endswith("Bright")  # nothing shortened without a terminal width
