"""A ``confirm = true`` tool asked during ``talk``, on a real pseudo-terminal: the question
owns the keyboard (the typed line waits), shows the exact argv, and one key answers it, in
the live view and in plain mode."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
from pty_helpers import Term
from pty_helpers import plain as plain_text
from tools_helpers import ECHO_ARGV, utterances

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")

SCENARIO = """
voice = "tone"
latency_ms = 50
[[turns]]
heard = "echo"
reply = "{result}"
duration_s = 0.3
tool_calls = [{ name = "echo_argv", args = { text = "a b; c" } }]
[[turns]]
heard = "typed"
reply = "got it"
duration_s = 0.3
"""


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[[tools]]
name = "echo_argv"
description = "Echo."
command = [{json.dumps(sys.executable)}, "-c", {json.dumps(ECHO_ARGV)}, "{{text}}"]
env = ["ARGV_OUT"]
confirm = true
[tools.parameters.text]
type = "string"
"""
    )
    return config


def _run(tmp_path: Path, plain: bool) -> tuple[Term, Path, Path | None]:
    (tmp_path / "scen.toml").write_text(SCENARIO)
    wav = utterances(tmp_path / "in.wav", 1)
    argv_out = tmp_path / "argv.json"
    out = tmp_path / "stdout.txt" if plain else None
    args = ["talk", "--sim", "--scenario", str(tmp_path / "scen.toml"), "--input", str(wav)]
    args += ["--config", str(_config(tmp_path)), "--no-history"]
    env = {**os.environ, "ARGV_OUT": str(argv_out)}
    return Term(args, env=env, stdout=out), argv_out, out


@pytest.mark.parametrize("plain", [False, True], ids=["live-view", "plain"])
def test_one_key_approves_while_the_typed_line_waits(tmp_path: Path, plain: bool) -> None:
    term, argv_out, out = _run(tmp_path, plain)
    term.expect("voicecli: gemini")  # the banner
    term.expect("› ")  # typed input is on
    term.type("hel")  # a line being typed when the question comes
    term.expect("allow?")
    term.expect("'a b; c'")  # the exact argv, quoted as a shell would need it
    time.sleep(0.3)
    assert not argv_out.exists()  # nothing runs before the answer
    term.type("y")  # one key, no Enter
    deadline = time.monotonic() + 20
    while not argv_out.exists() and time.monotonic() < deadline:
        term.read(0.2)
    assert argv_out.exists(), term.seen[-3000:]
    assert json.loads(argv_out.read_text()) == ["a b; c"]
    term.expect("allowed echo_argv")
    term.type("lo\r")  # the paused line goes on where it was
    code = term.finish()
    screen = plain_text(term.seen + (out.read_text() if out else ""))
    assert code == 0, screen[-3000:]
    assert "you (typed): hello" in screen, screen[-3000:]
    assert "you (typed): y" not in screen and "you (typed): hel\n" not in screen


def test_n_refuses_and_the_tool_never_runs(tmp_path: Path) -> None:
    term, argv_out, out = _run(tmp_path, plain=True)
    term.expect("allow?")
    term.type("n")
    term.expect("not allowed: echo_argv not run")
    code = term.finish()
    assert code == 0, term.seen[-3000:]
    assert not argv_out.exists()
    assert out is not None and "you (typed)" not in out.read_text()
