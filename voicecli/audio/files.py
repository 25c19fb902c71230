"""Audio files in and out: a paced ``FileSource``, a ``WavSink`` and a stereo recorder.

Reading streams in blocks (soundfile), downmixes, resamples to 16 kHz (soxr) and cuts exact
frames; problems are found at construction, so the CLI fails before connecting. Writing
happens on a writer thread behind a bounded queue, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from voicecli.audio.base import INPUT_RATE, OUTPUT_RATE, frame_bytes
from voicecli.audio.format import bytes_to_int16, float_to_int16, int16_to_bytes, to_mono
from voicecli.audio.resample import Reframer, StreamResampler
from voicecli.audio.writer import AudioWriter, WavSink
from voicecli.errors import AudioInputError

__all__ = ["ConversationRecorder", "FileSource", "WavSink"]

_HINT = "use a WAV, FLAC or OGG file (any rate, 16/24/32-bit or float)"
_KNOWN_SUFFIXES = {"." + ext.lower() for ext in sf.available_formats()} | {".oga", ".opus"}


class FileSource:
    """Frames of 16 kHz mono PCM16 from an audio file, paced at real time if ``realtime``."""

    def __init__(
        self, path: str | Path, frame_ms: int = 20, realtime: bool = True, block_s: float = 1.0
    ) -> None:
        self.path = Path(path)
        self.frame_ms = frame_ms
        self.realtime = realtime
        self._file = _open_for_reading(self.path)
        self.rate: int = self._file.samplerate
        self.channels: int = self._file.channels
        self.format: str = self._file.format
        self.subtype: str = self._file.subtype
        self._frames_total: int = self._file.frames
        self._block = max(1, int(self.rate * block_s))
        self.not_numbers = 0  # NaN / infinite samples, sent as silence
        # things the user should know, shown as notes when the session starts
        self.notes: list[str] = [n for n in [_truncation_note(self.path, self._file)] if n]
        self.on_note: Callable[[str], None] | None = None  # notes found while streaming

    @property
    def duration_s(self) -> float:
        return self._frames_total / self.rate

    def _read_block(self, resampler: StreamResampler, reframer: Reframer) -> list[bytes] | None:
        data = self._file.read(self._block, dtype="float32", always_2d=True)
        if len(data) == 0:
            return None
        if not np.isfinite(data).all():  # float files can hold NaN: never send them as noise
            bad = ~np.isfinite(data)
            self.not_numbers += int(bad.sum())
            data = np.where(bad, np.float32(0.0), data)
        pcm = int16_to_bytes(float_to_int16(to_mono(data)))
        return reframer.push(resampler.process(pcm))

    async def frames(self) -> AsyncIterator[bytes]:
        if self._file.closed:
            raise AudioInputError(f"{self.path} is closed", "open the file again")
        if self._file.seekable():  # a named pipe is read once, as it comes
            self._file.seek(0)
        resampler = StreamResampler(self.rate, INPUT_RATE)
        reframer = Reframer(frame_bytes(self.frame_ms))
        frame_s = self.frame_ms / 1000
        t0: float | None = None
        n = 0
        done = False
        while not done:
            try:
                seen = self.not_numbers
                block = await asyncio.to_thread(self._read_block, resampler, reframer)
            except (sf.SoundFileError, RuntimeError) as exc:
                raise AudioInputError(f"cannot read {self.path}: {exc}", _HINT) from exc
            if seen == 0 and self.not_numbers and self.on_note is not None:
                self.on_note(
                    f"{self.path.name} has samples that are not numbers (NaN or infinite); "
                    "they are sent as silence"
                )
            if block is None:
                block = reframer.push(resampler.flush()) + reframer.flush(pad=True)
                done = True
            for frame in block:
                if self.realtime:
                    now = time.monotonic()
                    if t0 is None:
                        t0 = now
                    delay = t0 + n * frame_s - now  # against the start: no drift
                    if delay > 0:
                        await asyncio.sleep(delay)
                n += 1
                yield frame

    async def aclose(self) -> None:
        self._file.close()


async def open_file_source(path: str | Path, **kw: Any) -> FileSource:
    """A FileSource opened off the event loop, on a thread of its own: opening a named pipe
    blocks until something writes to it, and meanwhile the loop (and Ctrl-C) keep working.
    Cancelled, the waiting thread is abandoned (a daemon: it does not hold up the exit)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[FileSource] = loop.create_future()

    def settle(result: FileSource | None, error: BaseException | None) -> None:
        if done.cancelled():
            if result is not None:
                result._file.close()
        elif error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)  # type: ignore[arg-type]

    def work() -> None:
        try:
            source, error = FileSource(path, **kw), None
        except BaseException as e:  # handed to the waiting coroutine
            source, error = None, e
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(settle, source, error)

    threading.Thread(target=work, name="voicecli-open", daemon=True).start()
    return await done


