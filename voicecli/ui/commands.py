"""Typed input: plain text is a turn, ``/command`` lines control the session. Pure parsing.

``parse(line)`` never raises; an unknown command comes back as ``Cmd.UNKNOWN`` with a message
the prompt shows. A line starting with ``//`` sends the rest, with one ``/``, as text.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import Enum


class Cmd(Enum):
    EMPTY = "empty"
    TEXT = "text"  # send as a user turn
    MUTE = "mute"
    UNMUTE = "unmute"
    STYLE = "style"
    SYSTEM = "system"
    TOOLS = "tools"
    TOOL = "tool"
    STATS = "stats"
    LOOK = "look"
    UNSHARE = "unshare"
    HELP = "help"
    QUIT = "quit"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Command:
    kind: Cmd
    arg: str = ""
    error: str | None = None  # what to tell the user (unknown command, missing argument)


# name -> (kind, argument, help); aliases map to the same kind.
COMMANDS: dict[str, tuple[Cmd, str, str]] = {
    "mute": (Cmd.MUTE, "", "stop sending microphone audio (typed turns still go through)"),
    "unmute": (Cmd.UNMUTE, "", "send microphone audio again"),
    "style": (
        Cmd.STYLE,
        "<text>",
        "change delivery mid-session, e.g. /style slower, with a soft Irish accent "
        "(the instructions are updated: no turn, no reply, no reconnect)",
    ),
    "system": (Cmd.SYSTEM, "<text>", "replace the system instructions mid-session"),
    "tools": (Cmd.TOOLS, "on|off", "declare the session's tools, or none, mid-session"),
    "tool": (Cmd.TOOL, "add|remove NAME", "declare one tool more, or one less"),
    "stats": (Cmd.STATS, "", "turns, latency, tokens, time used and left"),
    "look": (Cmd.LOOK, "[screen|camera|FILE]", "send one picture now (default: the screen)"),
    "unshare": (Cmd.UNSHARE, "", "stop sharing the screen, camera, video and watched output"),
    "help": (Cmd.HELP, "", "this list"),
    "quit": (Cmd.QUIT, "", "end the session (exit 0)"),
}
EXAMPLES = {"system": "answer in one short sentence", "tools": "off", "tool": "add calculator"}
ALIASES = {"exit": "quit", "q": "quit", "?": "help", "h": "help"}


def parse(line: str) -> Command:
    text = line.strip()
    if not text:
        return Command(Cmd.EMPTY)
    if text.startswith("//"):
        return Command(Cmd.TEXT, text[1:])
    if not text.startswith("/"):
        return Command(Cmd.TEXT, text)
    name, _, arg = text[1:].partition(" ")
    name = ALIASES.get(name.lower(), name.lower())
    arg = arg.strip()
    entry = COMMANDS.get(name)
    if entry is None:
        close = difflib.get_close_matches(name, COMMANDS, n=1, cutoff=0.6)
        hint = f"; did you mean /{close[0]}?" if close else ""
        return Command(Cmd.UNKNOWN, text, f"unknown command /{name}{hint} (/help lists them)")
    kind, arg_spec, _ = entry
    if arg_spec and not arg and not arg_spec.startswith("["):  # [..]: optional
        example = EXAMPLES.get(name, "calm and slow")
        return Command(Cmd.UNKNOWN, text, f"/{name} needs {arg_spec}, e.g. /{name} {example}")
    if kind is Cmd.TOOLS and arg.lower() not in ("on", "off"):
        return Command(Cmd.UNKNOWN, text, "/tools takes on or off")
    if kind is Cmd.TOOL:
        verb, _, tool = arg.partition(" ")
        if verb.lower() not in ("add", "remove") or not tool.strip():
            return Command(Cmd.UNKNOWN, text, "/tool takes add NAME or remove NAME")
        return Command(kind, f"{verb.lower()} {tool.strip()}")
    if not arg_spec and arg:
        return Command(Cmd.UNKNOWN, text, f"/{name} takes no argument")
    return Command(kind, arg)


def help_lines() -> list[str]:
    lines = ["type a message and press Enter to send it as a turn; commands:"]
    for name, (_, arg, text) in COMMANDS.items():
        usage = f"/{name} {arg}".strip()
        lines.append(f"  {usage:<22} {text}")
    lines.append("  //text                 send text that starts with /")
    return lines
