"""Adversarial cases of issue 28 (tools, text from outside, the config file), end to end where
the harm happens: the API key read by a tool through its environment, escape sequences in the
model's reply through every view and export, a tool's child that leaves its process group,
NaN and infinity in a tool answer, a config file others can change, a dangling config link."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from subprocess import DEVNULL

import pytest
from google.genai import types
from tools_helpers import records, utterances

from voicecli import config as cfg
from voicecli import doctor
from voicecli.child_env import MARKER, child_env
from voicecli.errors import ConfigError
from voicecli.keys import forget_secrets
from voicecli.live import events as ev
from voicecli.live.transport import convert
from voicecli.tools import process
from voicecli.tools.base import ToolFailure, ToolStatus
from voicecli.tools.builtin import calculate
from voicecli.tools.command import CommandTool, parse_command_tool
from voicecli.tools.runner import ToolRunner
from voicecli.ui.plain import PlainView
from voicecli.video.watch import run_command

FAKE_KEY = "AIzaFAKE-adversarial-0123456"  # short of a real key's shape on purpose
FAKE_TOKEN = "ghp_faketoken0123456789abcdefXYZ"
SECRETS = {"GEMINI_API_KEY": FAKE_KEY, "DEPLOY_TOKEN": FAKE_TOKEN}


def run_cli(*args: str, env: dict[str, str], timeout: float = 90) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")}
    cmd = [sys.executable, "-m", "voicecli", *args]
    return subprocess.run(
        cmd, capture_output=True, text=True, env={**full, **env}, timeout=timeout, stdin=DEVNULL
    )


# ------------------------------------------------------------------ 1. the key through a tool
PRINTENV = """
[[tools]]
name = "show_env"
description = "Print one environment variable."
command = ["printenv", "{var}"]
confirm = false
%s
[tools.parameters.var]
type = "string"
"""


def _turn(var: str) -> str:
    return f"""
[[turns]]
heard = "show {var}"
reply = "It says {{result}}"
duration_s = 0.3
tool_calls = [{{ name = "show_env", args = {{ var = "{var}" }} }}]
"""


@pytest.mark.parametrize("named", [False, True], ids=["default", "named-in-env"])
def test_the_key_never_leaks_through_a_command_tool(tmp_path: Path, named: bool) -> None:
    """printenv GEMINI_API_KEY / DEPLOY_TOKEN as a tool: by default the tool does not get
    them; when the config names them it does, and the value is redacted everywhere."""
    home = tmp_path / "home"
    allow = 'env = ["GEMINI_API_KEY", "DEPLOY_TOKEN"]' if named else ""
    (tmp_path / "config.toml").write_text(PRINTENV % allow)
    scen = 'voice = "tone"\nlatency_ms = 50\nrealtime = 0\n' + _turn("GEMINI_API_KEY")
    (tmp_path / "scen.toml").write_text(scen + _turn("DEPLOY_TOKEN") + _turn("HOME"))
    wav = utterances(tmp_path / "in.wav", 3)
    transcript = tmp_path / "t.jsonl"
    proc = run_cli(
        "talk", "--sim", "--scenario", str(tmp_path / "scen.toml"), "--input", str(wav),
        "--fast", "--config", str(tmp_path / "config.toml"), "--transcript", str(transcript),
        env={"VOICECLI_HOME": str(home), **SECRETS},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    results = [rec for rec in records(transcript) if rec["type"] == "tool_result"]
    responses = [r["results"][0]["response"] for r in results]
    assert len(responses) == 3
    assert responses[2] == {"output": str(Path.home())}  # the tool does run, with HOME
    if named:  # passed on request, then hidden wherever it is shown or stored
        assert responses[0] == {"output": "***"} and responses[1] == {"output": "***"}
    else:  # not in the child's environment at all: printenv finds nothing
        assert all(r["error"] == "the command failed with exit status 1" for r in responses[:2])
    # the model read the answer back: still no key
    said = " ".join(r.get("model_text") or "" for r in records(transcript) if r["type"] == "turn")
    assert "It says" in said
    stored = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name.startswith("history") for p in stored), stored
    for secret in (FAKE_KEY, FAKE_TOKEN):
        assert secret not in proc.stdout and secret not in proc.stderr
        assert secret not in transcript.read_text()
        for path in stored:  # the history database (and its journal), recordings
            assert secret.encode() not in path.read_bytes(), path
    rows = sqlite3.connect(home / "history.sqlite3").execute("SELECT response FROM tool_calls")
    assert len(rows.fetchall()) == 3


def test_child_env_is_clean_unless_named() -> None:
    environ = {
        "PATH": "/bin", "HOME": "/h", "LC_ALL": "C", "TZ": "UTC", "GEMINI_API_KEY": FAKE_KEY,
        "GOOGLE_CLOUD_PROJECT": "p", "AWS_SECRET_ACCESS_KEY": "s", "GITHUB_TOKEN": "t",
        "OPENAI_API_KEY": "o", "DB_PASSWORD": "pw", "RANDOM": "x", "BASH_FUNC_f%%": "() { :; }",
    }  # fmt: skip
    env = child_env(environ=environ)
    assert set(env) == {"PATH", "HOME", "LC_ALL", "TZ", MARKER}
    named = child_env({"GITHUB_TOKEN": None, "LANG": "C.UTF-8", "MISSING": None}, environ=environ)
    assert named["GITHUB_TOKEN"] == "t" and named["LANG"] == "C.UTF-8" and "MISSING" not in named
    assert "GEMINI_API_KEY" not in named


async def test_watch_commands_get_the_same_clean_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", FAKE_KEY)
    lines: list[str] = []
    status = await run_command(["env"], lines.append)
    assert status == 0
    names = {line.split("=", 1)[0] for line in lines if "=" in line}
    assert "GEMINI_API_KEY" not in names and MARKER in names and "PATH" in names
    assert not any(FAKE_KEY in line for line in lines)


MCP_SERVER = """
import os
try:
    from mcp.server.mcpserver import MCPServer as Server  # mcp 2.x
