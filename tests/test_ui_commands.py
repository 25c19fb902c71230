"""Typed input: the slash-command parser, the key-level line editor, and the prompt's actions."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from voicecli.errors import UsageError
from voicecli.live import events as ev
from voicecli.live.stats import SessionStats
from voicecli.ui.commands import Cmd, Command, help_lines, parse
from voicecli.ui.prompt import LineEditor, Prompt, StdinLines
from voicecli.ui.status import MUTED_NOTICE, UNMUTED_NOTICE


@pytest.mark.parametrize(
    ("line", "kind", "arg"),
    [
        ("", Cmd.EMPTY, ""),
        ("   ", Cmd.EMPTY, ""),
        ("hello there", Cmd.TEXT, "hello there"),
        ("  padded  ", Cmd.TEXT, "padded"),
        ("/mute", Cmd.MUTE, ""),
        ("/MUTE", Cmd.MUTE, ""),
        ("/unmute", Cmd.UNMUTE, ""),
        ("/style warm and slow", Cmd.STYLE, "warm and slow"),
        ("/style   whisper  ", Cmd.STYLE, "whisper"),
        ("/stats", Cmd.STATS, ""),
        ("/help", Cmd.HELP, ""),
        ("/?", Cmd.HELP, ""),
        ("/quit", Cmd.QUIT, ""),
        ("/exit", Cmd.QUIT, ""),
        ("/q", Cmd.QUIT, ""),
        ("//etc/hosts is a file", Cmd.TEXT, "/etc/hosts is a file"),
    ],
)
def test_parse(line: str, kind: Cmd, arg: str) -> None:
    cmd = parse(line)
    assert (cmd.kind, cmd.arg, cmd.error) == (kind, arg, None)


def test_parse_errors_are_messages() -> None:
    unknown = parse("/mutee")
    assert unknown.kind is Cmd.UNKNOWN and "did you mean /mute" in (unknown.error or "")
    assert "/help" in (parse("/frobnicate").error or "")
    assert "needs <text>" in (parse("/style").error or "")
    assert "takes no argument" in (parse("/quit now").error or "")


def test_context_commands_and_help() -> None:
    assert parse("/system be brief") == Command(Cmd.SYSTEM, "be brief")
    assert parse("/tools OFF") == Command(Cmd.TOOLS, "OFF")
    assert "on or off" in (parse("/tools maybe").error or "")
    assert parse("/tool Add  calculator ") == Command(Cmd.TOOL, "add calculator")
    assert "add NAME or remove NAME" in (parse("/tool drop x").error or "")
    assert "add NAME" in (parse("/tool add").error or "")
    text = "\n".join(help_lines())
    for name in ("/mute", "/unmute", "/style <text>", "/system <text>", "/tools on|off",
                 "/tool add|remove NAME", "/stats", "/help", "/quit"):  # fmt: skip
        assert name in text


def test_line_editor_keys() -> None:
    ed = LineEditor()
    assert ed.feed("hel") == [] and ed.buffer == "hel"
    assert ed.feed("lo\x7f\x7fp!\r") == ["help!"] and ed.buffer == ""
    assert ed.feed("a\r\nb\n") == ["a", "b"]  # CR LF is one Enter
    assert ed.feed("one two\x17") == [] and ed.buffer == "one "
    assert ed.feed("\x15x\x1b[Ay\x1bOBz") == [] and ed.buffer == "xyz"  # arrows skipped
    assert ed.feed("\x1b[") == [] and ed.feed("1;5Cq") == [] and ed.buffer == "xyzq"
    assert ed.feed("\x04") == []  # Ctrl-D with text: ignored
    assert ed.feed("\x15\x04") == ["/quit"]  # Ctrl-D on an empty line ends the session
    assert ed.feed("héllo ✓\r") == ["héllo ✓"]


class FakeConv:
    """What the prompt needs from a Conversation."""

    def __init__(self) -> None:
        self.stats = SessionStats()
        self.observers: list[Any] = []
        self.sent: list[str] = []
        self.events: list[Any] = []
        self.stopped = False
        self.changes: list[tuple[str, str]] = []

    @property
    def muted(self) -> bool:
        return self.stats.muted

    def set_muted(self, muted: bool) -> None:
        self.notify(ev.MuteChanged(muted))

    def uplink_seconds(self) -> tuple[float, float]:
        return 0.0, 0.0

    def rel(self, t: float | None = None) -> float:
        return 12.0

    def notify(self, event: Any, t: float | None = None) -> None:
        self.stats.on_event(event, 12.0 if t is None else t)
        self.events.append(event)
        for obs in self.observers:
            obs.on_event(event, 12.0 if t is None else t)

    async def send_text(self, text: str) -> None:
        self.sent.append(text)
        self.notify(ev.UserText(text))

    async def change_context(self, kind: str, value: str = "") -> None:
        if kind == "tool_add" and value == "nosuch":
            raise UsageError("no tool named 'nosuch'")
        self.changes.append((kind, value))

    def request_stop(self) -> None:
        self.stopped = True


def notices(conv: FakeConv) -> list[str]:
    return [e.text for e in conv.events if isinstance(e, ev.Notice | ev.MuteChanged)]


async def test_prompt_actions() -> None:
    conv = FakeConv()
    prompt = Prompt()
    prompt.start(conv)
    await prompt.handle("hello")
    await prompt.handle("/style calm")
    await prompt.handle("/system be brief")
    await prompt.handle("/tools off")
    await prompt.handle("/tool remove calculator")
    assert conv.sent == ["hello"]  # context changes are not turns
    assert conv.changes == [
        ("style", "calm"),
        ("system", "be brief"),
        ("tools", "off"),
        ("tool_remove", "calculator"),
    ]
    await prompt.handle("/tool add nosuch")
    assert "no tool named" in notices(conv)[-1]
    await prompt.handle("/mute")
    assert conv.muted is True and notices(conv)[-1] == MUTED_NOTICE
    await prompt.handle("/stats")
    assert notices(conv)[-1].startswith("stats: 0 turns") and "(muted)" in notices(conv)[-1]
    await prompt.handle("/unmute")
    assert conv.muted is False and notices(conv)[-1] == UNMUTED_NOTICE
    await prompt.handle("/help")
    assert any("/style <text>" in n for n in notices(conv))
    await prompt.handle("/nope")
    assert [e.level for e in conv.events if isinstance(e, ev.Notice)][-1] == "warning"
    await prompt.handle("")
    assert not conv.stopped
    await prompt.handle("/quit")
    assert conv.stopped and prompt.quit_requested
    prompt.close()


async def test_prompt_reads_lines_from_a_pipe() -> None:
    read_fd, write_fd = os.pipe()
    conv = FakeConv()
    prompt = Prompt(StdinLines(read_fd))
    prompt.start(conv)
    os.write(write_fd, b"first line\n/mute\npart")
    os.write(write_fd, "ial ✓\n/quit\n".encode())
    os.close(write_fd)
    for _ in range(200):
        if conv.stopped:
            break
        await asyncio.sleep(0.01)
    assert conv.sent == ["first line", "partial ✓"]
    assert conv.muted and conv.stopped
    prompt.close()
    os.close(read_fd)


async def test_prompt_queue_is_bounded() -> None:
    conv = FakeConv()
    prompt = Prompt()
    prompt.start(conv)
    prompt._task.cancel()  # type: ignore[union-attr]  # nobody serves: the queue fills
    for i in range(100):
        prompt.put(f"line {i}")
    assert prompt.dropped == 100 - 64
    prompt.close()