def _truncation_note(path: Path, f: sf.SoundFile) -> str | None:
    """libsndfile plays a WAV whose header claims more data than the file holds only as far
    as the data goes; say so instead of ending silently short."""
    match = re.search(r"data\s*:\s*(\d+)\s*\(should be (\d+)\)", f.extra_info)
    if match is None:
        return None
    claimed, present = int(match.group(1)), int(match.group(2))
    if claimed <= present or present <= 0:
        return None
    have = f.frames / f.samplerate
    said = have * claimed / present
    return (
        f"{path.name} is shorter than its header says ({have:.1f} s of {said:.1f} s; "
        "the file was cut off?): sending the part that is there"
    )


def check_audio_file(path: Path) -> None:
    """Fail now, with the same one line as reading it would, if ``path`` is not usable audio
    (so the CLI reports it before printing anything about the session). A named pipe (or
    any other non-regular file) is left alone: opening it would wait for a writer and read
    what can only be read once."""
    if path.exists() and not path.is_file() and not path.is_dir():
        return
    _open_for_reading(path).close()


def _open_for_reading(path: Path) -> sf.SoundFile:
    if not path.exists():
        raise AudioInputError(f"audio file not found: {path}", "check the path")
    if path.is_dir():
        raise AudioInputError(f"{path} is a directory, not an audio file", _HINT)
    suffix = path.suffix.lower()
    try:
        f = sf.SoundFile(str(path))
    except (sf.SoundFileError, RuntimeError, OSError) as exc:
        if suffix and suffix not in _KNOWN_SUFFIXES:
            raise AudioInputError(f"unsupported audio format: {path.name}", _HINT) from exc
        raise AudioInputError(f"cannot read {path}: corrupt or not audio", _HINT) from exc
    if f.frames <= 0:
        f.close()
        raise AudioInputError(f"audio file is empty: {path}", "record or pick a non-empty file")
    return f


class _Track:
    """One channel of the recorder: where its audio goes on the shared timeline."""

    def __init__(self, in_rate: int, out_rate: int, tol_s: float) -> None:
        self.in_rate, self.out_rate = in_rate, out_rate
        self.tol = int(tol_s * out_rate)
        self.resampler = StreamResampler(in_rate, out_rate)
        self.start = 0  # segment start (output samples)
        self.in_n = 0  # input samples taken in this segment
        self.out_n = 0  # output samples produced in this segment

    @property
    def end(self) -> int:
        """Where the segment ends once the resampler has given everything back."""
        return self.start + round(self.in_n * self.out_rate / self.in_rate)

    def gap(self, t: float) -> list[tuple[int, np.ndarray]]:
        """If ``t`` leaves a gap after this segment, finish it (the resampler's tail) and
        start the next segment at ``t``; otherwise audio at ``t`` follows on."""
        p = round(t * self.out_rate)
        if p <= self.end + self.tol:
            return []
        out = self.flush()
        self.start = p
        return out

    def add(self, pcm: bytes) -> tuple[int, np.ndarray]:
        self.in_n += len(pcm) // 2
        return self._place(self.resampler.process(pcm))

    def _place(self, pcm: bytes) -> tuple[int, np.ndarray]:
        a = bytes_to_int16(pcm)
        pos = self.start + self.out_n
        self.out_n += len(a)
        return pos, a

    def flush(self) -> list[tuple[int, np.ndarray]]:
        placed = self._place(self.resampler.flush())
        self.start, self.in_n, self.out_n = self.end, 0, 0
        return [placed]

    def cut(self, pos: int) -> int:
        """Forget audio from ``pos`` on; returns where it ended (to clear the buffer)."""
        old = max(self.end, self.start + self.out_n)
        if old > pos:
            self.resampler = StreamResampler(self.in_rate, self.out_rate)
            self.start, self.in_n, self.out_n = pos, 0, 0
        return old


USER_BATCH_S = 0.2  # the recorder places the user's audio this much at a time


