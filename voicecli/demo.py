"""The demo: its input (spoken questions: espeak-ng when installed, else speech-like sound), the
speaker it plays the replies on when there is one, and what to try next."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

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


NEXT_STEPS = (
    ("voicecli talk --sim", "talk with the simulator from your microphone (Ctrl-C ends)"),
    ("voicecli devices --test", "check your microphone and speaker"),
    ("voicecli key set", "store your Gemini API key; then `voicecli talk`"),
)


def next_steps() -> str:
    """The commands a new user tries next, one a line."""
    width = max(len(cmd) for cmd, _ in NEXT_STEPS)
    lines = [f"  {cmd:<{width}}  {what}" for cmd, what in NEXT_STEPS]
    return "\n".join(["next:", *lines])


def open_speaker(settings: Any) -> Any:
    """The speaker the replies play on, or None (no device: said, and the files are written)."""
    from voicecli.errors import DeviceError

    try:
        from voicecli.audio.speaker import SpeakerSink

        return SpeakerSink(settings.output_device)
    except (DeviceError, ImportError, OSError) as e:
        print(f"not playing the replies: {getattr(e, 'message', e)}", file=sys.stderr)
        return None
