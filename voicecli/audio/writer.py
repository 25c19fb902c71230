"""Audio files out: a writer thread behind a bounded queue, and the ``WavSink``.

The format follows the extension (``voicecli.audio.formats``). Every file is written as a
partial file next to its target and renamed when closed (``voicecli.paths.PartialFile``).
WAV partials have libsndfile rewrite the header after each write, so the file is a valid
WAV at every moment: a run killed with ``kill -9`` leaves a readable recording.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import numpy as np
import soundfile as sf

from voicecli.audio.base import OUTPUT_RATE, SAMPLE_WIDTH
from voicecli.audio.format import bytes_to_int16
from voicecli.audio.formats import output_format
from voicecli.errors import OutputError
from voicecli.paths import PartialFile

# libsndfile's sf_command codes (sndfile.h); soundfile does not wrap these.
_SFC_UPDATE_HEADER_NOW = 0x1060
_SFC_SET_UPDATE_HEADER_AUTO = 0x1061


def _update_header_on_every_write(f: sf.SoundFile) -> None:
    """A valid header from the start (libsndfile writes placeholder sizes at open) and
    after every write."""
    from soundfile import _ffi, _snd

    _snd.sf_command(f._file, _SFC_SET_UPDATE_HEADER_AUTO, _ffi.NULL, 1)
    _snd.sf_command(f._file, _SFC_UPDATE_HEADER_NOW, _ffi.NULL, 0)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    text = str(exc).strip().rstrip(".")
    return text[:200] or type(exc).__name__


def _system_error(f: sf.SoundFile | None = None) -> OSError | None:
    """What libsndfile's bare "System error" was ("No space left on device"), as an OSError:
    its message for an open file, or its last one after a failed open."""
    from soundfile import _ffi, _snd

    try:
        handle = f._file if f is not None else _ffi.NULL
        text = _ffi.string(_snd.sf_strerror(handle)).decode("utf-8", "replace")
    except Exception:
        return None
    head, _, detail = text.partition(":")
    if head.strip() != "System error" or not detail.strip():
        return None
    return OSError(0, detail.strip().rstrip("."))


class AudioWriter:
    """A soundfile writer on its own thread behind a bounded queue (drop oldest when full)."""

    def __init__(self, path: str | Path, rate: int, channels: int, maxsize: int = 256) -> None:
        self.path = Path(path)
        fmt = output_format(self.path)
        try:
            self._part = PartialFile(self.path)
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {_reason(exc)}", _WRITE_HINT) from None
        try:
            self._file = sf.SoundFile(
                str(self._part.path),
                "w",
                samplerate=rate,
                channels=channels,
                subtype=fmt.subtype,
                format=fmt.format,
            )
            if fmt.is_wav:
                _update_header_on_every_write(self._file)
        except (sf.SoundFileError, RuntimeError, OSError) as exc:
            self._part.discard()
            exc = _system_error() or exc
            raise OutputError(f"cannot write {self.path}: {_reason(exc)}", _WRITE_HINT) from None
        self._q: queue.Queue[np.ndarray | None] = queue.Queue(maxsize)
        self.dropped = 0
        self.frames = 0
        self.error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="voicecli-wav", daemon=True)
        self._thread.start()

    @property
    def partial_path(self) -> Path:
        return self._part.path

    def put(self, block: np.ndarray) -> None:
        if self._closed:
            return
        while True:
            try:
                self._q.put_nowait(block)
                return
            except queue.Full:
                try:
                    self._q.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass

    def _run(self) -> None:
        while (block := self._q.get()) is not None:
            if self.error is not None:
                continue
            try:
                self._file.write(block)
                self.frames += len(block)
            except Exception as exc:  # reported at close
                self.error = _system_error(self._file) or exc
        try:
            self._file.close()
        except Exception as exc:
            self.error = self.error or _system_error() or exc

    def close(self, keep: bool = True) -> None:
        """Finish the file and give it its name; ``keep=False`` leaves the target as it was."""
        if self._closed:
            return
        self._closed = True
        self._q.put(None)
        self._thread.join()
        if self.error is not None or not keep:
            self._part.discard()
            if self.error is not None:
                raise OutputError(f"writing {self.path} failed: {_reason(self.error)}", _WRITE_HINT)
            return
        try:
            self._part.commit()
        except OSError as exc:
            self._part.discard()
            raise OutputError(f"cannot write {self.path}: {_reason(exc)}", _WRITE_HINT) from None


_WRITE_HINT = "check the folder's permissions and free space"


class WavSink:
    """An AudioSink that records PCM16 mono to a file (WAV, or the extension's format).
    ``flush`` and ``clear`` are no-ops: what reached a file has been "played"."""

    def __init__(self, path: str | Path, rate: int = OUTPUT_RATE) -> None:
        self.path = Path(path)
        self.rate = rate
        self.bytes_written = 0
        self._writer = AudioWriter(self.path, rate, 1)

    @property
    def has_content(self) -> bool:
        return self.bytes_written > 0

    def write(self, pcm: bytes) -> None:
        if pcm:
            self.bytes_written += len(pcm)
            self._writer.put(bytes_to_int16(pcm))

    def flush(self) -> None:
        pass

    def clear(self) -> None:
        pass

    def pause(self) -> None:  # a file is not played: nothing to hold
        pass

    def resume(self) -> None:
        pass

    @property
    def played_s(self) -> float:
        return self.bytes_written / SAMPLE_WIDTH / self.rate

    def close(self, keep: bool = True) -> None:
        self._writer.close(keep=keep)
