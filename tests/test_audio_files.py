"""FileSource, WavSink and ConversationRecorder on generated files."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voicecli.audio.base import AudioSink, AudioSource
from voicecli.audio.files import ConversationRecorder, FileSource, WavSink
from voicecli.audio.format import bytes_to_int16, dbfs
from voicecli.audio.synth import make_utterances_wav, silence, tone, write_wav
from voicecli.errors import AudioInputError, ExitCode
from voicecli.sim.testing import dominant_frequency


async def collect(src: FileSource) -> list[bytes]:
    return [f async for f in src.frames()]


@pytest.mark.parametrize(
    ("suffix", "rate", "subtype", "channels"),
    [
        (".wav", 16000, "PCM_16", 1),
        (".wav", 8000, "PCM_16", 1),
        (".wav", 44100, "PCM_24", 2),
        (".wav", 48000, "FLOAT", 1),
        (".wav", 48000, "PCM_32", 2),
        (".flac", 44100, "PCM_16", 1),
        (".flac", 48000, "PCM_24", 2),
        (".ogg", 48000, "VORBIS", 1),
        (".ogg", 44100, "VORBIS", 2),
    ],
)
async def test_file_source_formats(
    tmp_path: Path, suffix: str, rate: int, subtype: str, channels: int
) -> None:
    path = write_wav(tmp_path / f"t{suffix}", tone(1000, 1.23, rate, 0.5), rate, channels, subtype)
    src = FileSource(path, frame_ms=20, realtime=False)
    assert isinstance(src, AudioSource)
    assert src.rate == rate and src.channels == channels
    assert src.duration_s == pytest.approx(1.23, abs=1e-3)
    frames = await collect(src)
    assert {len(f) for f in frames} == {640}
    assert len(frames) == 62  # ceil(1.23 / 0.02): the last frame padded
    pcm = bytes_to_int16(b"".join(frames))
    body = pcm[1600:18000]
    assert dominant_frequency(body, 16000) == pytest.approx(1000, abs=2)
    assert dbfs(body) == pytest.approx(dbfs(tone(1000, 1.0, 16000, 0.5)), abs=0.3)
    assert np.all(pcm[19680:] == 0)  # padding after 1.23 s
    await src.aclose()


async def test_frames_10ms_and_reiterate(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", tone(440, 0.5, 16000), 16000)
    src = FileSource(path, frame_ms=10, realtime=False)
    a = await collect(src)
    b = await collect(src)
    assert len(a) == 50 and a == b and {len(f) for f in a} == {320}
    assert b"".join(a) == tone(440, 0.5, 16000).tobytes()  # 16 kHz int16: bit exact


async def test_big_file_is_streamed(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "big.wav", tone(300, 12.0, 48000, 0.3), 48000)
    src = FileSource(path, realtime=False, block_s=0.25)
    n = 0
    async for _ in src.frames():
        n += 1
    assert n == 600


async def test_realtime_pacing(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "p.wav", tone(440, 0.6, 16000), 16000)
    t0 = time.monotonic()
    n = len(await collect(FileSource(path, realtime=True)))
    elapsed = time.monotonic() - t0
    assert n == 30
    assert 0.55 <= elapsed <= 0.8  # frame i at t0 + i*20 ms: last at 0.58 s
    t0 = time.monotonic()
    await collect(FileSource(path, realtime=False))
    assert time.monotonic() - t0 < 0.2


async def test_realtime_pacing_does_not_drift(tmp_path: Path) -> None:
    """A slow consumer late on one frame gets the next ones sooner, not all shifted."""
    path = write_wav(tmp_path / "p.wav", tone(440, 0.6, 16000), 16000)
    t0 = time.monotonic()
    async for i, _ in aenumerate(FileSource(path, realtime=True).frames()):
        if i == 5:
            await asyncio.sleep(0.1)
    assert time.monotonic() - t0 < 0.75


async def aenumerate(it: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, bytes]]:
    i = 0
    async for x in it:
        yield i, x
        i += 1


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioInputError, match="not found") as e:
        FileSource(tmp_path / "nope.wav")
    assert e.value.exit_code is ExitCode.AUDIO and e.value.hint


def test_corrupt_bytes(tmp_path: Path) -> None:
    p = tmp_path / "bad.wav"
    p.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk" + bytes(range(256)) * 4)
    with pytest.raises(AudioInputError, match="corrupt"):
        FileSource(p)


def test_empty_wav(tmp_path: Path) -> None:
    p = write_wav(tmp_path / "empty.wav", silence(0.0), 16000)
    with pytest.raises(AudioInputError, match="empty"):
        FileSource(p)


def test_text_file(tmp_path: Path) -> None:
    p = tmp_path / "notes.txt"
    p.write_text("this is not audio\n")
    with pytest.raises(AudioInputError, match="unsupported"):
        FileSource(p)
    p2 = tmp_path / "notes.wav"
    p2.write_text("this is not audio either\n")
    with pytest.raises(AudioInputError, match="corrupt"):
        FileSource(p2)
    with pytest.raises(AudioInputError, match="directory"):
        FileSource(tmp_path)


def test_make_utterances_wav(tmp_path: Path) -> None:
    spans = make_utterances_wav(tmp_path / "u.wav", [(1.0, 0.5), (0.5, 1.0)], lead_silence_s=0.5)
    assert spans == [(0.5, 1.5), (2.0, 2.5)]
    info = sf.info(str(tmp_path / "u.wav"))
    assert info.duration == pytest.approx(3.5) and info.samplerate == 16000


def test_wav_sink(tmp_path: Path) -> None:
    p = tmp_path / "out.wav"
    sink = WavSink(p)
    assert isinstance(sink, AudioSink)
    x = tone(600, 1.0, 24000)
    for i in range(0, len(x), 480):
        sink.write(x[i : i + 480].tobytes())
    sink.clear()
    sink.close()
    sink.close()  # twice is fine
    data, rate = sf.read(str(p), dtype="int16")
    assert rate == 24000 and data.ndim == 1
    assert np.array_equal(data, x)


def read_stereo(p: Path) -> tuple[np.ndarray, int]:
    data, rate = sf.read(str(p), dtype="int16", always_2d=True)
    assert data.shape[1] == 2
    return data, rate


def test_recorder_channels_and_placement(tmp_path: Path) -> None:
    p = tmp_path / "conv.wav"
    rec = ConversationRecorder(p)
    user = tone(500, 1.0, 16000, 0.5)
    for i in range(0, len(user), 320):  # 20 ms frames from t = 1.0 s
        rec.add_user(user[i : i + 320].tobytes(), 1.0 + i / 16000)
    model = tone(1500, 0.5, 24000, 0.5).tobytes()
    rec.add_model(model, 3.0)
    rec.close()
    rec.close()
    data, rate = read_stereo(p)
    assert rate == 24000 and len(data) == int(3.5 * 24000)
    left, right = data[:, 0], data[:, 1]
    assert np.all(left[: int(0.99 * rate)] == 0) and np.all(left[int(2.01 * rate) :] == 0)
    assert dominant_frequency(left[int(1.1 * rate) : int(1.9 * rate)], rate) == pytest.approx(
        500, abs=2
    )
    assert dbfs(left[int(1.1 * rate) : int(1.9 * rate)]) == pytest.approx(-9.03, abs=0.2)
    assert np.all(right[: 3 * rate] == 0)
    assert np.array_equal(right[3 * rate :], bytes_to_int16(model))


def test_recorder_burst_laid_end_to_end_and_cut(tmp_path: Path) -> None:
    p = tmp_path / "conv.wav"
    rec = ConversationRecorder(p)
    chunk = np.full(2400, 1000, dtype=np.int16).tobytes()  # 0.1 s each
    for _ in range(10):  # 1 s of audio arriving at once at t = 2.0
        rec.add_model(chunk, 2.0)
    rec.model_cut(2.5)  # barge-in half way through
    rec.add_model(np.full(2400, -500, dtype=np.int16).tobytes(), 4.0)  # the next turn
    rec.close()
    data, rate = read_stereo(p)
    right = data[:, 1]
    assert np.all(right[: 2 * rate] == 0)
    assert np.all(right[2 * rate : int(2.5 * rate)] == 1000)
    assert np.all(right[int(2.5 * rate) : 4 * rate] == 0)
    assert np.all(right[4 * rate : int(4.1 * rate)] == -500)
    assert len(data) == round(4.1 * rate)
    assert np.all(data[:, 0] == 0)


def test_recorder_long_session_streams_to_disk(tmp_path: Path) -> None:
    """60 s of alternating user and model audio: bounded buffer, exact timeline."""
    p = tmp_path / "long.wav"
    rec = ConversationRecorder(p, window_s=3.0)
    frame = np.full(320, 2000, dtype=np.int16).tobytes()
    reply = np.full(24000, 3000, dtype=np.int16).tobytes()
    for k in range(0, 60, 4):  # user speaks 1 s at k, the model answers 1 s at k + 2
        for i in range(50):
            rec.add_user(frame, k + i * 0.02)
        rec.add_model(reply, k + 2.0)
        assert len(rec._buf) <= 24000 * 8  # never grew: old audio went to disk
    rec.close()
    data, rate = read_stereo(p)
    assert len(data) == 59 * rate
    for k in range(0, 60, 4):
        seg = data[k * rate : (k + 1) * rate, 0]
        assert np.all(np.abs(seg[200:-200].astype(int) - 2000) <= 30)
        assert np.all(data[(k + 2) * rate : (k + 3) * rate, 1] == 3000)
        assert np.all(data[int((k + 1.05) * rate) : (k + 2) * rate] == 0)
