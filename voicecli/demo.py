"""The demo's input: two spoken questions (espeak-ng when installed, else speech-like sound)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from voicecli.audio import synth

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
    for line in DEMO_LINES:
        pcm = synth.espeak_pcm(line, RATE)
        if pcm is None:
            spoken = False
            break
        pieces += [np.frombuffer(pcm, dtype=np.int16), synth.silence(2.5, RATE)]
    if not spoken:
        synth.make_utterances_wav(path, [(1.4, 2.5), (1.6, 2.5), (1.2, 2.5)], rate=RATE)
        return path, False
    synth.write_wav(path, np.concatenate(pieces), RATE)
    return path, True