class ConversationRecorder:
    """A stereo WAV: user audio LEFT, model audio RIGHT, on one timeline (seconds since
    the session start). Model chunks that arrive in a burst are laid end to end; the part
    of the timeline older than ``window_s`` is streamed to disk, so memory stays bounded and
    a run killed outright leaves what it had (a real-time session uses a short window: the
    file trails the conversation by about a second)."""

    def __init__(self, path: str | Path, rate: int = OUTPUT_RATE, window_s: float = 5.0) -> None:
        self.path = Path(path)
        self.rate = rate
        self.window = int(window_s * rate)
        self.block = int(min(1.0, window_s / 4) * rate)  # written at least this much at a time
        self.late_samples = 0  # audio that came too late to be placed (already on disk)
        self._user_tol_s = 0.005
        self._user = _Track(INPUT_RATE, rate, tol_s=self._user_tol_s)
        self._pending = bytearray()  # user audio not placed yet (contiguous)
        self._pending_t = self._pending_end = 0.0
        self._batch_bytes = round(USER_BATCH_S * INPUT_RATE) * 2
        self._model = _Track(OUTPUT_RATE, rate, tol_s=0.0)
        self._buf = np.zeros((rate * 8, 2), dtype=np.int16)
        self._base = 0  # timeline sample of _buf[0]; everything before it is on disk
        self._hi = 0  # end of the written timeline
        self._closed = False
        self._writer = AudioWriter(self.path, rate, 2)

    @property
    def has_content(self) -> bool:
        return self._hi > 0 or bool(self._pending)

    def add_user(self, pcm16k: bytes, t: float) -> None:
        """User audio is placed in batches of ``USER_BATCH_S`` (one resampler call for
        several frames: the microphone's frames come every 20 ms)."""
        if self._pending and t > self._pending_end + self._user_tol_s:
            self._place_user()  # a gap: the next segment starts at t
        if not self._pending:
            self._pending_t = t
        self._pending += pcm16k
        self._pending_end = self._pending_t + len(self._pending) / 2 / INPUT_RATE
        if len(self._pending) >= self._batch_bytes:
            self._place_user()

    def _place_user(self) -> None:
        if self._pending:
            self._add(self._user, 0, bytes(self._pending), self._pending_t)
            self._pending.clear()

    def add_model(self, pcm24k: bytes, t: float) -> None:
        self._add(self._model, 1, pcm24k, t)

    def _add(self, track: _Track, ch: int, pcm: bytes, t: float) -> None:
        for pos, a in track.gap(t):  # the previous segment's tail, before it goes to disk
            self._put(pos, a, ch)
        self._advance(t)
        self._put(*track.add(pcm), ch)

    def model_cut(self, t: float) -> None:
        """The model was interrupted at ``t``: drop its audio placed after ``t``."""
        self._place_user()
        self._advance(t)
        pos = max(round(t * self.rate), self._base)
        old = self._model.cut(pos)
        if old > pos:
            self._buf[pos - self._base : old - self._base, 1] = 0
            self._hi = max(pos, self._user.end, self._base)

    def _put(self, pos: int, a: np.ndarray, ch: int) -> None:
        if pos < self._base:
            skip = min(len(a), self._base - pos)
            self.late_samples += skip
            a, pos = a[skip:], pos + skip
        if not len(a):
            return
        end = pos + len(a) - self._base
        if end > len(self._buf):
            grown = np.zeros((max(end, 2 * len(self._buf)), 2), dtype=np.int16)
            grown[: len(self._buf)] = self._buf
            self._buf = grown
        self._buf[pos - self._base : end, ch] = a
        self._hi = max(self._hi, pos + len(a))

    def _advance(self, t: float) -> None:
        """Stream out the timeline older than the window (in blocks of ``block``)."""
        upto = round(t * self.rate) - self.window
        if upto - self._base >= self.block:
            self._flush_to(upto)

    def _flush_to(self, upto: int) -> None:
        n = min(upto, self._hi) - self._base
        if n > 0:
            self._writer.put(self._buf[:n].copy())
            # shifted in place (np.roll would allocate a second buffer every second): on
            # the flat view, numpy copies overlapping 1-D data without a temporary
            flat = self._buf.reshape(-1)
            flat[: flat.size - 2 * n] = flat[2 * n :]
            self._buf[-n:] = 0
            self._base += n
        while self._base < upto:  # a long silence with nothing buffered
            step = min(upto - self._base, self.rate * 10)
            self._writer.put(np.zeros((step, 2), dtype=np.int16))
            self._base += step
        self._hi = max(self._hi, self._base)

    def close(self, keep: bool = True) -> None:
        if self._closed:
            return
        self._closed = True
        self._place_user()
        for pos, a in self._user.flush():
            self._put(pos, a, 0)
        for pos, a in self._model.flush():
            self._put(pos, a, 1)
        self._flush_to(self._hi)
        self._writer.close(keep=keep)
