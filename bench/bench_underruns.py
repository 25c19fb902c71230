"""Why the virtual speaker underruns (issue 31, item 1): device xruns and ALSA's "underrun
occurred" lines for model audio arriving in real time, for the writer's refill thresholds.

    eval "$(shared/audio/virtual-audio.sh env)"   # a PulseAudio default device
    python bench/bench_underruns.py [LOW_S REFILL_S]

Three replies of 3 s, 40 ms pieces handed over by a sender sleeping 40 ms a piece (so a
little slower than real time, as a network sender is: no surplus in the jitter buffer). The
speaker writes the next block when it reckons the device holds ``LOW_S``, and nothing above
``REFILL_S``. Run it once per pair in fresh processes (ALSA's lines go to this process's
stderr: count them with ``2>&1 | grep -c 'underrun occurred'``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from voicecli.audio import speaker as spk  # noqa: E402


def main() -> None:
    if len(sys.argv) == 3:
        spk.LOW_S, spk.REFILL_S = float(sys.argv[1]), float(sys.argv[2])
    piece = (np.sin(np.arange(960) / 10) * 8000).astype("<i2").tobytes()  # 40 ms at 24 kHz
    sink = spk.SpeakerSink(None)
    try:
        for _ in range(3):
            for _ in range(75):
                sink.write(piece)
                time.sleep(0.04)
            sink.flush()
            time.sleep(2.0)
        stats = sink.stats()
    finally:
        sink.close()
    print(
        f"LOW_S {spk.LOW_S * 1000:.0f} ms, REFILL_S {spk.REFILL_S * 1000:.0f} ms: "
        f"device xruns {stats['speaker_xruns']}, jitter-buffer underruns {stats['underruns']}"
    )


if __name__ == "__main__":
    main()
