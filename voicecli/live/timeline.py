"""The ``--record`` timeline of a ``--fast`` run: the conversation's own, not the clock's.

With ``--fast`` the input is read as fast as the model answers, so wall-clock times put a
1.6 s question into a few milliseconds and the reply on top of it. ``FastTimeline`` places
the audio by content instead: the user's audio follows on from where it left off, each
reply starts where the utterance it answers ends, and the user's next audio comes after
the reply. The result sounds like the conversation would have in real time.
"""

from __future__ import annotations

from voicecli.audio.base import INPUT_RATE, OUTPUT_RATE, SAMPLE_WIDTH
from voicecli.live.conversation import Recorder


class FastTimeline:
    """A Recorder in front of a Recorder: ignores the clock, lays the audio end to end."""

    def __init__(self, inner: Recorder) -> None:
        self.inner = inner
        self._user_end = 0.0  # where the user's audio so far ends (seconds)
        self._model_end = 0.0  # where the model's audio so far ends

    def add_user(self, pcm16k: bytes, t: float) -> None:
        start = max(self._user_end, self._model_end)
        self._user_end = start + len(pcm16k) / SAMPLE_WIDTH / INPUT_RATE
        self.inner.add_user(pcm16k, start)

    def add_model(self, pcm24k: bytes, t: float) -> None:
        start = max(self._model_end, self._user_end)
        self._model_end = start + len(pcm24k) / SAMPLE_WIDTH / OUTPUT_RATE
        self.inner.add_model(pcm24k, start)

    def model_cut(self, t: float) -> None:
        # the user's audio is never laid under the model's, so nothing was spoken over
        # it; what the model sent before the cut stays, as it was heard
        self.inner.model_cut(max(self._model_end, self._user_end))

    @property
    def has_content(self) -> bool:
        return bool(getattr(self.inner, "has_content", False))

    def close(self, keep: bool = True) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close(keep=keep)
