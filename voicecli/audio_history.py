"""Listen back: each session's two-sided recording, kept with its history.

While a session runs, ``ConversationRecorder`` streams both sides (you LEFT, the model RIGHT,
24 kHz) into ``recordings/<start>-<pid>-<random>.flac`` in the data dir; the history row
names the file. FLAC is lossless and about half the size of WAV for speech; a 10-minute session is a
few MB. The files together stay under ``audio_history_mb`` (oldest pruned first, at the end
of each session). ``voicecli history play ID [--turn N]`` plays one, ``history export ID
--format wav`` writes it as WAV.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from voicecli.config import data_dir
from voicecli.errors import AudioInputError, UsageError

SUFFIX = ".flac"


def recordings_dir() -> Path:
    path = data_dir() / "recordings"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def new_recording_path(started: float | None = None) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(started or time.time()))
    return recordings_dir() / f"{stamp}-{os.getpid()}-{secrets.token_hex(3)}{SUFFIX}"


def prune(store: Any, cap_bytes: int) -> list[str]:
    """Delete the oldest recordings until the kept ones fit in ``cap_bytes`` (the newest is
    always kept, even alone over the cap); their rows keep everything else. Returns the
    deleted paths. Runs inside the caller's transaction."""
    rows = store.conn.execute(
        "SELECT id, audio_path, audio_bytes FROM sessions WHERE audio_path IS NOT NULL "
        "ORDER BY id DESC"
    ).fetchall()
    total, gone = 0, []
    for k, row in enumerate(rows):
        total += row["audio_bytes"] or 0
        if k and total > cap_bytes:
            with contextlib.suppress(OSError):
                Path(row["audio_path"]).unlink()
            store.conn.execute(
                "UPDATE sessions SET audio_path = NULL, audio_bytes = NULL WHERE id = ?",
                (row["id"],),
            )
            gone.append(row["audio_path"])
    return gone


def recording_of(data: dict[str, Any]) -> Path:
    """The session's kept recording, or a UsageError saying why there is none."""
    path = data.get("audio_path")
    if not path:
        raise UsageError(
            f"session {data['id']} has no kept recording",
            "it was made with --no-audio-history, or pruned (audio_history_mb)",
        )
    p = Path(path)
    if not p.exists():
        raise UsageError(f"the recording of session {data['id']} is gone: {p}")
    return p


def turn_end(row: dict[str, Any]) -> float:
    """Where turn ``row`` ends on the recording: its end, or the end of its reply's audio
    when that came in a burst and was laid past it."""
    end = float(row["t"])
    if row.get("model_start") is not None:
        end = max(end, float(row["model_start"]) + float(row.get("audio_s") or 0.0))
    return end


def turn_span(data: dict[str, Any], turn: int) -> tuple[float, float]:
    """Seconds of the recording that hold turn ``turn`` (1-based, as ``history show``
    numbers them): from a moment before its utterance (else the end of the turn before) to
    the end of this one, a moment after it but never into the next utterance."""
    turns = data["turns"]
    if not 1 <= turn <= len(turns):
        raise UsageError(f"session {data['id']} has turns 1-{len(turns)}, not {turn}")
    start = turn_end(turns[turn - 2]) if turn > 1 else 0.0
    row = turns[turn - 1]
    user_start = row.get("user_start")
    if user_start is not None:  # a moment before the utterance, even one that barged in
        start = min(start, user_start) if turn == 1 else user_start - 0.3
    end = turn_end(row) + 0.3
    after = turns[turn].get("user_start") if turn < len(turns) else None
    if after is not None and after > turn_end(row):
        end = min(end, float(after))
    return max(0.0, start), end


def read(path: Path, start_s: float = 0.0, end_s: float | None = None) -> tuple[np.ndarray, int]:
    """Stereo int16 frames of ``path`` between the two times, and the rate."""
    try:
        with sf.SoundFile(str(path)) as f:
            rate = f.samplerate
            f.seek(min(f.frames, round(start_s * rate)))
            n = -1 if end_s is None else max(0, round((end_s - start_s) * rate))
            frames = f.read(n, dtype="int16", always_2d=True)
    except (sf.SoundFileError, RuntimeError, OSError) as e:
        raise AudioInputError(f"cannot read the recording {path}: {e}") from None
    return frames, rate


def export_wav(path: Path, out: Path) -> float:
    """The whole recording as a 16-bit stereo WAV at ``out`` (written to a temporary file
    next to it, then moved into place). Returns the duration in seconds."""
    frames, rate = read(path)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        sf.write(str(tmp), frames, rate, subtype="PCM_16", format="WAV")
        os.replace(tmp, out)
    except (sf.SoundFileError, RuntimeError, OSError) as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise UsageError(f"cannot write {out}: {e}") from None
    return len(frames) / rate


def mono(frames: np.ndarray) -> bytes:
    """Both sides mixed for one speaker (each at half level: no clipping)."""
    mixed = frames.astype(np.int32).sum(axis=1) // max(1, frames.shape[1])
    return mixed.astype("<i2").tobytes()


async def play(frames: np.ndarray, rate: int, device: str | None = None) -> float:
    """Play the frames (mixed to mono) on the speaker; returns the seconds played."""
    from voicecli.audio.base import OUTPUT_RATE
    from voicecli.audio.speaker import SpeakerSink

    if rate != OUTPUT_RATE:
        raise AudioInputError(f"the recording is at {rate} Hz, not {OUTPUT_RATE}")
    sink = SpeakerSink(device)
    try:
        pcm = mono(frames)
        step = OUTPUT_RATE // 10 * 2  # 100 ms at a time, about 1 s ahead of the speaker
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(0, len(pcm), step):
            sink.write(pcm[i : i + step])
            await asyncio.sleep(max(0.0, start + i / 2 / OUTPUT_RATE - 1.0 - loop.time()))
        await sink.drain()
    finally:
        sink.close()
    return len(frames) / rate