except ImportError:
    from mcp.server.fastmcp import FastMCP as Server  # mcp 1.x

server = Server("envy")
@server.tool()
def getenv(name: str) -> str:
    \"\"\"One environment variable.\"\"\"
    return os.environ.get(name, "(unset)")
@server.tool()
def nasty() -> str:
    \"\"\"Escape sequences.\"\"\"
    return "a\\x1b]0;title\\x07b\\x1b[2Jc\\u202ed"
server.run()
"""


async def test_an_mcp_server_gets_a_clean_environment_and_its_text_is_made_safe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("mcp")
    from voicecli.tools.mcp import McpServerConfig, start_server

    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    forget_secrets()
    script = tmp_path / "envy.py"
    script.write_text(MCP_SERVER)
    config = McpServerConfig(
        "envy", [sys.executable, str(script)], env={"DEPLOY_TOKEN": None}, prefix="envy",
        confirm=False,
    )  # fmt: skip
    try:
        async with contextlib.AsyncExitStack() as stack:
            runner = ToolRunner(await start_server(config, stack))
            calls = (
                ev.FunctionCall("1", "envy_getenv", {"name": "GEMINI_API_KEY"}),
                ev.FunctionCall("2", "envy_getenv", {"name": "DEPLOY_TOKEN"}),
                ev.FunctionCall("3", "envy_nasty", {}),
            )
            unset, named, nasty = (json.dumps(r.response) for r in await runner(ev.ToolCall(calls)))
    finally:
        forget_secrets()
    assert "(unset)" in unset and FAKE_KEY not in unset
    assert "***" in named and FAKE_TOKEN not in named  # named in env: passed, then redacted
    assert "abcd" in nasty and "title" not in nasty, nasty
    assert "\\u001b" not in nasty and "\\u202e" not in nasty  # (JSON escapes of ESC, RLO)


# ------------------------------------------------------------------ 5. escape sequences
NASTY = "Hi \x1b]0;PWNED\x07there \x1b[2Jclear \u202eevil\u202c back\x08space nul\x00 cr\rend"
BAD = ("\x1b", "\x07", "\u202e", "\x08", "\x00", "\r", "\u202c")


def _server_message(**content: object) -> types.LiveServerMessage:
    return types.LiveServerMessage(server_content=types.LiveServerContent(**content))


def test_text_from_the_server_is_made_safe_where_it_enters() -> None:
    msg = _server_message(
        model_turn=types.Content(role="model", parts=[types.Part(text=NASTY)]),
        output_transcription=types.Transcription(text=NASTY),
        input_transcription=types.Transcription(text=NASTY),
    )
    events = convert(msg)
    texts = [e.text for e in events if isinstance(e, ev.ModelText | ev.OutputTranscript)]
    texts += [e.text for e in events if isinstance(e, ev.InputTranscript)]
    assert len(texts) == 3
    for text in texts:
        assert not any(c in text for c in BAD), repr(text)
        assert text == "Hi there clear evil backspace nul cr\nend"


def test_the_servers_close_reason_is_made_safe() -> None:
    from google.genai import errors as genai_errors

    from voicecli.live.transport import _api_error

    closed = genai_errors.APIError(1011, {"message": NASTY})
    line = _api_error(closed, None).one_line()
    assert "Hi there clear evil" in line and not any(c in line for c in BAD), repr(line)


def test_plain_view_shows_no_escape_from_events_or_tools() -> None:
    out, err = io.StringIO(), io.StringIO()
    view = PlainView(out, err)
    msg = _server_message(output_transcription=types.Transcription(text=NASTY))
    (said,) = convert(msg)
    assert isinstance(said, ev.OutputTranscript)
    view.on_event(ev.TurnEnded(1, "spoken", "", said.text, 0.5, 0.1), 1.0)
    view.on_event(ev.ToolCall((ev.FunctionCall("1", "x\x1b[2J\u202e", {"a": NASTY}),)), 1.0)
    view.on_event(
        ev.ToolResults((ev.FunctionResult("1", "x\x1b]0;t\x07", {"output": NASTY}),)), 1.0
    )
    shown = out.getvalue() + err.getvalue()
    assert not any(c in shown for c in BAD if c != "\r"), repr(shown)
    assert "gemini: Hi there clear" in shown


def test_live_view_shows_no_escape() -> None:
    from rich.console import Console

    from voicecli.ui.live_view import LiveView

    buf = io.StringIO()
    console = Console(file=buf, width=200, force_terminal=True, color_system=None)
    view = LiveView(console, clock_fn=lambda: 0.0, err_console=console)
    for event in convert(_server_message(output_transcription=types.Transcription(text=NASTY))):
        view.on_event(event, 0.5)
    view.on_event(ev.ToolCall((ev.FunctionCall("1", "calc\u202e", {"a": "\u202e\x9b2J"}),)), 1)
    console.print(view.render(1.0))
    view.on_event(ev.TurnEnded(1, "spoken", "", "Hi there", 0.5, 0.1), 2.0)
    view.tick(2.0)
    shown = buf.getvalue()
    assert "evil" in shown and "calc" in shown
    for seq in ("\x1b]0;", "\x1b[2J", "\u202e", "\x9b", "\x08", "\x00"):
        assert seq not in shown, repr(seq)


def _tamper_history(db: Path) -> None:
    """Rows as an older voicecli stored them: the model's text raw."""
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE turns SET model_text = ?, user_text = ?", (NASTY, NASTY))
        conn.execute("UPDATE transcripts SET text = ?", (NASTY,))


