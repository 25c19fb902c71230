"""Resampling (soxr streaming) and reframing."""

from __future__ import annotations

import numpy as np
import pytest

from voicecli.audio.format import (
    bytes_to_float32,
    bytes_to_int16,
    dbfs,
    downmix_bytes,
    float_to_int16,
    int16_to_bytes,
    rms,
    to_mono,
)
from voicecli.audio.resample import Reframer, StreamResampler, resample_once
from voicecli.audio.synth import tone
from voicecli.sim.testing import dominant_frequency


def stream(r: StreamResampler, pcm: bytes, chunk: int) -> bytes:
    out = b"".join(r.process(pcm[i : i + chunk]) for i in range(0, len(pcm), chunk))
    return out + r.flush()


@pytest.mark.parametrize("in_rate", [48000, 44100, 8000, 24000])
def test_tone_keeps_frequency_level_and_duration(in_rate: int) -> None:
    x = tone(1000, 2.0, in_rate, amp=0.5)
    out = bytes_to_int16(stream(StreamResampler(in_rate, 16000), x.tobytes(), 1764))
    assert len(out) == 32000  # exactly 2.0 s at 16 kHz
    mid = out[4000:-4000]
    assert dominant_frequency(mid, 16000) == pytest.approx(1000, abs=2)
    assert dbfs(mid) == pytest.approx(dbfs(x), abs=0.1)  # ~ -9 dBFS for amp 0.5


def test_chunked_equals_one_shot_and_no_clicks() -> None:
    x = tone(1000, 1.0, 44100, amp=0.5).tobytes()
    one = bytes_to_int16(resample_once(x, 44100, 16000)).astype(np.int32)
    # odd chunk sizes (even an odd byte count) must not change the result
    for chunk in (882, 441 * 2 + 1, 3000, 17):
        chunked = bytes_to_int16(stream(StreamResampler(44100, 16000), x, chunk)).astype(np.int32)
        assert len(chunked) == len(one)
        assert np.max(np.abs(chunked - one)) <= 3
    # no clicks: a clean 1 kHz sine at 16 kHz never jumps more than 2*pi*f/rate*amp
    max_step = 2 * np.pi * 1000 / 16000 * 0.5 * 32768
    mid = one[200:-200]
    assert np.max(np.abs(np.diff(mid))) <= max_step * 1.02


def test_identity_fast_path_and_reset_after_flush() -> None:
    r = StreamResampler(16000, 16000)
    assert r.identity
    assert r.process(b"\x01\x02\x03") == b"\x01\x02"
    assert r.process(b"\x04") == b"\x03\x04"
    r2 = StreamResampler(48000, 16000)
    x = tone(440, 0.5, 48000).tobytes()
    a = stream(r2, x, 960)
    b = stream(r2, x, 960)  # reusable after flush
    assert len(a) == len(b)
    assert (
        np.max(np.abs(bytes_to_int16(a).astype(int) - bytes_to_int16(b))) <= 3
    )  # soxr dithers int16


def test_invalid_rates() -> None:
    with pytest.raises(ValueError):
        StreamResampler(0, 16000)


def test_reframer_exact_frames_and_padding() -> None:
    rf = Reframer(640)
    data = bytes(range(256)) * 10  # 2560 bytes
    frames = rf.push(data[:100]) + rf.push(data[100:1500]) + rf.push(data[1500:2000])
    assert [len(f) for f in frames] == [640, 640, 640]
    assert b"".join(frames) == data[:1920]
    assert rf.pending == 80
    last = rf.flush(pad=True)
    assert last == [data[1920:2000] + bytes(560)]
    assert rf.flush() == []
    rf.push(b"\x00" * 10)
    assert rf.flush(pad=False) == []
    with pytest.raises(ValueError):
        Reframer(641)


def test_format_helpers() -> None:
    a = np.array([0, 1000, -1000, 32767, -32768], dtype=np.int16)
    assert np.array_equal(bytes_to_int16(int16_to_bytes(a)), a)
    assert bytes_to_float32(int16_to_bytes(a))[3] == pytest.approx(32767 / 32768)
    assert list(float_to_int16([0.0, 1.5, -2.0, 0.5])) == [0, 32767, -32768, 16384]
    st = np.array([[100, 300], [-32768, -32768], [32767, 32767]], dtype=np.int16)
    assert list(to_mono(st)) == [200, -32768, 32767]
    assert bytes_to_int16(downmix_bytes(int16_to_bytes(st), 2)).tolist() == [200, -32768, 32767]
    assert rms(b"") == 0.0
    assert dbfs(np.zeros(10, dtype=np.int16)) == -120.0
    assert dbfs(tone(1000, 1.0, 16000, amp=1.0)) == pytest.approx(-3.01, abs=0.05)
    with pytest.raises(ValueError):
        bytes_to_int16(b"\x00")
