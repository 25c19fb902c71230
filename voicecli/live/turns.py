"""Turn bookkeeping: a pure state machine over what the user and the model did.

Fed with times (seconds, any monotonic clock) and event kinds, it knows whether a reply is
pending, how long the model took to answer (end of the user's speech -> first model audio),
which turns the model spoke, which it chose to leave silent (proactive audio), and which were
interrupted. No I/O, no clock of its own: tests drive it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class TurnOutcome(Enum):
    SPOKEN = "spoken"
    SILENT = "silent"  # the model completed the turn without audio: it chose not to answer
    INTERRUPTED = "interrupted"


@dataclass
class Turn:
    index: int
    user_end: float | None = None  # end of the user's speech that this turn answers
    first_audio: float | None = None
    end: float | None = None
    audio_s: float = 0.0
    user_text: str = ""
    model_text: str = ""
    outcome: TurnOutcome | None = None
    reason: str | None = None

    @property
    def latency_s(self) -> float | None:
        if self.user_end is None or self.first_audio is None:
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

    def _ensure_current(self) -> Turn:
        if self.current is None:
            self.current = Turn(index=len(self.turns) + 1, user_end=self.pending_user_end)
            self.pending_user_end = None
        return self.current

    # --- user side -----------------------------------------------------------------------
    def user_started(self, t: float) -> None:
        self.user_speaking = True

    def user_speech(self, t: float) -> None:
        """A speech frame was sent at ``t`` (the latest one marks the end of speech)."""
        self.last_user_end = t

    def user_ended(self, t: float) -> None:
        """``t``: when the user's last speech frame was sent (not the end of the hangover)."""
        self.user_speaking = False
        if self.current is None:
            self.pending_user_end = t

    def user_text(self, text: str) -> None:
        turn = self._ensure_current()
        turn.user_text += text

    # --- model side ----------------------------------------------------------------------
    def model_audio(self, t: float, seconds: float) -> None:
        turn = self._ensure_current()
        if turn.first_audio is None:
            turn.first_audio = t
            # the server may start its turn before our gate closes: take the latest end
            if self.last_user_end is not None and self.last_user_end <= t:
                turn.user_end = self.last_user_end
            self.last_user_end = None
        turn.audio_s += seconds

    def model_text(self, text: str) -> None:
        self._ensure_current().model_text += text

    def interrupted(self, t: float) -> Turn | None:
        if self.current is None:
            return None
        turn = self._finish(t, TurnOutcome.INTERRUPTED, None)
        return turn

    def turn_complete(self, t: float, reason: str | None = None) -> Turn:
        turn = self._ensure_current()
        outcome = TurnOutcome.SPOKEN if turn.audio_s > 0 else TurnOutcome.SILENT
        return self._finish(t, outcome, reason)

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

    def latencies(self) -> list[float]:
        return [t.latency_s for t in self.turns if t.latency_s is not None]
