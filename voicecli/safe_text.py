"""Text from outside (the model, its transcripts, tools, MCP servers, watched commands) made
safe before a terminal sees it.

A reply holding ``ESC]0;title BEL`` would set the terminal's title, ``ESC[2J`` would clear the
screen, a backspace or carriage return would overwrite what was printed, and U+202E would show
the rest of a line reversed. ``terminal_safe`` removes escape sequences whole, every other
control character but newline and tab, and the bidirectional overrides, embeddings and
isolates; ``visible`` shows every such character as ``\\uXXXX`` instead (a prompt that must
show exactly what will run). ``safe_value`` applies ``terminal_safe`` and ``keys.redact`` to
every string of a JSON-like value (a tool's answer).

Text is cleaned where it enters (``live.transport.convert``, the tool runner), and again where
stored text leaves (``history show``, ``export``), for rows stored before it was.
"""

from __future__ import annotations

import re
from typing import Any

from voicecli.keys import redact

ESCAPES = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC ... BEL / ST (titles, hyperlinks)
    r"|\x1b[P^_X][^\x1b]*\x1b\\"  # DCS, PM, APC, SOS ... ST
    r"|\x1b\[[0-?]*[ -/]*[@-~]"  # CSI (colours, cursor moves, clear screen)
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|\x1b[ -/]*[0-~]"  # other escapes (charset choice, ESC c reset, ...)
)
# C0 controls but tab and newline, DEL, C1 controls, bidi embeddings, overrides and isolates
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``text`` without escape sequences or characters that move, erase or reorder what a
    terminal shows; newlines and tabs stay (a carriage return becomes a newline)."""
    if not text or (text.isprintable() and "\x1b" not in text):
        return text
    text = ESCAPES.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return UNSAFE.sub("", text)


def visible(text: str) -> str:
    """``text`` with control and other non-printable characters escaped (for prompts)."""
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def safe_value(value: Any) -> Any:
    """A JSON-like value with every string (keys too) cleaned and keys redacted."""
    if isinstance(value, str):
        return redact(terminal_safe(value))
    if isinstance(value, dict):
        return {safe_value(k): safe_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [safe_value(v) for v in value]
    return value
