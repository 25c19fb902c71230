"""Issue 31, item 5: shell completion for bash, zsh and fish: the scripts, and what they
complete (commands, options, model ids, voice names, history ids)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tools_helpers import utterances


def _complete(env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "voicecli"],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
@pytest.mark.parametrize("order", ["click", "typer"])
def test_completion_scripts(shell: str, order: str) -> None:
    value = f"{shell}_source" if order == "click" else f"source_{shell}"
    script = _complete({"_VOICECLI_COMPLETE": value})
    assert "_VOICECLI_COMPLETE" in script and "complete" in script


def _bash(words: str) -> list[str]:
    cword = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    env = {"_VOICECLI_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": cword}
    return _complete(env).split()


def test_commands_options_models_and_voices_complete() -> None:
    assert {"talk", "listen", "models", "history"} <= set(_bash("voicecli "))
    assert "--model" in _bash("voicecli talk --mo")
    assert _bash("voicecli talk --model gemini-3.8-live-e") == ["gemini-3.8-live-extended-thinking"]
    assert _bash("voicecli say --voice Puc") == ["Puck"]
    assert "Charon" in _bash("voicecli talk --voice C")


def test_history_ids_complete(tmp_path: Path) -> None:
    wav = utterances(tmp_path / "in.wav", 1)
    subprocess.run(
        [sys.executable, "-m", "voicecli", "talk", "--sim", "--fast", "-i", str(wav)],
        capture_output=True, stdin=subprocess.DEVNULL, check=True, timeout=120,
    )  # fmt: skip
    assert _bash("voicecli history show ") == ["1"]
    zsh = _complete(
        {"_VOICECLI_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "voicecli history show "}
    )
    assert '"1":' in zsh  # with the session's first words as its description


def test_install_completion_is_offered() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "voicecli", "--help"], capture_output=True, text=True, timeout=60
    )
    assert "--install-completion" in out.stdout
