"""Turn-taking decisions, as a pure state machine: when a voice (not a keyboard) starts a turn,
and when the model's reply may be heard.

The gate ends the user's turn at its first 250 ms pause (``activityEnd``), so the server
starts thinking at once. People pause longer than that mid-request, so the reply is a
speculation: its audio (and transcript) is HELD until the user has been quiet for a commit
window after the end of speech. If the user speaks again inside it, the gate's onset sends
``activityStart`` (the service drops that reply) and what was held is discarded, so a false
start is never heard; the reply to the whole request comes after the next end of speech.
The window adapts to what the server heard (its input transcription): a question is answered
after a short window, a phrase that sounds unfinished ("... tell me", "and", a comma) waits
longer; ``eagerness`` (low | normal | high) scales all three.

Barge-in that survives false alarms: while the model speaks, a voice loud enough to be the
user interrupting PAUSES playback at once (``barge_in`` says "pause"), but the gate (and so
``activityStart``) opens only once it is speech: loud for ``barge_in_ms`` less the gate's onset,
and the onset (160 ms in all, as before). Confirmed, the reply is cut; no voice for
``RESUME_S`` (or no speech ``MAX_PAUSE_S`` after the pause): a false alarm, playback resumes
from the sample where it paused, nothing lost.

The start of a turn needs a voice (``audio/voicing.py``): frames the detector calls speech that
are also periodic. Keyboard typing and clicks that webrtcvad takes for speech neither start a
turn nor interrupt a reply; each such burst is counted as noise ignored.

No I/O and no clock of its own (times are passed in), so tests drive it directly; the
conversation calls ``onset`` per microphone frame, ``user_started`` / ``user_ended`` at the
gate's speech events, ``heard`` with input transcripts, ``admit`` with every server event, and
``release`` when ``due`` says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from voicecli.audio.vad import GateState
from voicecli.audio.voicing import Voicing
from voicecli.live import events as ev


@dataclass(frozen=True)
class Windows:
    """Silence after the end of speech (seconds) before a reply may be heard."""

    question: float  # what was heard ends with "?"
    default: float  # nothing known, or a finished statement
    unfinished: float  # it ends with a conjunction, an article, a filler, a comma


EAGERNESS: dict[str, Windows] = {
    "high": Windows(question=0.25, default=0.45, unfinished=0.75),
    "normal": Windows(question=0.3, default=0.8, unfinished=1.15),
    "low": Windows(question=0.6, default=1.1, unfinished=1.5),
}
EAGERNESS_NAMES = tuple(EAGERNESS)

# the last word of a phrase that is not finished (English; other languages get the default)
_UNFINISHED_WORDS = frozenset(
    re.findall(
        r"\w+",
        """a an the and or but so because if when while that which who to of for with about
        from in on at by into than then me my your our their its his her um uh erm like just
        is are was were can could would should will do does did have has i you we they he she
        it tell what how where why think mean""",
    )
)
_WORD = re.compile(r"[\w']+|[?.!,;:\u2026-]+$")

# model output that makes a reply heard (held while the window runs)
_OUTPUT = (ev.AudioChunk, ev.OutputTranscript, ev.ModelText, ev.GenerationComplete)
UNVOICED_FRAMES = 10  # "speech" with no voice (2 voiced frames in a row) for 200 ms is a
# pause: a consonant is shorter, typing straight after the last word is not
RESUME_S = 0.4  # a paused reply with no voice for this long: a false alarm, play on
MAX_PAUSE_S = 1.5  # ...or a pause that has not become speech this long after it began
VOICED_GRACE_S = 0.12  # a voice started this recently may be the user going on: wait


def phrase_kind(text: str) -> str:
    """ "question", "unfinished" or "default" for the tail of what the server heard."""
    tail = text.strip().lower()
    if not tail:
        return "default"
    if tail.endswith("?"):
        return "question"
    if tail.endswith((",", "...", "\u2026", "-", ";", ":")):
        return "unfinished"
    if tail[-1] in ".!":
        return "default"
    words = _WORD.findall(tail)
    return "unfinished" if words and words[-1] in _UNFINISHED_WORDS else "default"


class TurnPolicy:
    """``hold``: hold replies for the commit window (client-driven turns in real time);
    False: every event passes at once (the voice check still applies)."""

    def __init__(
        self,
        eagerness: str = "normal",
        *,
        hold: bool = True,
        barge_in_ms: int = 160,
        onset_ms: int = 60,
        frame_ms: int = 20,
    ) -> None:
        self.windows = EAGERNESS[eagerness]
        self._barge_hold = barge_in_ms - onset_ms  # loud speech before the gate's onset
        self._frame_ms = frame_ms
        self._barge_ms = 0  # loud speech so far while the model speaks
        self.paused_at: float | None = None  # playback paused on a possible barge-in
        self._voice_at = float("-inf")  # last voiced frame while paused
        self.hold = hold
        self.voicing = Voicing()
        self._latched = False  # a voice was confirmed and the detector still says speech
        self._raw_run = 0  # frames the detector called speech, in a row
        self._unvoiced = 0  # frames since the last voiced one, while the user speaks
        self._voiced_at = float("-inf")  # last frame that was voiced speech
        self._end: float | None = None  # end of speech whose reply is on hold
        self._heard = ""  # tail of the input transcription
        self._held: list[Any] = []
        self._discard = False  # drop the dropped reply's output until the service says so
        self.held_back = 0  # false starts held back (never heard)
        self.noise_ignored = 0  # bursts the detector called speech that were no voice
        self.confirmed = 0  # interruptions confirmed (the gate opened while paused)
        self.resumed = 0  # false alarms: playback paused, then resumed

    # ------------------------------------------------------------------------ uplink
    def onset(self, frame: bytes, speech: bool, gate: GateState, now: float) -> tuple[bool, bool]:
        """One microphone frame: (speech as the gate should see it, a noise burst was just
        ignored). To open an utterance a voice is needed; once open, the detector's word stands
        (unvoiced consonants are speech) unless there has been no voice for 200 ms: typing
        right after the last word must not hold the turn open."""
        if gate in (GateState.SPEAKING, GateState.HANGOVER):
            self._raw_run, self._latched = 0, False
            self.voicing.push(frame, speech)
            self._unvoiced = 0 if self.voicing.run >= 2 else self._unvoiced + 1
            return speech and self._unvoiced < UNVOICED_FRAMES, False
        self._unvoiced = 0  # counted afresh once the user speaks (again)
        confirmed = self.voicing.push(frame, speech)
        if self.voicing.run >= 2:  # one voiced frame is common in typing
            self._voiced_at = now
        noise = False
        if speech:
            self._raw_run += 1
        else:
            noise = self._raw_run >= 3 and not self._latched
            self._raw_run = 0
            self._latched = False
        if noise:
            self.noise_ignored += 1
        self._latched = self._latched or confirmed
        return speech and self._latched, noise

    def barge_in(
        self, raw: bool, voiced: bool, loud: bool, busy: bool, now: float
    ) -> tuple[bool, str | None]:
        """One frame while the gate is closed (``busy``: the model speaks): (speech as the
        gate should see it, "pause" | "resume" | None for the playback). ``raw``: the
        detector's word; ``voiced``: after the voice check; ``loud``: at the barge-in level.
        While the model speaks, speech opens the gate only when loud for ``barge_in_ms``
        with the gate's onset. Once it has been loud that long (less the onset), quieter
        speech still completes the onset: the end of a short first word ("Wait,") fades
        below the level, and a reset there left the barge-in to the next word, 0.6 s later."""
        act = None
        if busy and voiced and loud and self.paused_at is None:
            self.paused_at, act = now, "pause"
        if self.paused_at == float("inf"):  # confirmed: the gate has closed again
            self.paused_at = self._voice_at = now
        if self.paused_at is not None:
            self._voice_at = now if voiced else self._voice_at
            if now - self._voice_at >= RESUME_S or now - self.paused_at >= MAX_PAUSE_S:
                self.paused_at, act = None, "resume"
                self.resumed += 1
        if not busy:
            self._barge_ms = 0
            return voiced, act
        if raw and loud:
            self._barge_ms += self._frame_ms
        elif not (raw and self._barge_ms > self._barge_hold):
            self._barge_ms = 0
        return voiced and self._barge_ms > self._barge_hold, act

    def barge_confirmed(self, busy: bool) -> str | None:
        """The gate opened (``activityStart``): "confirmed" when playback was paused for it
        (an interruption), "cut" when it is also to be cleared at once (the model's turn is
        over: no ``interrupted`` will come). While the model speaks, playback stays paused
        until the service's ``interrupted`` clears it (what it sends meanwhile is not heard);
        if none comes, the resume rule plays on once the gate has closed."""
        self._barge_ms = 0
        if self.paused_at is None:
            return None
        self.confirmed += 1
        if busy:
            self.paused_at = self._voice_at = float("inf")  # no resume while the gate is open
            return "confirmed"
        self.paused_at = None
        return "cut"

    def unpause(self) -> bool:
        """The reply was cut, or the input is over: True when playback was paused."""
        paused, self.paused_at = self.paused_at is not None, None
        return paused

    def onset_s(self, params: Any) -> float:
        """How long the utterance had been speech when the gate opened (at most the
        pre-roll, which is what was sent of it): where it really began."""
        run = max(0, self._raw_run - 1) * params.frame_ms
        return min(run, params.pre_roll_ms) / 1000

    def user_started(self) -> bool:
        """The gate opened (activityStart is sent). True: a held reply was discarded."""
        dropped = bool(self._held)
        if self._end is not None:  # a reply may be in flight: the service drops it
            self._discard = True
        if dropped:
            self.held_back += 1
        self._held.clear()
        self._end = None
        self._latched = False
        return dropped

    def user_ended(self, t: float) -> None:
        """The gate closed (activityEnd is sent); ``t`` the last speech frame."""
        self._discard = False  # what follows answers this utterance
        if self.hold:
            self._end = t

    def heard(self, text: str) -> None:
        self._heard = (self._heard + text)[-200:]

    # ------------------------------------------------------------------------ downlink
    @property
    def window_s(self) -> float:
        kind = phrase_kind(self._heard)
        return float(getattr(self.windows, kind))

    @property
    def holding(self) -> bool:
        return bool(self._held)

    def due(self) -> float | None:
        """When the held reply may next be released (the caller checks ``release`` then)."""
        return self._commit_at() if self._held else None

    def _commit_at(self) -> float | None:
        if self._end is None:
            return None
        return max(self._end + self.window_s, self._voiced_at + VOICED_GRACE_S)

    def _ready(self, now: float) -> bool:
        at = self._commit_at()
        return at is None or now >= at

    def admit(self, event: Any, now: float) -> list[Any]:
        """A server event: the events to handle now (none while it is held or dropped)."""
        if isinstance(event, ev.Interrupted):
            if self._discard:  # the service dropped the false start: nothing to show (what
                # it still sends of it, up to its turnComplete, the turn book drops as late)
                self._discard = False
                return []
            self._held.clear()
            self._end = None
            return [event]
        output = isinstance(event, (*_OUTPUT, ev.TurnComplete))
        if not output:
            return [event]
        if self._discard:
            return []
        if self._end is not None and (self._held or not self._ready(now)):
            self._held.append(event)
            return []
        # a reply let through (the rest follows) or a turn's end: the next utterance is new
        self._end = None
        self._heard = ""
        return [event]

    def release(self, now: float) -> list[Any]:
        """The held events, stamped ``now`` (when they are heard), once the window is over."""
        if not self._held or not self._ready(now):
            return []
        out = [replace(e, t=now) if hasattr(e, "t") else e for e in self._held]
        self._held.clear()
        self._end = None
        self._heard = ""
        return out
