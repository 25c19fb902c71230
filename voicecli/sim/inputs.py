"""Client input -> user turns: audio through the turn detector, manual activity, text.

No I/O here: ``InputTracker`` takes decoded client messages and returns what happened
(``Started`` = user activity began, which may barge in; ``Ended`` = a complete user turn),
recording counts and warnings in the session record as it goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import soxr

from voicecli.sim.detect import End, Onset, TurnDetector
from voicecli.sim.protocol import INPUT_RATE, b64decode, get, mime_rate
from voicecli.sim.records import SessionRecord, UserTurn
from voicecli.sim.validate import SetupInfo


@dataclass(frozen=True)
class Started:
    source: str
    at_s: float | None = None  # audio position of the onset (server-side detection)


@dataclass(frozen=True)
class Ended:
    turn: UserTurn


Action = Started | Ended


class InputTracker:
    def __init__(
        self, record: SessionRecord, info: SetupInfo, end_silence_ms: int, threshold_dbfs: float
    ) -> None:
        self.record = record
        self.info = info
        # fidelity rule 3: the scenario's trailing silence; the client's silenceDurationMs
        # is not honoured (the session passes it in only when the scenario relaxes that)
        self.detector = TurnDetector(end_silence_ms=end_silence_ms, threshold_dbfs=threshold_dbfs)
        self._onset_s: float | None = None
        self._manual: UserTurn | None = None
        self._manual_audio_s = 0.0
        self._resamplers: dict[int, soxr.ResampleStream] = {}

    # ---- realtimeInput -----------------------------------------------------------------

    def realtime_input(self, ri: Any) -> list[Action]:
        if not isinstance(ri, dict):
            self.record.warn("realtimeInput must be an object")
            return []
        out: list[Action] = []
        if get(ri, "activity_start") is not None:
            out += self._activity_start()
        audio = get(ri, "audio")
        if audio is not None:
            self.record.messages["realtime_input.audio"] += 1
            out += self._blob(audio)
        chunks = get(ri, "media_chunks")
        if chunks:
            self.record.messages["realtime_input.media_chunks"] += 1
            self.record.warn("mediaChunks is deprecated: send realtimeInput.audio")
            for blob in chunks:
                out += self._blob(blob)
        if get(ri, "video") is not None:
            self.record.messages["realtime_input.video"] += 1
            out += self._picture(get(ri, "video"))
        text = get(ri, "text")
        if text is not None:
            self.record.messages["realtime_input.text"] += 1
            out += self.text_turn(str(text), "text", "text")
        if get(ri, "activity_end") is not None:
            out += self._activity_end()
        if get(ri, "audio_stream_end"):
            out += self._stream_end()
        return out

    def _blob(self, blob: Any) -> list[Action]:
        mime = str(get(blob, "mime_type") or "")
        if mime and not mime.startswith("audio/"):
            self.record.messages["realtime_input.video"] += 1
            return self._picture(blob)
        self.record.audio_mimes[mime or "(none)"] += 1
        try:
            pcm = b64decode(str(get(blob, "data") or ""))
        except ValueError as e:
            self.record.warn(f"undecodable audio data: {e}")
            return []
        rate = mime_rate(mime)
        if rate is None:
            self.record.warn(f"audio mime {mime or '(none)'!r} has no rate: assumed 16000 Hz")
            rate = INPUT_RATE
        elif rate != INPUT_RATE:
            self.record.warn(f"audio at {rate} Hz: the service expects audio/pcm;rate=16000")
        if len(pcm) % 2:
            self.record.warn("odd-length PCM16 audio chunk")
            pcm = pcm[:-1]
        seconds = len(pcm) / 2 / rate
        self.record.audio_in_s += seconds
        if rate != INPUT_RATE:
            pcm = self._resample(pcm, rate)
        if not self.info.automatic_activity:
            if self._manual is None:
                self.record.warn("audio outside activityStart/activityEnd is not a turn")
            else:
                self._manual_audio_s += seconds
            return []
        return self._detected(self.detector.feed(pcm))

    def _picture(self, blob: Any) -> list[Action]:
        """A picture is seen (vision.py); with proactive video it starts a generation: the
        less forgiving reading of "might trigger a generation on each received image"
        (ProactivityConfig.proactive_video, google-genai types.py)."""
        warning = self.record.vision.video(blob)
        if warning is not None:
            self.record.warn(warning)
            return []
        if self.info.proactive_video:
            return [Ended(UserTurn(source="video", ended_by="picture", heard="(a picture)"))]
        return []

    def _resample(self, pcm: bytes, rate: int) -> bytes:
        rs = self._resamplers.get(rate)
        if rs is None:
            rs = self._resamplers[rate] = soxr.ResampleStream(rate, INPUT_RATE, 1, dtype="int16")
        x = np.frombuffer(pcm, dtype="<i2")
        return np.asarray(rs.resample_chunk(x), dtype="<i2").tobytes()

    def _detected(self, events: list[Onset | End]) -> list[Action]:
        out: list[Action] = []
        for ev in events:
            if isinstance(ev, Onset):
                self._onset_s = ev.at_s
                out.append(Started("audio", ev.at_s))
            else:
                turn = UserTurn(
                    source="audio",
                    ended_by=ev.reason,
                    start_s=self._onset_s,
                    end_s=ev.at_s,
                    speech_s=ev.speech_s,
                )
                self._onset_s = None
                out.append(Ended(turn))
        return out

    def _stream_end(self) -> list[Action]:
        self.record.audio_stream_end += 1
        self.record.messages["realtime_input.audio_stream_end"] += 1
        if not self.info.automatic_activity:
            return []
        if not self.info.honours_stream_end:
            self.record.warn(
                f"audioStreamEnd ignored: {self.info.model} needs trailing audio to end a turn"
            )
            return []
        return self._detected(self.detector.stream_end())

    def _activity_start(self) -> list[Action]:
        self.record.activity_start += 1
        self.record.messages["realtime_input.activity_start"] += 1
        if self.info.automatic_activity:
            self.record.warn("activityStart ignored: automatic activity detection is on")
            return []
        if self._manual is not None:
            self.record.warn("activityStart while an activity is open")
            return []
        self._manual = UserTurn(
            source="manual", ended_by="activity_end", start_s=round(self.record.audio_in_s, 3)
        )
        self._manual_audio_s = 0.0
        return [Started("manual")]

    def _activity_end(self) -> list[Action]:
        self.record.activity_end += 1
        self.record.messages["realtime_input.activity_end"] += 1
        if self.info.automatic_activity:
            self.record.warn("activityEnd ignored: automatic activity detection is on")
            return []
        turn, self._manual = self._manual, None
        if turn is None:
            self.record.warn("activityEnd without activityStart")
            return []
        turn.end_s = round(self.record.audio_in_s, 3)
        turn.speech_s = round(self._manual_audio_s, 3)
        return [Ended(turn)]

    # ---- text and clientContent ------------------------------------------------------

    def text_turn(self, text: str, source: str, ended_by: str) -> list[Action]:
        self.record.texts.append(text)
        turn = UserTurn(source=source, ended_by=ended_by, text=text, heard=text)
        return [Started(source), Ended(turn)]

    def client_content(self, cc: Any) -> list[Action]:
        if not isinstance(cc, dict):
            self.record.warn("clientContent must be an object")
            return []
        self.record.client_contents.append(cc)
        if not get(cc, "turn_complete"):
            self.record.vision.context(cc)  # context: appended, no reply (vision.py)
            return []
        texts = []
        for content in get(cc, "turns") or []:
            if str(get(content, "role") or "user") != "user":
                continue
            texts += [str(get(p, "text")) for p in get(content, "parts") or [] if has_text(p)]
        return self.text_turn(" ".join(texts), "client_content", "turn_complete")


def has_text(part: Any) -> bool:
    return isinstance(part, dict) and isinstance(part.get("text"), str)
