"""The tool flags through the real CLI: --yes, --no-tools, --search; bad [[tools]] exit 10."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tools_helpers import ECHO_ARGV, records, utterances

from voicecli.errors import ExitCode


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "voicecli", *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=90,
        stdin=subprocess.DEVNULL,
    )


def write_config(tmp_path: Path, confirm: bool = True) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[[tools]]
name = "echo_argv"
description = "Echo."
command = [{json.dumps(sys.executable)}, "-c", {json.dumps(ECHO_ARGV)}, "{{text}}"]
env = ["ARGV_OUT"]
confirm = {"true" if confirm else "false"}
[tools.parameters.text]
type = "string"
"""
    )
    return config


SCENARIO = """
voice = "tone"
latency_ms = 50
realtime = 0
[[turns]]
heard = "echo"
reply = "{result}"
duration_s = 0.3
tool_calls = [{ name = "echo_argv", args = { text = "a b; c" } }]
"""


def test_yes_approves_and_the_call_is_in_the_transcript(tmp_path: Path) -> None:
    (tmp_path / "scen.toml").write_text(SCENARIO)
    wav = utterances(tmp_path / "in.wav", 1)
    env = {"ARGV_OUT": str(tmp_path / "argv.json")}
    args = ["talk", "--sim", "--scenario", str(tmp_path / "scen.toml"), "--input", str(wav)]
    args += ["--fast", "--config", str(write_config(tmp_path)), "--transcript"]
    proc = run_cli(*args, str(tmp_path / "t.jsonl"), "--yes", env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "argv.json").read_text()) == ["a b; c"]
    assert "tools: get_current_time, calculate" in proc.stderr and "echo_argv" in proc.stderr
    (result,) = [r for r in records(tmp_path / "t.jsonl") if r["type"] == "tool_result"]
    assert result["results"][0]["response"] == {"output": ["a b; c"]}

    # without --yes and without a terminal: refused, nothing run, the session still ends well
    (tmp_path / "argv.json").unlink()
    proc = run_cli(*args, str(tmp_path / "t2.jsonl"), env=env)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "argv.json").exists()
    (result,) = [r for r in records(tmp_path / "t2.jsonl") if r["type"] == "tool_result"]
    assert result["results"][0]["status"] == "refused"

    # --no-tools: nothing declared, the call is answered as unavailable
    proc = run_cli(*args, str(tmp_path / "t3.jsonl"), "--no-tools", "--yes", env=env)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "argv.json").exists()


def test_bad_tool_config_exits_10_naming_tool_and_field(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[[tools]]\nname = "x"\ndescription = "d"\ncommand = "rm -rf /"\n')
    wav = utterances(tmp_path / "in.wav", 1)
    proc = run_cli("talk", "--sim", "--input", str(wav), "--config", str(config))
    assert proc.returncode == int(ExitCode.TOOL), proc.stderr
    (line,) = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert "[[tools]] 'x': command must be a list of strings" in line
    assert "Traceback" not in proc.stderr


def test_help_lists_the_flags() -> None:
    proc = run_cli("talk", "--help")
    for flag in ("--no-tools", "--search", "--yes"):
        assert flag in proc.stdout


def test_bundled_scenarios_call_only_tools_that_exist_by_default() -> None:
    from voicecli.sim import bundled_scenarios, load_scenario
    from voicecli.tools.builtin import builtin_tools

    default_tools = {t.spec.name for t in builtin_tools()}
    for name in bundled_scenarios():
        called = {c.name for turn in load_scenario(name).turns for c in turn.tool_calls}
        assert called <= default_tools, (name, called - default_tools)


def test_the_bundled_tools_scenario_gets_real_answers(tmp_path: Path) -> None:
    wav = utterances(tmp_path / "in.wav", 2)
    args = ["talk", "--sim", "--scenario", "tools", "--input", str(wav), "--fast"]
    proc = run_cli(*args, "--transcript", str(tmp_path / "t.jsonl"), "--no-history")
    assert proc.returncode == 0, proc.stderr
    rec = records(tmp_path / "t.jsonl")
    results = [r for res in rec if res["type"] == "tool_result" for r in res["results"]]
    assert [r["name"] for r in results[:2]] == ["calculate", "get_current_time"]
    assert all("error" not in r["response"] for r in results[:2]), results
    said = " ".join(r.get("model_text") or "" for r in rec if r["type"] == "turn")
    assert "17.5 times 3 is 52.5." in said, said