def test_history_show_and_exports_are_safe_for_old_rows(tmp_path: Path) -> None:
    home = tmp_path / "home"
    scen = 'voice = "tone"\nlatency_ms = 50\nrealtime = 0\n[[turns]]\nheard = "hi"\n'
    reply = (
        "Hello \\u001b]0;PWNED\\u0007 there \\u001b[2J \\u202e ok back\\bspace nul\\u0000 cr\\r end"
    )
    scen += f'reply = "{reply}"\nduration_s = 0.3\n'
    (tmp_path / "scen.toml").write_text(scen)
    wav = utterances(tmp_path / "in.wav", 1)
    env = {"VOICECLI_HOME": str(home)}
    talk = run_cli(
        "talk", "--sim", "--scenario", str(tmp_path / "scen.toml"), "--input", str(wav),
        "--fast", "--transcript", str(tmp_path / "t.jsonl"), env=env,
    )  # fmt: skip
    assert talk.returncode == 0, talk.stderr
    assert not any(c in talk.stdout for c in BAD), repr(talk.stdout)  # plain output
    for text in (talk.stderr, (tmp_path / "t.jsonl").read_text()):
        assert "\x1b]0;" not in text and "\x1b[2J" not in text and "\u202e" not in text
        assert "\\u001b" not in text and "\\u202e" not in text and "\\b" not in text
    assert "Hello" in talk.stdout
    _tamper_history(home / "history.sqlite3")
    for args in (["show", "1"], ["export", "1"], ["export", "1", "-f", "srt"], []):
        proc = run_cli("history", *args, env=env)
        assert proc.returncode == 0, proc.stderr
        assert "Hi" in proc.stdout and "evil" in proc.stdout, (args, proc.stdout)
        assert not any(c in proc.stdout for c in BAD), (args, repr(proc.stdout))
    found = run_cli("history", "search", "hello", env=env)
    assert found.returncode == 0, found.stderr
    assert not any(c in found.stdout for c in BAD), repr(found.stdout)


# ------------------------------------------------------------------ 7. children that escape
def _sleepers(tag: str) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if tag.encode() in argv and state != "Z":
                out.append(int(entry.name))
    return out


