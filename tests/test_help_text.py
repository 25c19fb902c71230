"""Issue 31, item 4: help a new user can read at 60, 80 and 120 columns, on a pseudo-terminal:
flag names whole, arguments as plain words, a folder labelled DIR, defaults written one way,
no "Options" panel holding only --help."""

from __future__ import annotations

import re
import sys

import pytest
from pty_helpers import Term

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
WIDTHS = (60, 80, 120)
TALK_FLAGS = ("--vad-aggressiveness", "--turn-detection", "--no-audio-history", "--output-device",
              "--no-affective", "--no-proactive", "--watch-file", "--base-url")  # fmt: skip


def _help(*args: str, columns: int) -> str:
    code, screen = Term([*args, "--help"], columns=columns).run()
    assert code == 0, screen
    return screen


@pytest.mark.parametrize("columns", WIDTHS)
def test_talk_flags_are_never_cut(columns: int) -> None:
    text = _help("talk", columns=columns)
    for flag in TALK_FLAGS:
        assert re.search(rf"{flag}\b(?!…)", text), (flag, text)
    assert not re.search(r"--[\w-]*…", text), text
    assert max(len(line) for line in text.splitlines()) <= columns


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("command", ["talk", "listen"])
def test_no_options_panel_with_only_help(columns: int, command: str) -> None:
    text = _help(command, columns=columns)
    assert "─ Options ─" not in text and "\nOptions:" not in text, text
    assert "--help" in text


@pytest.mark.parametrize("columns", WIDTHS)
def test_arguments_are_plain_words(columns: int) -> None:
    assert "SESSION_ID" in _help("history", "show", columns=columns)
    for args in (("history", "show"), ("overview",), ("history", "search")):
        usage = _help(*args, columns=columns).split("Usage:", 1)[1].splitlines()[0]
        assert "{" not in usage and "}" not in usage, usage


@pytest.mark.parametrize("columns", (80, 120))
def test_cert_dir_is_a_dir_and_defaults_read_one_way(columns: int) -> None:
    text = _help("sim", columns=columns)
    assert re.search(r"--cert-dir +DIR", text), text
    assert "[default:" not in text and "(default: 9443)" in text
    assert "[default:" not in _help("history", columns=columns)
