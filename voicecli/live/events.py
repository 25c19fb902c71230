"""Our own event types at the edge of the SDK.

The transport converts every google-genai server message into these dataclasses; nothing
else in voicecli touches google-genai types, so a new SDK field means one change in
``live/transport.py``.

Every event's ``t`` is ``time.monotonic()``: when a server event was received, or when
voicecli made its own. None: not stamped; whoever handles it takes the time it is handled
(never a 0.0 that reads as "374 s ago"). Observers get times as seconds since the session
start, as their own argument (``ports.Observer``), not from ``t``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SetupDone:
    session_id: str | None = None
    t: float | None = None


@dataclass(frozen=True)
class AudioChunk:
    """Model audio: PCM16 little-endian mono at ``rate`` (24 kHz from Gemini)."""

    pcm: bytes
    rate: int = 24000
    t: float | None = None


@dataclass(frozen=True)
class InputTranscript:
    """What the server heard the user say (incremental pieces; ``final`` on the last)."""

    text: str
    final: bool = False
    t: float | None = None


@dataclass(frozen=True)
class OutputTranscript:
    """Transcription of the model's spoken reply (incremental pieces)."""

    text: str
    t: float | None = None


@dataclass(frozen=True)
class ModelText:
    """Text parts of a model turn (thoughts are flagged)."""

    text: str
    thought: bool = False
    t: float | None = None


@dataclass(frozen=True)
class Interrupted:
    """The server stopped the model's reply because the user spoke (barge-in)."""

    t: float | None = None


@dataclass(frozen=True)
class GenerationComplete:
    t: float | None = None


@dataclass(frozen=True)
class InterimInputTranscript:
    """A low-latency guess at what the user is saying, replaced by ``InputTranscript``
    (never part of the turn's text)."""

    text: str
    t: float | None = None


@dataclass(frozen=True)
class TurnComplete:
    reason: str | None = None  # turnCompleteReason, e.g. NEED_MORE_INPUT
    waiting_for_input: bool = False
    # interactionStatus (extended thinking): IN_PROGRESS = more output may follow after
    # this turn; IDLE = all processing is done. None: the model does not report it.
    interaction_status: str | None = None
    t: float | None = None


@dataclass(frozen=True)
class FunctionCall:
    id: str
    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolCall:
    calls: tuple[FunctionCall, ...]
    t: float | None = None


@dataclass(frozen=True)
class ToolCallCancellation:
    ids: tuple[str, ...]
    t: float | None = None


@dataclass(frozen=True)
class Usage:
    """One ``usageMetadata``; the audio/text split comes from its per-modality details."""

    prompt_tokens: int = 0
    response_tokens: int = 0
    total_tokens: int = 0
    t: float | None = None
    prompt_audio: int = 0
    prompt_text: int = 0
    response_audio: int = 0
    response_text: int = 0
    thoughts: int = 0  # thoughtsTokenCount (not in response_tokens; billed as output)
    cached: int = 0  # cachedContentTokenCount (part of prompt_tokens)
    tool_use: int = 0  # toolUsePromptTokenCount (not in prompt_tokens; billed as input)


@dataclass(frozen=True)
class Source:
    """One source a reply is grounded on: a web page (Google Search) or a URL the model
    read (URL context). Text from the service: views make it terminal-safe."""

    uri: str
    title: str = ""


@dataclass(frozen=True)
class Sources:
    """``groundingMetadata`` (``kind`` "search": ``groundingChunks[].web``, with the
    ``webSearchQueries``) or ``urlContextMetadata`` (``kind`` "url") of the reply under way."""

    items: tuple[Source, ...]
    queries: tuple[str, ...] = ()
    kind: str = "search"
    t: float | None = None


@dataclass(frozen=True)
class GoAway:
    time_left_s: float | None
    t: float | None = None


@dataclass(frozen=True)
class ResumptionUpdate:
    handle: str | None
    resumable: bool
    t: float | None = None


@dataclass(frozen=True)
class VoiceActivity:
    """Server-side voice activity signal (start/end of user speech). The 3.8 models send
    none (python-genai #2981): nothing may depend on it."""

    kind: str  # "start" | "end" (the transport maps ACTIVITY_START/ACTIVITY_END)
    t: float | None = None


@dataclass(frozen=True)
class FunctionResult:
    """Our answer to one FunctionCall (sent back with the same id)."""

    id: str
    name: str
    response: dict[str, Any]
    scheduling: str | None = None  # non-blocking calls: WHEN_IDLE | INTERRUPT | SILENT
    status: str = "ok"  # ok | error | refused | timeout (for views, transcript, history)
    duration_s: float | None = None


LiveEvent = (
    SetupDone
    | AudioChunk
    | InputTranscript
    | InterimInputTranscript
    | OutputTranscript
    | ModelText
    | Interrupted
    | GenerationComplete
    | TurnComplete
    | ToolCall
    | ToolCallCancellation
    | Usage
    | Sources
    | GoAway
    | ResumptionUpdate
    | VoiceActivity
)


# --- events made by voicecli itself (for observers: view, transcript, history) -------------


@dataclass(frozen=True)
class UserSpeechStarted:
    t: float | None = None


@dataclass(frozen=True)
class UserSpeechEnded:
    t: float | None = None


@dataclass(frozen=True)
class UserText:
    """Text the user typed (or a scripted text turn) sent into the session."""

    text: str
    t: float | None = None


