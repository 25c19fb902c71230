"""The session recording's own clock: where each piece of audio goes, and each turn lies.

In real time the two-sided recording is on the session clock (seconds since the start);
model audio that arrives in a burst is laid end to end from where the burst began. With
``--fast`` the input is read as fast as the model answers, so wall-clock times would put a
1.6 s question into a few milliseconds and the reply on top of it; there the audio is placed
by content instead: the user's audio follows on from where it left off, each reply starts
where the utterance it answers ends, and the user's next audio comes after the reply. The
recording then sounds like the conversation would have in real time.

``RecordingClock`` is that placement, kept by the conversation whether or not a recording is
written, so what the history stores (each turn's ``TurnSpan``, the time of every stored
event) is on the recording's timeline: subtitles and ``history play --turn`` point at the
audio they describe.
"""

from __future__ import annotations

from voicecli.live.events import TurnSpan


class RecordingClock:
    """Pure bookkeeping, no I/O: the conversation tells it about audio and speech as they
    happen and asks it where they are on the recording (seconds)."""

    def __init__(self, fast: bool = False) -> None:
        self.fast = fast
        self.user_end = 0.0  # where the user's audio so far ends
        self.model_end = 0.0  # where the model's audio so far ends
        self._frame = (0.0, 0.0)  # the latest user frame: (start, end)
        self._speech_start: float | None = None
        self._speech_end: float | None = None  # end of the latest frame with speech
        self._user_start: float | None = None  # the turn's utterance
        self._user_stop: float | None = None
        self._model_start: float | None = None  # the turn's first model audio
        # an utterance begun while the reply plays (a barge-in) is the next turn's
        self._next: tuple[float, float | None] | None = None

    # ------------------------------------------------------------------ audio placement
    def user(self, seconds: float, t: float) -> float:
        """Place a user frame of ``seconds`` heard at session time ``t``; its start."""
        start = max(self.user_end, self.model_end) if self.fast else t
        self.user_end = start + seconds
        self._frame = (start, self.user_end)
        return start

    def model(self, seconds: float, t: float) -> float:
        """Place model audio of ``seconds`` received at session time ``t``; its start."""
        start = max(self.model_end, self.user_end) if self.fast else max(self.model_end, t)
        self.model_end = start + seconds
        if self._model_start is None:
            self._model_start = start
        return start

    def cut(self, t: float) -> float:
        """The model was interrupted at session time ``t``: where its audio is cut. With
        ``--fast`` nobody spoke over the reply, so what it sent stays, as it was heard."""
        if self.fast:
            return self.now(t)
        self.model_end = min(self.model_end, t)
        return t

    def now(self, t: float) -> float:
        """Where the recording is at session time ``t``."""
        return max(self.user_end, self.model_end) if self.fast else t

    # ------------------------------------------------------------------ the turn's span
    def speech(self) -> None:
        """The latest user frame held speech."""
        self._speech_end = self._frame[1]

    def speech_started(self, lead_s: float = 0.0) -> None:
        """The gate opened at the latest user frame: an utterance begins (``lead_s`` earlier:
        the speech the onset needed before it opened). While a reply is under way it is the
        next turn's (the reply's turn keeps the utterance it answers)."""
        self._speech_end = self._frame[1]
        start = self._frame[0] - lead_s
        if self._model_start is not None and self._user_start is not None:
            self._next = (start, None)
            return
        self._user_start, self._user_stop = start, None

    def speech_ended(self) -> None:
        """The gate closed: the utterance ended with its last frame of speech."""
        stop = self._speech_end if self._speech_end is not None else self._frame[1]
        if self._next is not None:
            self._next = (self._next[0], stop)
        else:
            self._user_stop = stop

    def turn_ended(self, t: float) -> TurnSpan:
        """The turn that ends at session time ``t``: its span, then a fresh one begins
        (with the utterance that interrupted it, if one did)."""
        span = TurnSpan(self._user_start, self._user_stop, self._model_start, self.now(t))
        self._user_start, self._user_stop = self._next if self._next else (None, None)
        self._model_start = self._next = None
        return span
