"""Test helpers for screen sharing: a private Xvfb display and a window that changes colour,
and generated media (a video file with coloured segments, images)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

NO_XVFB = shutil.which("Xvfb") is None
needs_xvfb = pytest.mark.skipif(
    NO_XVFB, reason="Xvfb is not installed (apt-get install xvfb; `make testdeps` does it)"
)


needs_cv2 = pytest.mark.skipif(
    importlib.util.find_spec("cv2") is None,
    reason="OpenCV is not installed (pip install 'voicecli[video]'; `make venv` does it)",
)


def _has_tk() -> bool:
    try:
        import tkinter  # noqa: F401
    except ImportError:
        return False
    return True


needs_tk = pytest.mark.skipif(
    not _has_tk(), reason="tkinter is not installed (apt-get install python3-tk)"
)


@contextlib.contextmanager
def xvfb(width: int = 640, height: int = 480) -> Iterator[str]:
    """A private X display (its own number, chosen by Xvfb); yields ``:N``."""
    r, w = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(w), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
        pass_fds=(w,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(w)
    try:
        with os.fdopen(r) as f:
            number = f.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


WINDOW_SCRIPT = r"""
import sys, threading, tkinter
root = tkinter.Tk()
root.title("voicecli colour window")
root.geometry(f"{root.winfo_screenwidth()}x{root.winfo_screenheight()}+0+0")
root.configure(background=sys.argv[1])
def read():
    for line in sys.stdin:
        if line.strip():
            root.after(0, lambda c=line.strip(): root.configure(background=c))
    root.after(0, root.destroy)
threading.Thread(target=read, daemon=True).start()
root.after(200, lambda: print("ready", flush=True))
root.mainloop()
"""


class ColourWindow:
    """A full-screen window on ``display``; ``set(colour)`` repaints it."""

    def __init__(self, display: str, colour: str) -> None:
        env = {**os.environ, "DISPLAY": display}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WINDOW_SCRIPT, colour],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline().strip()
        if ready != "ready":
            raise RuntimeError("the colour window did not start")
        time.sleep(0.3)  # mapped and painted

    def set(self, colour: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(colour + "\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def make_video(
    path: Path,
    colours: list[tuple[int, int, int]],
    seconds_each: float,
    fps: int = 10,
    size: tuple[int, int] = (160, 120),
) -> None:
    """A video file (MJPEG in AVI, written with OpenCV) showing each colour in turn."""
    import cv2

    w, h = size
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert out.isOpened(), "OpenCV cannot write MJPG/AVI"
    for rgb in colours:
        frame = np.zeros((h, w, 3), np.uint8)
        frame[:, :] = rgb[::-1]  # BGR
        for _ in range(round(seconds_each * fps)):
            out.write(frame)
    out.release()


def make_image(path: Path, rgb: tuple[int, int, int], size: tuple[int, int] = (320, 200)) -> Path:
    from PIL import Image

    Image.new("RGB", size, rgb).save(path)
    return path
