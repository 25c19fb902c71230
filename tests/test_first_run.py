"""Issue 31: what a new user meets first. Item 9: every check that needs no device and no
connection comes before the banner; item 8: the key hint keeps its variable name and
suggests the command that was run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tools_helpers import utterances

from voicecli.keys import redact, remember_secret


def _voicecli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voicecli", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


@pytest.mark.parametrize(
    ("extra", "code", "error"),
    [
        ((), 3, "error: no API key found"),
        (("--sim", "--thinking", "high"), 2, "takes no thinking configuration"),
        (("--sim", "--image", "IN"), 4, "is not an image"),
        (("--sim", "--screen"), 9, "cannot capture the screen"),
    ],
    ids=["no-key", "thinking", "image-is-audio", "screen-without-display"],
)
def test_errors_come_before_the_banner(
    tmp_path: Path, extra: tuple[str, ...], code: int, error: str
) -> None:
    wav = utterances(tmp_path / "in.wav", 1)
    args = [str(wav) if a == "IN" else a for a in extra]
    env = {"DISPLAY": "", "WAYLAND_DISPLAY": ""}
    out = _voicecli("talk", "-i", str(wav), "--no-history", *args, env=env)
    assert out.returncode == code, out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and error in lines[0], out.stderr  # no banner, no tools line
    assert out.stdout == ""


def test_say_without_a_key_says_so_first_and_suggests_say_sim() -> None:
    out = _voicecli("say", "hello")
    assert out.returncode == 3, out.stderr
    (line,) = out.stderr.splitlines()
    assert "`voicecli say --sim`" in line


def test_the_key_hint_keeps_its_variable_name(tmp_path: Path) -> None:
    out = _voicecli("talk", "-i", str(utterances(tmp_path / "in.wav", 1)))
    assert "export GEMINI_API_KEY=... or run" in out.stderr
    remember_secret("AIzaSECRETSECRET")
    assert redact("export GEMINI_API_KEY=... or") == "export GEMINI_API_KEY=... or"
    assert redact("GEMINI_API_KEY=AIzaSECRETSECRET") == "GEMINI_API_KEY=***"
    assert redact("api_key=abcdefghij") == "api_key=***"  # a key no one registered
