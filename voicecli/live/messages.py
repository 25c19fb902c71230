"""What the client sends to a Live session, as our own types (the SDK's stay in transport.py).

The conversation hands these to its transport; the resilient transport journals them and
sends them again after a reconnect; the in-memory fake transport records them for tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from voicecli.audio.base import INPUT_RATE, SAMPLE_WIDTH
from voicecli.live.events import FunctionResult, LiveEvent


@dataclass(frozen=True)
class AudioIn:
    """16 kHz mono PCM16 for ``realtimeInput.audio``."""

    pcm: bytes

    @property
    def seconds(self) -> float:
        return len(self.pcm) / SAMPLE_WIDTH / INPUT_RATE


@dataclass(frozen=True)
class StreamEnd:
    """``realtimeInput.audioStreamEnd``: the microphone paused (server VAD flushes)."""


@dataclass(frozen=True)
class ActivityStart:
    """``realtimeInput.activityStart`` (manual turn detection)."""


@dataclass(frozen=True)
class ActivityEnd:
    """``realtimeInput.activityEnd`` (manual turn detection)."""


@dataclass(frozen=True)
class TextIn:
    """``realtimeInput.text``: a typed turn."""

    text: str


@dataclass(frozen=True)
class VideoIn:
    """``realtimeInput.video``: one picture (JPEG/PNG) of a shared screen, camera or file."""

    data: bytes
    mime: str = "image/jpeg"


@dataclass(frozen=True)
class ContextIn:
    """``clientContent`` with ``turnComplete`` false: text for the model's context that asks
    for no reply (watched output). It interrupts a reply in progress, so it is sent between
    the model's turns."""

    text: str


@dataclass(frozen=True)
class ToolResults:
    """``toolResponse``: answers to the server's function calls."""

    results: tuple[FunctionResult, ...]


@dataclass(frozen=True)
class HistoryIn:
    """``clientContent`` with ``turnComplete``: the initial history of a session whose setup
    had ``history_config.initial_history_in_client_content`` (``--continue``, seeded)."""

    turns: tuple[tuple[str, str], ...]  # (role, text), role user | model


@dataclass(frozen=True)
class ContextUpdate:
    """``contextUpdate``: new system instructions and/or tools, on the same connection."""

    system_instruction: str | None = None  # None: unchanged ("" clears)
    tools: tuple[Any, ...] | None = None  # SDK Tool objects; None: unchanged, (): none


ClientMessage = (
    AudioIn | StreamEnd | ActivityStart | ActivityEnd | TextIn | ToolResults | HistoryIn
    | ContextUpdate | VideoIn | ContextIn
)  # fmt: skip


def seconds_of(msg: ClientMessage) -> float:
    """Audio time a message carries (what the journal's bound counts)."""
    return msg.seconds if isinstance(msg, AudioIn) else 0.0


class Connection(Protocol):
    """One connected Live session: ``transport.LiveTransport``, or a test's fake."""

    @property
    def malformed(self) -> int: ...  # server frames that could not be parsed (skipped)

    @property
    def session_id(self) -> str | None: ...

    async def send(self, msg: ClientMessage) -> None: ...
    def events(self) -> AsyncIterator[LiveEvent]: ...
    async def close(self) -> None: ...


# A LiveConnectConfig (built per connection: it carries the resumption handle) -> a connection
# that is open inside the ``async with``; ``transport.live_connect`` is the real one.
Connect = Callable[[Any], AbstractAsyncContextManager[Connection]]
