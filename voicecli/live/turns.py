"""Turn bookkeeping: a pure state machine over what the user and the model did.

Fed with times (seconds, any monotonic clock) and event kinds, it knows whether a reply is
pending, how long the model took to answer (end of the user's speech -> first model audio),
which turns the model spoke, which it chose to leave silent (proactive audio), and which were
interrupted. No I/O, no clock of its own: tests drive it directly.

A turn is silent (the model chose not to answer) when it completes without audible audio:
no audio at all, or only audio below the level check the caller applies (``audible=False``);
or when an utterance gets no reply at all within a wait (``no_reply``, reason ``NO_REPLY``).

After ``interrupted`` the service closes the cut generation with a ``turnComplete``
(LIVE_FACTS "Audio"); content of that generation still in flight comes before it. Until
then model content is ``late`` (the caller drops it) and that ``turnComplete`` ends no turn
(``close_cut``). A server that sends no such ``turnComplete``: content more than ``LATE_S``
after the cut, once the utterance that cut it has ended, is the next reply; a
``turnComplete`` that late, after an utterance that ended since the cut, ends its turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from voicecli.live import events as ev

NO_REPLY = "NO_REPLY"  # reason of a silent turn made up for an utterance nobody answered
# content this soon after ``interrupted`` (and before the turnComplete that closes the cut
# generation) is what the server had in flight: the next reply cannot have begun yet
LATE_S = 0.3
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

    def ended_event(self, t: float, span: Any) -> ev.TurnEnded:
        """What observers are told of this turn's end (``span``: its place on the recording)."""
        latency = self.latency_s
        return ev.TurnEnded(
            index=self.index,
            outcome=self.outcome.value if self.outcome else "",
            user_text=self.user_text.strip(),
            model_text=self.model_text.strip(),
            audio_s=round(self.audio_s, 3),
            latency_s=None if latency is None else round(latency, 3),
            reason=self.reason,
            t=t,
            span=span,
        )

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
    cut_at: float | None = None  # interrupted at; its closing turnComplete not yet seen

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

    def interrupted(self, t: float, *, by_server: bool = True) -> Turn | None:
        """The model's turn was cut at ``t``. ``by_server``: the server's ``interrupted``,
        which a ``turnComplete`` closes later (not a lost connection, which nothing closes)."""
        self.cut_at = t if by_server else None
        if self.current is None:
            return None
        turn = self._finish(t, TurnOutcome.INTERRUPTED, None)
        return turn

    def connection_lost(self, t: float) -> Turn | None:
        """A lost connection cuts the model's turn (returned, if one was under way); what
        it had not answered is sent again after the reconnect (the transport's journal), so
        an answer is expected: the wait for it starts again at ``t``."""
        cut = self.interrupted(t, by_server=False)
        if cut is not None:
            cut.reason = "connection lost"
        if cut is not None or self.pending_user_end is not None:
            self.pending_user_end = t
        return cut

    def dropped(self, t: float) -> None:
        """The service dropped at ``t`` a reply that was held and never heard (a false start):
        what it still sends of it, and the ``turnComplete`` closing it, are late as after a
        cut; no turn was booked for it, so none ends."""
        self.cut_at = t

    def late(self, t: float) -> bool:
        """Model content at ``t`` belongs to the interrupted generation (not to be played
        or shown): it comes after the cut, before its closing ``turnComplete``, within
        ``LATE_S`` or while the utterance that cut it goes on (no reply starts before the
        server has heard its end). Later content is the next reply (a server that does not
        close cuts)."""
        if self.cut_at is None:
            return False
        if t - self.cut_at < LATE_S or self.user_speaking:
            return True
        self.cut_at = None
        return False

    def close_cut(self, t: float) -> bool:
        """A ``turnComplete`` at ``t``: True when it closes the interrupted generation (the
        cut turn was booked at ``interrupted``; it ends no other). One later than ``LATE_S``
        after the cut, for an utterance that ended since, is that utterance's (a server
        that does not close cuts, and a silent reply)."""
        if self.cut_at is None:
            return False
        cut, self.cut_at = self.cut_at, None
        since = self.pending_user_end
        return not (t - cut >= LATE_S and since is not None and since > cut)

    def turn_complete(self, t: float, reason: str | None = None) -> Turn | None:
        """The server ended its turn. None: it closes an interrupted generation, or it
        confirms a silence already booked as ``NO_REPLY`` (nothing happened since), so no
        second turn is counted."""
        if self.close_cut(t):
            return None
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
