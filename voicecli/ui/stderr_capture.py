"""Native output on stderr, kept off the live view's screen.

C libraries write to file descriptor 2 directly: ALSA prints ``ALSA lib pcm.c:8570:
(snd_pcm_recover) underrun occurred`` when the device runs dry, PortAudio and PulseAudio their
warnings. Over a rich live view those lines land in the middle of the redrawn region, which
then piles up copies of itself in the scrollback. While the view owns the terminal, fd 2 is a
pipe: a thread reads it line by line and hands each line (escape sequences and control
characters removed) to ``on_line``; the old fd 2 comes back on ``stop``. ALSA's underrun
reports are recognised (``is_underrun``) so the view can count them instead of printing them.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Callable

from voicecli.video.watch import clean_line

_UNDERRUN = re.compile(r"\bunderrun occurred\b|\bunderrun!", re.IGNORECASE)


def is_underrun(line: str) -> bool:
    """ALSA's report of a device that ran dry (``snd_pcm_recover``'s "underrun occurred")."""
    return bool(_UNDERRUN.search(line))


class StderrCapture:
    """fd 2 into a pipe between ``start`` and ``stop``; each line goes to ``on_line``."""

    def __init__(self, on_line: Callable[[str], None], fd: int = 2) -> None:
        self.on_line = on_line
        self.fd = fd
        self._saved: int | None = None
        self._read_end: int | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> StderrCapture:
        with contextlib.suppress(ValueError, OSError):
            sys.stderr.flush()
        try:
            saved = os.dup(self.fd)
            read_end, write_end = os.pipe()
        except OSError:  # no fd 2 to take over (a daemon): nothing to capture
            return self
        os.dup2(write_end, self.fd)
        os.close(write_end)
        self._saved, self._read_end = saved, read_end
        self._thread = threading.Thread(target=self._read, name="voicecli-stderr", daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        assert self._read_end is not None
        rest = b""
        while True:
            try:
                data = os.read(self._read_end, 4096)
            except OSError:
                break
            if not data:
                break
            *lines, rest = (rest + data).split(b"\n")
            for raw in lines:
                self._hand_over(raw)
        if rest:
            self._hand_over(rest)

    def _hand_over(self, raw: bytes) -> None:
        line = clean_line(raw.decode("utf-8", "replace"))
        if line:
            with contextlib.suppress(Exception):  # reporting must never stop the reading
                self.on_line(line)

    def stop(self) -> None:
        """The old fd 2 back; what was written before is handed over first."""
        if self._saved is None:
            return
        with contextlib.suppress(ValueError, OSError):
            sys.stderr.flush()
        os.dup2(self._saved, self.fd)  # the pipe's last writer gone: the reader sees its end
        os.close(self._saved)
        self._saved = None
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(1.0)
            if thread.is_alive():  # a child that inherited the pipe keeps it open: let it be
                return
        if self._read_end is not None:
            with contextlib.suppress(OSError):
                os.close(self._read_end)
            self._read_end = None

    def __enter__(self) -> StderrCapture:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
