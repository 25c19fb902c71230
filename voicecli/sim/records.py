"""What the simulator saw and did, for tests and for `voicecli sim` logs.

One ``SessionRecord`` per websocket connection, one ``RestRecord`` per REST request, and
the server-wide ``Conversations`` that session resumption continues across connections.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from voicecli.sim.vision import Vision


@dataclass
class UserTurn:
    """One user turn as the server detected it, and what became of the reply."""

    source: str  # "audio" | "manual" | "text" | "client_content"
    ended_by: str  # "silence" | "stream_end" | "activity_end" | "text" | "turn_complete"
    start_s: float | None = None  # position in the session's input audio (seconds)
    end_s: float | None = None
    speech_s: float = 0.0
    text: str | None = None  # typed input, for text turns
    index: int | None = None  # conversation turn index (scenario position), set on reply
    heard: str = ""
    reply_text: str = ""
    reply_audio_s: float = 0.0
    tone_hz: int | None = None
    silent: bool = False
    replied: bool = False  # reply streamed to its turnComplete
    interrupted: bool = False
    tool_call_ids: list[str] = field(default_factory=list)
    tool_cancelled: bool = False
    late_audio_s: float = 0.0  # audio of the cut reply sent after interrupted (fidelity 7)
    late_text: str = ""  # its output transcription
    # reply audio chunks (with their transcript pieces) not sent yet
    unsent: deque[tuple[bytes, str]] = field(default_factory=deque, repr=False)


@dataclass
class SessionRecord:
    id: int
    api_version: str = ""
    api_key: str | None = None
    setup: dict[str, Any] | None = None  # as received
    model: str | None = None
    messages: Counter[str] = field(default_factory=Counter)  # client message kinds
    sent: Counter[str] = field(default_factory=Counter)  # server message kinds
    audio_in_s: float = 0.0
    audio_mimes: Counter[str] = field(default_factory=Counter)
    audio_stream_end: int = 0
    activity_start: int = 0
    activity_end: int = 0
    texts: list[str] = field(default_factory=list)
    client_contents: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # as sent
    tool_responses: list[dict[str, Any]] = field(default_factory=list)  # as received
    resumed_from: str | None = None
    seeded_turns: list[tuple[str, str]] = field(default_factory=list)  # (role, text)
    context_updates: list[dict[str, Any]] = field(default_factory=list)  # as received
    handles_issued: list[str] = field(default_factory=list)
    turns: list[UserTurn] = field(default_factory=list)
    interruptions: int = 0
    warnings: list[str] = field(default_factory=list)
    vision: Vision = field(default_factory=Vision)  # pictures and context text received
    close_code: int | None = None
    close_reason: str | None = None
    closed: bool = False

    @property
    def replied_turns(self) -> list[UserTurn]:
        return [t for t in self.turns if t.replied]

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)


@dataclass
class RestRecord:
    method: str
    path: str
    model: str
    action: str  # "generateContent" | "streamGenerateContent"
    api_key: str | None
    body: Any
    status: int = 200
    error: str | None = None
    spoken: list[tuple[str, str]] = field(default_factory=list)  # TTS: (voice, text) said


@dataclass(frozen=True)
class Snapshot:
    next_index: int
    history: tuple[tuple[str, str], ...]  # (heard, reply) per finished turn
    seeded: int = 0  # turns of initial history the conversation was seeded with
    started_at: float = 0.0  # monotonic time the session (its first connection) began
    had_video: bool = False  # pictures were received in the session


class Conversations:
    """Resumption handles -> conversation position, shared by all connections."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._by_handle: dict[str, tuple[Snapshot, float]] = {}
        self.stuck = False  # a stall with scope "handle": resumed connections stay stuck
        self._clock = clock
        # scenario handle_ttl_s: a handle older than this is forgotten. The service keeps a
        # handle only "for a while" after it was issued (issue 16; LIVE_FACTS "a handle the
        # server no longer knows"); a new simulator knows none, like a server that forgot.
        self.ttl_s: float | None = None
        self.used: list[str] = []  # handles clients resumed with
        self.fired_faults: set[int] = set()  # scenario turn indexes whose fault has fired
        self.refuse_all = False  # scenario honour_resumption = false

    def issue(self, snap: Snapshot) -> str:
        handle = "sim-" + secrets.token_hex(8)
        self._by_handle[handle] = (snap, self._clock())
        return handle

    def resume(self, handle: str) -> Snapshot | None:
        entry = None if self.refuse_all else self._by_handle.get(handle)
        if entry is None:
            return None
        snap, issued = entry
        if self.ttl_s is not None and self._clock() - issued > self.ttl_s:
            del self._by_handle[handle]
            return None
        self.used.append(handle)
        return snap

    def expire(self, started_at: float) -> None:
        """The session that began at ``started_at`` is over: its handles resume nothing."""
        self._by_handle = {
            h: entry for h, entry in self._by_handle.items() if entry[0].started_at != started_at
        }

    def fault_once(self, index: int, fault: str | None, repeat: bool) -> str | None:
        """The fault to inject for scenario turn ``index``: once per server unless repeat."""
        if fault is None or repeat:
            return fault
        if index in self.fired_faults:
            return None
        self.fired_faults.add(index)
        return fault
