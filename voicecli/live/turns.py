"""Turn bookkeeping: a pure state machine over what the user and the model did.

Fed with times (seconds, any monotonic clock) and event kinds, it knows whether a reply is
pending, how long the model took to answer (end of the user's speech -> first model audio),
which turns the model spoke, which it chose to leave silent (proactive audio), and which were
interrupted. No I/O, no clock of its own: tests drive it directly.

A turn is silent (the model chose not to answer) when it completes without audible audio:
no audio at all, or only audio below the level check the caller applies (``audible=False``);
or when an utterance gets no reply at all within a wait (``no_reply``, reason ``NO_REPLY``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

NO_REPLY = "NO_REPLY"  # reason of a silent turn made up for an utterance nobody answered
STOPPED = "stopped"  # reason of a reply cut short by the user's end of the session


class TurnOutcome(Enum):
    SPOKEN = "spoken"
    SILENT = "silent"  # no audible reply (or none within the wait): it chose not to answer
    INTERRUPTED = "interrupted"


@dataclass
class Turn:
    index: int
    user_end: float | None = None  # end of the user's speech that this turn answers
    first_audio: float | None = None
    end: float | None = None
    audio_s: float = 0.0
    audible_s: float = 0.0  # audio above the caller's silence level
    user_text: str = ""
    model_text: str = ""
    outcome: TurnOutcome | None = None
    reason: str | None = None

    @property
    def latency_s(self) -> float | None:
        if self.user_end is None or self.first_audio is None:
            return None
        if self.outcome is TurnOutcome.SILENT:  # near-silent audio is no answer
            return None
        return max(0.0, self.first_audio - self.user_end)


@dataclass
class TurnBook:
    """What has happened in the conversation, turn by turn."""

    turns: list[Turn] = field(default_factory=list)
    current: Turn | None = None
    pending_user_end: float | None = None  # user finished speaking, no reply started yet
    last_user_end: float | None = None  # end of the latest utterance not yet answered
    user_speaking: bool = False
    speech_start: float | None = None  # onset of the utterance being spoken

    def _ensure_current(self) -> Turn:
        if self.current is None:
            self.current = Turn(index=len(self.turns) + 1, user_end=self.pending_user_end)
            self.pending_user_end = None
        return self.current

    # --- user side -----------------------------------------------------------------------
    def user_started(self, t: float) -> None:
        self.user_speaking = True
        self.speech_start = t

    def user_speech(self, t: float) -> None:
        """A speech frame was sent at ``t`` (the latest one marks the end of speech)."""
        self.last_user_end = t

    def user_ended(self, t: float) -> None:
        """``t``: when the user's last speech frame was sent (not the end of the hangover)."""
        self.user_speaking = False
        start, self.speech_start = self.speech_start, None
        if self.current is None and not self._answered_since(start):
            self.pending_user_end = t

    def _answered_since(self, start: float | None) -> bool:
        """A model turn began after the utterance's onset and is already over: the server
        answered (or declined) before our gate closed (a long hangover)."""
        if start is None or not self.turns:
            return False
        last = self.turns[-1]
        began = last.first_audio if last.first_audio is not None else last.end
        return began is not None and began >= start

    def user_text(self, text: str) -> None:
        turn = self._ensure_current()
        turn.user_text += text

    # --- model side ----------------------------------------------------------------------
    def model_audio(self, t: float, seconds: float, audible: bool = True) -> None:
        """``audible=False``: the chunk is below the silence level (it does not make the
        turn spoken)."""
        turn = self._ensure_current()
        if turn.first_audio is None:
            turn.first_audio = t
            # the server may start its turn before our gate closes: take the latest end
            if self.last_user_end is not None and self.last_user_end <= t:
                turn.user_end = self.last_user_end
            self.last_user_end = None
        turn.audio_s += seconds
        if audible:
            turn.audible_s += seconds

    def model_text(self, text: str) -> None:
        self._ensure_current().model_text += text

    def interrupted(self, t: float) -> Turn | None:
        if self.current is None:
            return None
        turn = self._finish(t, TurnOutcome.INTERRUPTED, None)
        return turn

    def turn_complete(self, t: float, reason: str | None = None) -> Turn | None:
        """The server ended its turn. None: it confirms a silence already booked as
        ``NO_REPLY`` (nothing happened since), so no second turn is counted."""
        if (
            self.current is None
            and self.pending_user_end is None
            and self.turns
            and self.turns[-1].reason == NO_REPLY
        ):
            return None
        turn = self._ensure_current()
        outcome = TurnOutcome.SPOKEN if turn.audible_s > 0 else TurnOutcome.SILENT
        return self._finish(t, outcome, reason)

    def waiting_since(self) -> float | None:
        """End of the user's utterance that has had no sign of a reply yet (no model audio,
        text or turn end; an input transcription alone is no reply), else None."""
        if self.user_speaking:
            return None
        turn = self.current
        if turn is None:
            return self.pending_user_end
        if turn.audio_s or turn.model_text or turn.first_audio is not None:
            return None
        return turn.user_end if turn.user_end is not None else self.last_user_end

    def no_reply_due(self, now: float, wait_s: float) -> bool:
        since = self.waiting_since()
        return since is not None and now - since >= wait_s

    def no_reply(self, t: float) -> Turn | None:
        """The waiting utterance got no reply within the wait: book it as a silent turn."""
        if self.waiting_since() is None:
            return None
        self._ensure_current()
        self.last_user_end = None
        return self._finish(t, TurnOutcome.SILENT, NO_REPLY)

    def _finish(self, t: float, outcome: TurnOutcome, reason: str | None) -> Turn:
        assert self.current is not None
        turn = self.current
        turn.end, turn.outcome, turn.reason = t, outcome, reason
        self.turns.append(turn)
        self.current = None
        return turn

    # --- questions -----------------------------------------------------------------------
    @property
    def model_busy(self) -> bool:
        """A model turn has started (audio, text or transcript) and is not complete."""
        return self.current is not None

    @property
    def awaiting_reply(self) -> bool:
        return self.pending_user_end is not None or self.current is not None

    def count(self, outcome: TurnOutcome) -> int:
        return sum(1 for t in self.turns if t.outcome is outcome)

    def count_no_reply(self) -> int:
        return sum(1 for t in self.turns if t.reason == NO_REPLY)

    def latencies(self) -> list[float]:
        return [t.latency_s for t in self.turns if t.latency_s is not None]
