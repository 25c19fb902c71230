"""The stall watchdog: a pure state machine that tells a stall from a model that chose not to
answer, a model that is thinking, and a tool that is running.

Fed with what happened (times in seconds on any monotonic clock) and asked ``check(now)``,
it says what to do: nothing, or the next recovery step. No I/O, no clock of its own: tests
drive it directly; ``live.recovery`` carries the steps out.

What counts as a stall (LIVE_FACTS "Silent stalls", issue 35):

* ``no_reply``: an utterance (or typed line) got no sign of a reply (audio, transcript, text,
  tool call, turn end) within ``stall_s``;
* ``mid_reply``: a reply started, then nothing came for ``stall_s``, with no ``turnComplete``;
* ``empty_turn``: a ``turnComplete`` with no audio, no text and no reason (no
  ``turnCompleteReason``, no ``waitingForInput``) for an utterance that was owed an answer;
* ``text_only``: output transcription without audio: a turn that completes with a transcript
  but no audio, or transcript arriving for ``stall_s`` with no audio;
* ``tone``: the audio degenerates into a steady tone while output transcription stalls (no
  transcript piece for ``tone_s`` of tonal audio; only when output transcription is on).

Not a stall: a ``turnComplete`` with a reason or ``waitingForInput`` and no audio (proactive
audio: the model chose not to answer); ``interactionStatus`` IN_PROGRESS and thought text
(thinking: the wait starts again at each sign); a tool call until its result is sent (the
wait for the reply starts then); the ``turnComplete`` that closes an interrupted generation
(the conversation drops it before the watchdog sees it).

Recovery: ``steps`` in order (default nudge, resume, new_session), each given ``stall_s`` to
bring a reply; after the last one ``give_up`` (the utterance is then left to the ordinary
no-reply wait). Audible, non-tonal reply audio after a step is the recovery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

STEPS = ("nudge", "resume", "new_session")
KINDS = ("no_reply", "mid_reply", "empty_turn", "text_only", "tone")


class State(Enum):
    IDLE = "idle"  # nothing owed
    WAITING = "waiting"  # an utterance waits for the first sign of a reply
    REPLYING = "replying"  # the reply is under way
    THINKING = "thinking"  # the model said it is still working (IN_PROGRESS, thoughts)
    TOOL = "tool"  # a tool runs: its result is owed to the model first
    RECOVERING = "recovering"  # a stall was seen; a step was taken, waiting for its effect


@dataclass(frozen=True)
class Step:
    """What to do now: ``action`` one of ``STEPS`` or ``give_up``; ``kind`` the stall;
    ``attempt`` 1 for the first step of this stall."""

    action: str
    kind: str
    attempt: int


@dataclass
class Watchdog:
    enabled: bool = True
    stall_s: float = 5.0  # nothing for this long while a reply is owed: a stall
    tone_s: float = 4.0  # tonal audio with no transcript for this long: a stall
    think_s: float = 30.0  # the longest the model may think (IN_PROGRESS) before it is one
    steps: tuple[str, ...] = STEPS
    transcribing: bool = False  # output transcription is on (the tone check needs it)
    state: State = State.IDLE
    kind: str | None = None  # the stall being recovered from
    recovered_kind: str | None = None  # the latest stall recovered from
    stalled_at: float | None = None  # when it was seen
    _since: float = 0.0  # the latest sign of life (or the start of the wait)
    _step: int = 0
    _due: str | None = None  # a stall seen at an event, acted on at the next check
    _audio: bool = False  # the reply so far has audible audio
    # ...has audio below the silence level (a near-silent reply) or text parts (a text
    # modality): generated, so not an empty turn
    _quiet: bool = False
    _generated: bool = False  # generationComplete after the reply's audio
    _text: bool = False  # ...has output transcript
    _tonal_s: float = 0.0  # tonal audio since the last transcript piece
    recovered_after_s: list[float] = field(default_factory=list)

    # --- what happened ------------------------------------------------------------------
    def user_ended(self, t: float) -> None:
        """An utterance (or typed line) the model owes an answer."""
        if self.state is State.RECOVERING:
            return  # the step's wait goes on (the nudge itself is such a line)
        self._reply_reset()
        self.state, self._since = State.WAITING, t

    def model_audio(self, t: float, seconds: float, audible: bool, tonal: bool) -> float | None:
        """Reply audio of ``seconds``; returns seconds from the stall to this audio when it
        is the recovery (audible, non-tonal audio after a recovery step), else None."""
        if not audible:  # near silence: generated, so no empty turn (a chosen silence)
            if self.state in (State.WAITING, State.REPLYING, State.THINKING):
                self.state, self._since, self._quiet = State.REPLYING, t, True
            return None
        if self.state is State.RECOVERING:
            # a tone is a recovery only with a transcript flowing (a voice may be tonal)
            return None if tonal and not self._text else self._recovered(t)
        if self.state in (State.WAITING, State.REPLYING, State.THINKING):
            self.state, self._since, self._audio = State.REPLYING, t, True
            if self.transcribing:  # the tone check: tonal audio while the transcript stalls
                self._tonal_s = self._tonal_s + seconds if tonal else 0.0
                if self._tonal_s >= self.tone_s:
                    self._due = "tone"
        return None

    def output_text(self, t: float) -> None:
        self._tonal_s = 0.0
        if self.state is State.RECOVERING:
            self._text = True
            return
        if self.state in (State.WAITING, State.THINKING):
            self.state, self._since = State.REPLYING, t
        if self.state is State.REPLYING:
            self._text = True
            if self._audio:
                self._since = t  # transcript alone does not prove a reply is coming

    def model_text(self, t: float) -> None:
        """Text parts of the reply (not thoughts): a text answer."""
        self.other_sign(t)
        if self.state is State.REPLYING:
            self._quiet = True

    def other_sign(self, t: float) -> None:
        """Text: the reply is alive."""
        if self.state in (State.WAITING, State.REPLYING):
            self.state, self._since = State.REPLYING, t

    def generation_complete(self, t: float) -> None:
        """The model has generated all of the reply: a late ``turnComplete`` is no stall
        (nothing is missing; the conversation's own timeout covers a turn that never ends)."""
        self.other_sign(t)
        if self.state is State.REPLYING and (self._audio or self._quiet):
            self._generated = True

    def thinking(self, t: float) -> None:
        if self.state in (State.WAITING, State.REPLYING, State.THINKING):
            self.state, self._since = State.THINKING, t

    def tool_running(self, running: bool, t: float) -> None:
        if running:
            if self.state is not State.RECOVERING:
                self.state = State.TOOL
        elif self.state is State.TOOL:
            self.state, self._since = State.WAITING, t  # the reply to the result is owed

    def interrupted(self, t: float) -> None:
        """A barge-in: the user speaks; the next utterance's end starts a new wait. While
        recovering it is the nudge cutting the stalled generation (a tone): the wait goes on."""
        if self.state is State.RECOVERING:
            return
        self._reply_reset()
        self.state, self.kind = State.IDLE, None

    def turn_complete(
        self,
        t: float,
        *,
        reason: str | None,
        in_progress: bool = False,
    ) -> str | None:
        """A ``turnComplete``; returns the stall kind when it is one (the turn is then not
        a turn: the caller does not book it and recovers), else None."""
        if not self.enabled:
            return None
        if in_progress and not self._audio:
            self.thinking(t)
            return None
        owed = self.state in (State.WAITING, State.REPLYING, State.THINKING, State.RECOVERING)
        if self._audio or self._quiet or reason or not owed:
            done = self.state is not State.RECOVERING or self._audio or reason is not None
            if done:
                self._reply_reset()
                self.state, self.kind = State.IDLE, None
            return None
        kind = "text_only" if self._text else "empty_turn"
        if self.state is State.RECOVERING:
            return kind  # the step's wait goes on
        self._stall(kind, t)
        return kind

    def resumed(self, t: float) -> None:
        """A recovery step that reconnected is done: its wait starts now."""
        if self.state is State.RECOVERING:
            self._since = t

    # --- what to do ---------------------------------------------------------------------
    def check(self, now: float) -> Step | None:
        if not self.enabled:
            return None
        if self._due is not None:
            kind, self._due = self._due, None
            self._stall(kind, now)
            return self._next(now)
        idle = now - self._since
        if self.state is State.WAITING and idle >= self.stall_s:
            self._stall("no_reply", now)
        elif self.state is State.REPLYING and idle >= self.stall_s and not self._generated:
            self._stall("mid_reply" if self._audio else "text_only", now)
        elif self.state is State.THINKING and idle >= self.think_s:
            self._stall("no_reply", now)
        elif not (self.state is State.RECOVERING and idle >= self.stall_s):
            return None
        return self._next(now)

    def skip(self, now: float) -> Step:
        """The step just returned could not be taken (nothing to send, no such transport):
        the next one, at once."""
        return self._next(now)

    @property
    def recovering(self) -> bool:
        """A stall is being recovered from: the no-reply wait must not book it yet."""
        return self.state is State.RECOVERING

    # --- inside -------------------------------------------------------------------------
    def _stall(self, kind: str, t: float) -> None:
        self.state, self.kind, self.stalled_at, self._step = State.RECOVERING, kind, t, 0
        self._since = t - self.stall_s  # the first step is due now

    def _next(self, now: float) -> Step:
        assert self.kind is not None
        self._step += 1
        self._since = now
        self._reply_reset()
        if self._step > len(self.steps):
            kind, self.state, self.kind = self.kind, State.IDLE, None
            return Step("give_up", kind, self._step)
        return Step(self.steps[self._step - 1], self.kind, self._step)

    def _recovered(self, t: float) -> float:
        after = t - (self.stalled_at if self.stalled_at is not None else t)
        self.recovered_after_s.append(after)
        self.recovered_kind, self.kind, self.stalled_at = self.kind, None, None
        self.state, self._since, self._audio = State.REPLYING, t, True
        return after

    def _reply_reset(self) -> None:
        self._audio = self._text = self._quiet = self._generated = False
        self._tonal_s = 0.0


def is_tonal(pcm: bytes, *, share: float = 0.9) -> bool:
    """Is this PCM16 chunk a steady tone: at least ``share`` of its energy in the spectral
    peak and its two neighbours (speech spreads its energy over harmonics and formants)?"""
    x = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64)
    if x.size < 64:
        return False
    x = (x - x.mean()) * np.hanning(x.size)
    power = np.abs(np.fft.rfft(x)) ** 2
    total = float(power.sum())
    if total <= 0.0:
        return False
    k = int(np.argmax(power))
    peak = float(power[max(0, k - 2) : k + 3].sum())
    return peak / total >= share