async def _settled(condition: Callable[[], bool], seconds: float) -> bool:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
async def test_a_timed_out_tool_leaves_nothing_running() -> None:
    tag = "97.3171"
    tool = CommandTool(
        parse_command_tool(
            {
                "name": "daemon",
                "description": "d",
                "command": ["sh", "-c", f"setsid sleep {tag} & sleep {tag}1"],
                "timeout": 1,
            },
            0,
        )
    )
    try:
        with pytest.raises(ToolFailure) as info:
            await tool.call({})
        assert info.value.status == ToolStatus.TIMEOUT
        assert info.value.error == "the command timed out after 1 s and was stopped"
        assert await _settled(lambda: not _sleepers(tag), 2.0)
    finally:
        for pid in _sleepers(tag):
            os.kill(pid, 9)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
async def test_a_cancelled_tool_and_watch_leave_nothing_running() -> None:
    tag = "96.2213"
    try:
        task = asyncio.create_task(
            process.run_argv(
                ["sh", "-c", f"setsid sleep {tag} >/dev/null 2>&1 & sleep {tag}"],
                timeout_s=30,
                max_output=100,
                env=child_env(),
            )
        )
        watch = asyncio.create_task(
            run_command(["sh", "-c", f"setsid sleep {tag} & sleep {tag}"], lambda line: None)
        )
        assert await _settled(lambda: len(_sleepers(tag)) == 4, 5.0)
        task.cancel()
        watch.cancel()
        await asyncio.gather(task, watch, return_exceptions=True)
        assert _sleepers(tag) == []
    finally:
        for pid in _sleepers(tag):
            os.kill(pid, 9)


async def test_what_cannot_be_stopped_is_said(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process, "stop_tree", lambda pid, marker: [4242])
    spec = {"name": "s", "description": "d", "command": ["sleep", "5"], "timeout": 0.2}
    with pytest.raises(ToolFailure) as info:
        await CommandTool(parse_command_tool(spec, 0)).call({})
    assert "except processes it started that could not be: 4242" in info.value.error


# ------------------------------------------------------------------ 10. NaN, inf, config file
@pytest.mark.parametrize("expression", ["1e309-1e309", "1e309", "-1e309", "1e309*0"])
async def test_calculate_refuses_what_is_not_finite(expression: str) -> None:
    with pytest.raises(ToolFailure, match="too large|not a number"):
        await calculate({"expression": expression})


async def test_a_tool_answer_with_nan_is_still_json() -> None:
    from voicecli.tools.base import FunctionTool, ToolSpec

    async def nan(args: dict) -> dict:
        return {"value": float("nan"), "big": float("inf")}

    runner = ToolRunner([FunctionTool(ToolSpec("nan", "d"), nan)])
    (res,) = await runner(ev.ToolCall((ev.FunctionCall("1", "nan", {}),)))
    assert "not finite" in res.response["error"]
    json.dumps(res.response, allow_nan=False)


@pytest.mark.parametrize("shared", ["world", "group"])
def test_a_config_others_can_write_is_warned_about(tmp_path: Path, shared: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text('voice = "Kore"\n')
    config.chmod(0o666 if shared == "world" else 0o620)
    if shared == "group":  # a group that is not the user's own
        try:
            os.chown(config, -1, os.getgid() + 4242)
        except PermissionError:
            pytest.skip("cannot give the file another group")
    settings = cfg.load(config, env={})
    (warning,) = settings.file_warnings
    assert "others could add tools" in warning and "chmod 600" in warning
    assert ("anyone can" if shared == "world" else "its group can") in warning
    checks = doctor.run_checks(config, lambda s: s)
    (check,) = [c for c in checks if c.name == "config permissions"]
    assert not check.ok and check.optional
    config.chmod(0o600)
    assert cfg.load(config, env={}).file_warnings == ()


def test_talk_warns_once_about_a_world_writable_config(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("builtin_tools = true\n")
    config.chmod(0o666)
    wav = utterances(tmp_path / "in.wav", 1)
    proc = run_cli(
        "talk", "--sim", "--input", str(wav), "--fast", "--config", str(config), "--no-history",
        env={"VOICECLI_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("anyone can write to it") == 1, proc.stderr


def test_a_dangling_config_link_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICECLI_HOME", str(tmp_path))
    (tmp_path / "config.toml").symlink_to(tmp_path / "gone.toml")
    with pytest.raises(ConfigError, match=r"is a link to .*gone.toml, which does not exist"):
        cfg.load(env={})
    proc = run_cli("doctor", env={"VOICECLI_HOME": str(tmp_path)})
    assert proc.returncode == 2 and "which does not exist" in proc.stdout + proc.stderr
