"""Server-side turn detection on the input audio itself (not on wall-clock time).

A pure state machine: feed 16 kHz PCM16 as it arrives, get onset/end events whose
positions are in seconds of *audio*, so a client streaming faster than real time gets
the same turns as one streaming in real time. A 20 ms frame is speech when its level is
at least ``threshold_dbfs`` and webrtcvad agrees. A turn starts after ``onset_ms`` of
consecutive speech and ends after ``end_silence_ms`` of trailing non-speech, or at
``stream_end()`` (audioStreamEnd) for models that honour it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import webrtcvad

RATE = 16000
FRAME_MS = 20
FRAME_BYTES = RATE * FRAME_MS // 1000 * 2


@dataclass(frozen=True)
class Onset:
    at_s: float  # audio position where the speech started


@dataclass(frozen=True)
class End:
    at_s: float  # audio position where the turn was closed
    speech_s: float  # from onset to the end of the last speech frame
    reason: str  # "silence" | "stream_end"


DetectorEvent = Onset | End


def frame_dbfs(frame: bytes) -> float:
    x = np.frombuffer(frame, dtype="<i2").astype(np.float64)
    rms = float(np.sqrt(np.mean(x * x))) if x.size else 0.0
    return 20 * np.log10(max(rms, 1e-9) / 32768.0)


class TurnDetector:
    def __init__(
        self,
        end_silence_ms: int = 800,  # fidelity rule 3: >= 800 ms of trailing audio
        onset_ms: int = 60,
        threshold_dbfs: float = -42.0,
        vad_mode: int = 2,
    ) -> None:
        self.end_silence_ms = end_silence_ms
        self.onset_frames = max(1, onset_ms // FRAME_MS)
        self.threshold_dbfs = threshold_dbfs
        self._vad = webrtcvad.Vad(vad_mode)
        self._rest = b""
        self._frames = 0  # frames analysed so far (position = frames * 20 ms)
        self._run = 0  # consecutive speech frames while not in a turn
        self._silence_ms = 0
        self._onset_frame = 0
        self._last_speech_frame = 0
        self.in_speech = False

    @property
    def position_s(self) -> float:
        return self._frames * FRAME_MS / 1000

    def is_speech(self, frame: bytes) -> bool:
        if frame_dbfs(frame) < self.threshold_dbfs:
            return False
        return bool(self._vad.is_speech(frame, RATE))

    def feed(self, pcm: bytes) -> list[DetectorEvent]:
        data = self._rest + pcm
        usable = len(data) - len(data) % FRAME_BYTES
        self._rest = data[usable:]
        events: list[DetectorEvent] = []
        for off in range(0, usable, FRAME_BYTES):
            ev = self._step(self.is_speech(data[off : off + FRAME_BYTES]))
            if ev is not None:
                events.append(ev)
        return events

    def _step(self, speech: bool) -> DetectorEvent | None:
        self._frames += 1
        if not self.in_speech:
            self._run = self._run + 1 if speech else 0
            if self._run >= self.onset_frames:
                self.in_speech = True
                self._silence_ms = 0
                self._onset_frame = self._frames - self._run
                self._last_speech_frame = self._frames
                self._run = 0
                return Onset(self._onset_frame * FRAME_MS / 1000)
            return None
        if speech:
            self._silence_ms = 0
            self._last_speech_frame = self._frames
            return None
        self._silence_ms += FRAME_MS
        if self._silence_ms >= self.end_silence_ms:
            return self._close("silence")
        return None

    def _close(self, reason: str) -> End:
        self.in_speech = False
        self._run = 0
        self._silence_ms = 0
        speech_s = (self._last_speech_frame - self._onset_frame) * FRAME_MS / 1000
        return End(self.position_s, round(speech_s, 3), reason)

    def stream_end(self) -> list[DetectorEvent]:
        """audioStreamEnd: the client stopped sending; close an open turn now."""
        self._rest = b""
        self._run = 0
        return [self._close("stream_end")] if self.in_speech else []
