"""The demo's input: two spoken questions (espeak-ng when installed, else speech-like sound)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from voicecli.audio import synth
from voicecli.audio.resample import StreamResampler

# The words of the default simulator scenario's turns; no inner punctuation, so espeak-ng
# makes no pause long enough for the server's turn detection to split an utterance.
DEMO_LINES = (
    "Hello can you hear me",
    "What is a good name for a cat",
    "I like that thanks",
)
RATE = 16000


def make_demo_input(path: Path) -> tuple[Path, bool]:
    """Write the demo WAV; returns (path, True if it is real espeak-ng speech)."""
    pieces: list[np.ndarray] = [synth.silence(0.5, RATE)]
    spoken = True
    with tempfile.TemporaryDirectory() as td:
        for i, line in enumerate(DEMO_LINES):
            wav = Path(td) / f"line{i}.wav"
            if not synth.espeak_wav(line, wav):
                spoken = False
                break
            data, rate = sf.read(str(wav), dtype="int16", always_2d=True)
            mono = data[:, 0].tobytes()
            rs = StreamResampler(rate, RATE)
            pcm = rs.process(mono) + rs.flush()
            pieces += [np.frombuffer(pcm, dtype=np.int16), synth.silence(2.5, RATE)]
    if not spoken:
        synth.make_utterances_wav(path, [(1.4, 2.5), (1.6, 2.5), (1.2, 2.5)], rate=RATE)
        return path, False
    synth.write_wav(path, np.concatenate(pieces), RATE)
    return path, True
