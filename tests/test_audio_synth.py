"""Generated test audio."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voicecli.audio.format import dbfs
from voicecli.audio.synth import espeak_wav, noise, silence, speech_like, tone, write_wav


def test_shapes_levels_and_determinism() -> None:
    s = speech_like(1.5, rate=16000, seed=3)
    assert s.dtype == np.int16 and len(s) == 24000
    assert np.array_equal(s, speech_like(1.5, rate=16000, seed=3))
    assert not np.array_equal(s, speech_like(1.5, rate=16000, seed=4))
    assert -25 < dbfs(s) < -10
    t = tone(1000, 0.5, 8000, amp=0.25)
    assert len(t) == 4000 and int(np.max(np.abs(t))) == 8192
    assert len(silence(0.25, 24000)) == 6000 and not silence(0.25).any()
    assert dbfs(noise(1.0, amp=0.01)) == pytest.approx(-40, abs=0.2)


def test_speech_like_has_syllable_rhythm_and_pitch() -> None:
    s = speech_like(4.0, f0=140).astype(np.float64)
    env = np.sqrt(np.convolve(s * s, np.ones(320) / 320, mode="valid"))[::160]  # 100 Hz
    spec = np.abs(np.fft.rfft(env - env.mean()))
    freqs = np.fft.rfftfreq(len(env), 1 / 100)
    assert freqs[np.argmax(spec)] == pytest.approx(4.0, abs=0.3)


@pytest.mark.parametrize(("suffix", "subtype"), [(".wav", "PCM_24"), (".flac", "PCM_16")])
def test_write_wav(tmp_path: Path, suffix: str, subtype: str) -> None:
    p = write_wav(
        tmp_path / f"x{suffix}", tone(440, 0.1, 44100), 44100, channels=2, subtype=subtype
    )
    info = sf.info(str(p))
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (44100, 2, 4410, subtype)


def test_espeak_wav(tmp_path: Path) -> None:
    ok = espeak_wav("hello there", tmp_path / "e.wav")
    installed = bool(shutil.which("espeak-ng") or shutil.which("espeak"))
    assert ok is installed
    if ok:
        assert sf.info(str(tmp_path / "e.wav")).duration > 0.3
