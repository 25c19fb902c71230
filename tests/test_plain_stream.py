"""Issue 31, item 13: piped output. Tool calls are readable lines on stdout in the order
things happened (after the line that caused them); the model's words stream as they come;
``printf 'q\\n' | voicecli talk --sim`` without a microphone ends with its input."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tools_helpers import utterances

SCENARIO = """
voice = "tone"
latency_ms = 50
[[turns]]
heard = "what is two plus two"
reply = "{result}"
duration_s = 0.5
tool_calls = [{ name = "calculate", args = { expression = "2+2" } }]
[[turns]]
heard = "thanks"
reply = "You are welcome, any time at all, really."
duration_s = 2.5
"""


def _talk(tmp_path: Path, *more: str) -> list[str]:
    (tmp_path / "scen.toml").write_text(SCENARIO)
    wav = utterances(tmp_path / "in.wav", 2)
    return [sys.executable, "-m", "voicecli", "talk", "--sim", "--no-history",
            "--scenario", str(tmp_path / "scen.toml"), "-i", str(wav), *more]  # fmt: skip


def test_tool_calls_are_readable_lines_in_order(tmp_path: Path) -> None:
    out = subprocess.run(
        _talk(tmp_path, "--fast"), capture_output=True, text=True, stdin=subprocess.DEVNULL,
        timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    kinds = [line.split("] ", 1)[1].split(" ")[0:2] for line in lines]
    assert kinds[:4] == [
        ["you:", "what"],
        ["tool", "call"],
        ["tool", "result"],
        ["gemini:", '{"expression":'],
    ]
    assert lines[1].endswith('tool call calculate(expression="2+2")')
    assert lines[2].endswith('tool result calculate: {"expression": "2+2", "result": 4}')
    assert "tool call" not in out.stderr


def test_the_reply_streams_as_it_comes(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        _talk(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None
    seen, first_words, line_end = b"", None, None
    while True:
        data = os.read(proc.stdout.fileno(), 4096)
        if not data:
            break
        seen += data
        if first_words is None and b"gemini: You" in seen:
            first_words = time.monotonic()
        if first_words is not None and seen.rstrip().endswith(b"ms)"):
            line_end = time.monotonic()
    assert proc.wait(60) == 0
    assert first_words is not None and line_end is not None, seen
    assert line_end - first_words > 1.0  # the words came before the turn ended (2.5 s reply)


def test_end_of_piped_input_ends_a_session_without_a_microphone() -> None:
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "voicecli", "talk", "--sim", "--no-history",
         "--input-device", "no-such-microphone-here"],
        input="q\n", capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "you (typed): q" in out.stdout and "gemini:" in out.stdout
    assert "typed lines only" in out.stderr
    assert time.monotonic() - start < 60
