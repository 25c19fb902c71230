"""Helpers for tests that drive the simulator through the real google-genai SDK.

Test audio is made, not recorded (``audio.synth``, here as PCM16 bytes): ``speechlike`` is
voiced harmonics of ~150 Hz with a 4 Hz syllable-rate envelope, which the simulator's detector
(and webrtcvad) hears as speech; ``silence`` is digital zeros.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from voicecli.audio import synth

RATE = 16000


def speechlike(seconds: float, rate: int = RATE, f0: float = 150.0, level: float = 0.25) -> bytes:
    """``audio.synth.steady_speech`` as PCM16 bytes."""
    return synth.steady_speech(seconds, rate, f0=f0, amp=level).tobytes()


def silence(seconds: float, rate: int = RATE) -> bytes:
    return synth.silence(seconds, rate).tobytes()


def chunks(pcm: bytes, ms: int = 20, rate: int = RATE) -> list[bytes]:
    size = rate * ms // 1000 * 2
    return [pcm[i : i + size] for i in range(0, len(pcm), size)]


def dominant_frequency(pcm: bytes | np.ndarray, rate: int = 24000) -> float:
    """Frequency of the strongest FFT bin (Hz), with parabolic interpolation.

    ``pcm``: PCM16 bytes, or samples as a numpy array (any scale)."""
    if isinstance(pcm, np.ndarray):
        x = pcm.astype(np.float64)
    else:
        x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    k = int(np.argmax(spec[1:])) + 1
    if 0 < k < spec.size - 1:
        a, b, c = spec[k - 1], spec[k], spec[k + 1]
        k += 0.5 * (a - c) / (a - 2 * b + c)
    return float(k * rate / x.size)


def sdk_client(
    base_url: str, ca_path: Any, api_key: str = "test-key", api_version: str | None = None
) -> Any:
    """A google-genai Client that trusts only the simulator's CA (async and sync paths): the
    same client voicecli makes (``live.transport.make_client``)."""
    from voicecli.config import Settings
    from voicecli.live.transport import make_client

    settings = Settings(
        base_url=base_url, ca_file=str(ca_path), api_key=api_key, api_version=api_version
    )
    return make_client(settings)


class TurnResult:
    """Everything ``AsyncSession.receive()`` yielded for one turn, already parsed by the SDK."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.audio = b""
        self.audio_after_interrupt = b""
        self.input_text = ""
        self.output_text = ""
        self.interrupted = False
        self.generation_complete = False
        self.turn_complete = False
        self.turn_complete_reason: Any = None
        self.waiting_for_input: bool | None = None
        self.usage: Any = None
        self.tool_calls: list[Any] = []
        self.cancelled_ids: list[str] = []
        self.go_away: Any = None
        self.handles: list[str] = []


async def collect_turn(session: Any, on_message: Any = None) -> TurnResult:
    """Read one turn with ``session.receive()``; ``on_message(msg)`` may be async."""
    r = TurnResult()
    async for m in session.receive():
        r.messages.append(m)
        sc = m.server_content
        if sc is not None:
            for part in (sc.model_turn.parts or []) if sc.model_turn else []:
                if part.inline_data and part.inline_data.data:
                    if r.interrupted:
                        r.audio_after_interrupt += part.inline_data.data
                    else:
                        r.audio += part.inline_data.data
            if sc.input_transcription and sc.input_transcription.text:
                r.input_text += sc.input_transcription.text
            if sc.output_transcription and sc.output_transcription.text:
                r.output_text += sc.output_transcription.text
            r.interrupted = r.interrupted or bool(sc.interrupted)
            r.generation_complete = r.generation_complete or bool(sc.generation_complete)
            if sc.turn_complete:
                r.turn_complete = True
                r.turn_complete_reason = sc.turn_complete_reason
                r.waiting_for_input = sc.waiting_for_input
        if m.usage_metadata is not None:
            r.usage = m.usage_metadata
        if m.tool_call is not None:
            r.tool_calls.append(m.tool_call)
        if m.tool_call_cancellation is not None:
            r.cancelled_ids += list(m.tool_call_cancellation.ids or [])
        if m.go_away is not None:
            r.go_away = m.go_away
        if m.session_resumption_update is not None and m.session_resumption_update.new_handle:
            r.handles.append(m.session_resumption_update.new_handle)
        if on_message is not None:
            res = on_message(m)
            if hasattr(res, "__await__"):
                await res
    return r