@dataclass(frozen=True)
class TurnSpan:
    """Where a turn lies on the session's recording (seconds from its start, the
    recording's own timeline: with ``--fast`` not the clock's): the utterance it answers,
    the reply's first audio, and the turn's end. None: there was none (a typed turn)."""

    user_start: float | None
    user_end: float | None
    model_start: float | None
    end: float


@dataclass(frozen=True)
class TurnEnded:
    """A model turn is over: outcome is spoken, silent (chose not to answer) or interrupted.
    ``span``: where it lies on the recording (for the history; not a JSON-lines field)."""

    index: int
    outcome: str
    user_text: str
    model_text: str
    audio_s: float
    latency_s: float | None
    reason: str | None = None
    t: float | None = None
    span: TurnSpan | None = None


@dataclass(frozen=True)
class ToolResults:
    results: tuple[FunctionResult, ...]
    t: float | None = None


@dataclass(frozen=True)
class Notice:
    """A status line for the user (stderr / status bar), e.g. 'connected', 'reconnecting'."""

    text: str
    level: str = "info"  # info | warning | error
    t: float | None = None


@dataclass(frozen=True)
class MuteChanged:
    """``/mute`` or ``/unmute``: while muted the uplink sends nothing."""

    muted: bool
    t: float | None = None

    @property
    def text(self) -> str:
        return "microphone muted" if self.muted else "microphone on"


@dataclass(frozen=True)
class TurnHold:
    """Turn-taking (``live/turn_policy.py``): ``waiting`` (a reply is held until the user has
    surely finished), ``released`` (it is heard), ``discarded`` (the user went on: a false
    start held back, never heard), ``noise`` (a sound that was no voice was ignored); barge-in:
    ``paused`` (playback paused: the user may be interrupting), ``resumed`` (a false alarm:
    it plays on where it paused), ``confirmed`` (speech: an interruption)."""

    state: str
    t: float | None = None

    @property
    def text(self) -> str:
        return TURN_HOLD_TEXT.get(self.state, self.state)


TURN_HOLD_TEXT = {
    "waiting": "waiting to be sure you've finished",
    "released": "speaking",
    "discarded": "you went on: the early reply was dropped",
    "noise": "noise ignored",
    "paused": "you may be speaking: the reply is paused",
    "resumed": "a false alarm: the reply plays on",
    "confirmed": "you interrupted",
}


@dataclass(frozen=True)
class ContextChange:
    """The session's instructions or tools were changed mid-session (``/system``, ``/style``,
    ``/tools``, ``/tool``): a notice for the view, a row in history, never a user turn."""

    kind: str  # system | style | tools | tool_add | tool_remove
    value: str
    text: str  # what the view shows
    t: float | None = None


@dataclass(frozen=True)
class Continued:
    """This session continues an earlier one: resumed by its handle, or seeded with its
    transcripts (``--continue`` / ``--session``)."""

    from_session: int
    how: str  # resumed | seeded
    text: str  # what the view shows
    seeded_turns: int = 0
    left_out_turns: int = 0
    t: float | None = None


@dataclass(frozen=True)
class Reconnect:
    """The connection is being replaced: phase "reconnecting", "resumed" or "new_session"
    (the server could not resume: a new session, seeded with ``seeded`` turns of the
    conversation so far as initial history; 0: it starts without earlier context)."""

    phase: str
    reason: str = ""
    attempt: int = 0
    t: float | None = None
    seeded: int = 0


@dataclass(frozen=True)
class Stall:
    """The stall watchdog (``live.watchdog``): the model went quiet (``kind``: no_reply,
    mid_reply, empty_turn, text_only, tone) and ``action`` was taken: nudge, resume,
    new_session, give_up; or ``recovered`` (``after_s``: from the stall to the reply's
    first audio). ``attempt``: the step's number for this stall."""

    kind: str
    action: str
    attempt: int = 0
    after_s: float | None = None
    t: float | None = None

    @property
    def text(self) -> str:
        what = STALL_KINDS.get(self.kind, self.kind)
        if self.action == "recovered":
            after = f" after {self.after_s:.1f} s" if self.after_s is not None else ""
            return f"the model answered again{after}"
        doing = STALL_ACTIONS.get(self.action, self.action)
        return f"the model went quiet ({what}): {doing}"


STALL_KINDS = {
    "no_reply": "no reply",
    "mid_reply": "stopped mid-reply",
    "empty_turn": "an empty turn",
    "text_only": "transcript without audio",
    "tone": "a tone instead of speech",
}
STALL_ACTIONS = {
    "nudge": "nudging it with your last words",
    "resume": "resuming the session",
    "new_session": "starting a new session with the conversation so far",
    "give_up": "giving up on this reply",
}


LocalEvent = (
    UserSpeechStarted
    | UserSpeechEnded
    | UserText
    | TurnEnded
    | ToolResults
    | Notice
    | MuteChanged
    | TurnHold
    | Reconnect
    | ContextChange
    | Continued
    | Stall
)
AnyEvent = LiveEvent | LocalEvent


def when(event: object) -> float:
    """An event's time on the one clock, ``time.monotonic()``; an unstamped event (``t`` None)
    is taken as now."""
    t = getattr(event, "t", None)
    return time.monotonic() if t is None else float(t)
