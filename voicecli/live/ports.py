"""What the conversation is plugged into: its options and the small interfaces of its
transport, observers, recorder and tool handler (``conversation.py`` re-exports them)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from voicecli.live import events as ev
from voicecli.live import messages as m
from voicecli.pricing import Prices


class ToolHandler(Protocol):
    """Answers the server's tool calls (``tools.runner.ToolRunner``); ``cancel`` stops the
    calls the server cancelled."""

    async def __call__(self, call: ev.ToolCall) -> list[ev.FunctionResult]: ...
    def cancel(self, ids: Sequence[str]) -> None: ...


class OutputClosed(Exception):
    """Raised by an observer whose output is gone for good (stdout closed by ``| head``):
    the conversation ends quietly, as if asked to stop."""


class Observer(Protocol):
    """Gets every event with ``t``: seconds since the session started."""

    def on_event(self, event: ev.AnyEvent, t: float) -> None: ...


class Transport(Protocol):
    """What the conversation needs from the Live session: ``live.resilient``'s transport
    (across reconnects), one ``live.messages.Connection``, or ``live.fake.FakeLive``."""

    @property
    def malformed(self) -> int: ...  # server frames skipped as unparseable

    async def send(self, msg: m.ClientMessage) -> None: ...
    def events(self) -> AsyncIterator[ev.LiveEvent | ev.Reconnect]: ...


class Recorder(Protocol):
    def add_user(self, pcm16k: bytes, t: float) -> None: ...
    def add_model(self, pcm24k: bytes, t: float) -> None: ...
    def model_cut(self, t: float) -> None: ...


@dataclass
class Options:
    fast: bool = False  # input not paced: wait for each reply before the next utterance
    timeout_s: float = 60.0  # longest wait for the model (a reply, or the end after input)
    reply_wait_s: float = 8.0  # after the user's last utterance: wait this long for a reply
    # client-driven turns (automatic detection disabled): activityStart at the gate's onset,
    # activityEnd when its hangover runs out; False: the server's own detection
    manual_activity: bool = True
    silent_dbfs: float = -50.0  # model audio chunks quieter than this are silence, not speech
    prices: Prices | None = None  # for the summary's estimated cost
    # while the model speaks, speech must be at least this loud to open the gate (an onset
    # is an activityStart, i.e. a barge-in): what is left of the model's own voice after
    # echo cancellation is quieter and must not interrupt it
    barge_in_dbfs: float = -42.0
    # ...and last this long (with the gate's onset; loud for all but the onset): bursts of
    # leftover echo while the echo canceller re-adapts are shorter; the pre-roll still sends
    # the interruption's start
    barge_in_ms: int = 160
    # the model closes the session on audio while a function call is pending
    # (``ModelCaps.audio_during_call`` false): hold the microphone until it is answered
    hold_audio_in_calls: bool = False
    # the stall watchdog (``live.watchdog``): nothing for ``stall_s`` while a reply is owed
    # is a stall, recovered by a nudge, a resume, a new session (off: the no-reply wait only)
    watchdog: bool = False
    stall_s: float = 5.0
    # --idle-timeout: no speech (either side) for this long ends the session or mutes the
    # microphone (``idle_action``: end | mute); None: off
    idle_s: float | None = None
    idle_action: str = "end"
    # turn-taking (live/turn_policy.py): low | normal | high; how long a reply is held after
    # the end of speech before it is heard (client-driven turns, real time only)
    turn_eagerness: str = "normal"


class NoTools:
    """Default tool handler: answer every call (so the model is never left waiting)."""

    async def __call__(self, call: ev.ToolCall) -> list[ev.FunctionResult]:
        return [
            ev.FunctionResult(c.id, c.name, {"error": f"tool {c.name!r} is not available"})
            for c in call.calls
        ]

    def cancel(self, ids: Sequence[str]) -> None:
        pass
