"""Where pictures come from: a screen (mss), a camera or a video file (OpenCV), an image file.

Each source is synchronous and is used from one worker thread only (mss and OpenCV handles
belong to the thread that opened them): ``open()`` there, then ``grab(t)`` returns an RGB
``Picture``, or None when the source has nothing (a video that ended). ``t`` is the media time in
seconds: a video file seeks by it; live sources ignore it. Failures raise ``VideoError`` (files)
or ``CaptureError`` (screen, camera) with a one-line message and a hint.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from voicecli.errors import AudioInputError, DeviceError, UsageError
from voicecli.video.frames import Picture, load_image


class VideoError(AudioInputError):
    """A video or image file that cannot be read (exit 4, like unreadable audio input)."""


class CaptureError(DeviceError):
    """A screen or camera that cannot be opened (exit 9, like an audio device)."""


class PictureSource(Protocol):
    name: str

    def open(self) -> None: ...
    def grab(self, t: float) -> Picture | None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Region:
    left: int
    top: int
    width: int
    height: int

    @classmethod
    def parse(cls, text: str) -> Region:
        try:
            x, y, w, h = (int(v) for v in text.replace("x", ",").split(","))
        except ValueError:
            raise UsageError(
                f"bad screen region {text!r}", "give X,Y,W,H in pixels, e.g. 0,0,1280,720"
            ) from None
        if w <= 0 or h <= 0 or x < 0 or y < 0:
            raise UsageError(f"bad screen region {text!r}", "width and height must be > 0")
        return cls(x, y, w, h)


def _need(module: str, extra: str) -> Any:
    try:
        return __import__(module)
    except ImportError:
        raise CaptureError(
            f"{module} is not installed", f"pip install 'voicecli[{extra}]'"
        ) from None


class ScreenSource:
    """Screenshots of one monitor (1 = the first; 0 = all of them), a region of it, or one
    window (X11, found by title with xdotool)."""

    def __init__(
        self, monitor: int = 1, region: Region | None = None, window: str | None = None
    ) -> None:
        self.monitor = monitor
        self.region = region
        self.window = window
        self.name = f"window {window!r}" if window else f"screen {monitor}"
        if region is not None:
            self.name += f" region {region.left},{region.top},{region.width}x{region.height}"
        self._sct: Any = None
        self._box: dict[str, int] | None = None
        self._box_at = 0.0

    def open(self) -> None:
        mss = _need("mss", "video")
        try:
            self._sct = mss.MSS()
        except Exception as e:  # no display, no X server, no permission
            raise CaptureError(
                f"cannot capture the screen: {e}", "run inside a desktop session (DISPLAY set)"
            ) from None
        monitors = self._sct.monitors
        if not 0 <= self.monitor < len(monitors):
            raise CaptureError(
                f"no monitor {self.monitor} (this display has {len(monitors) - 1})",
                "--screen 1 is the first monitor, --screen 0 all of them",
            )
        self._box = self._find_box()

    def _find_box(self) -> dict[str, int]:
        mon = self._sct.monitors[self.monitor]
        if self.window:
            return window_box(self.window)
        if self.region is None:
            return dict(mon)
        r = self.region
        if r.left + r.width > mon["width"] or r.top + r.height > mon["height"]:
            raise UsageError(
                f"region {r.left},{r.top},{r.width}x{r.height} is outside monitor "
                f"{self.monitor} ({mon['width']}x{mon['height']})",
                "pick a region inside the monitor",
            )
        return {
            "left": mon["left"] + r.left,
            "top": mon["top"] + r.top,
            "width": r.width,
            "height": r.height,
        }

    def grab(self, t: float) -> Picture | None:
        if self.window and time.monotonic() - self._box_at > 5.0:  # follow a moved window
            self._box, self._box_at = self._find_box(), time.monotonic()
        shot = self._sct.grab(self._box)
        return Picture.from_buffer(shot.raw, shot.width, shot.height, "BGRX")  # no copy

    def close(self) -> None:
        if self._sct is not None:
            self._sct.close()
            self._sct = None


def window_box(title: str) -> dict[str, int]:
    """Geometry of the first visible window whose title contains ``title`` (xdotool)."""
    if shutil.which("xdotool") is None:
        raise CaptureError("--screen-window needs xdotool", "apt-get install xdotool")

    def run(*args: str) -> str:
        out = subprocess.run(
            ["xdotool", *args], capture_output=True, text=True, timeout=5, check=False
        )
        return out.stdout

    ids = run("search", "--onlyvisible", "--name", title).split()
    if not ids:
        raise CaptureError(f"no window titled {title!r}", "check the title (xdotool search --name)")
    geo = dict(
        line.split("=", 1)
        for line in run("getwindowgeometry", "--shell", ids[0]).splitlines()
        if "=" in line
    )
    try:
        return {
            "left": int(geo["X"]),
            "top": int(geo["Y"]),
            "width": int(geo["WIDTH"]),
            "height": int(geo["HEIGHT"]),
        }
    except (KeyError, ValueError):
        raise CaptureError(f"cannot read the geometry of window {title!r}") from None


class CameraSource:
    """Frames of a webcam (index, or a device path like /dev/video2) through OpenCV."""

    def __init__(self, device: str = "0") -> None:
        self.device = device
        self.name = f"camera {device}"
        self._cap: Any = None

    def open(self) -> None:
        cv2 = _need("cv2", "video")
        dev: int | str = int(self.device) if self.device.isdigit() else self.device
        cap = cv2.VideoCapture(dev)
        if not cap.isOpened():
            raise CaptureError(
                f"cannot open camera {self.device}", "check the device (ls /dev/video*)"
            )
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not one queued seconds ago
        self._cap = cap

    def grab(self, t: float) -> Picture | None:
        cap = self._cap
        cap.grab()  # drop a frame the driver may still hold
        ok, bgr = cap.read()
        if not ok:
            return None
        return _from_bgr(bgr)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class VideoFileSource:
    """Frames of a video file by media time (OpenCV; frames in between are skipped, not
    decoded to pictures). ``grab(t)`` gives the frame showing at ``t``; None after the end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"video {path.name}"
        self._cap: Any = None
        self._frame: Picture | None = None
        self._frame_t = -1.0
        self._next_t = 0.0  # media time of the next undecoded frame
        self._ended = False
        self.duration_s: float | None = None

    def open(self) -> None:
        cv2 = _need("cv2", "video")
        if not self.path.is_file():
            raise VideoError(f"video file {self.path} not found", "check the path")
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            raise VideoError(f"cannot read video {self.path}", "is it a video file ffmpeg reads?")
        self._cap = cap
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        count = cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0.0
        self._fps = fps if fps > 0 else 25.0
        self.duration_s = count / self._fps if count > 0 else None

    def grab(self, t: float) -> Picture | None:
        cap = self._cap
        while not self._ended and self._next_t <= t + 1e-6:
            if not cap.grab():
                self._ended = True
                break
            frame_t = self._next_t
            self._next_t += 1.0 / self._fps
            if self._next_t > t + 1e-6:  # the frame showing at t: decode only this one
                ok, bgr = cap.retrieve()
                if ok:
                    self._frame, self._frame_t = _from_bgr(bgr), frame_t
        if self._ended and t >= self._next_t:
            return None
        return self._frame

    @property
    def ended(self) -> bool:
        return self._ended

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class ImageFileSource:
    """One picture from a file (PNG, JPEG, ... anything Pillow reads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"image {path.name}"
        self._picture: Picture | None = None

    def open(self) -> None:
        try:
            data = self.path.read_bytes()
        except OSError as e:
            raise VideoError(
                f"cannot read image {self.path}: {e.strerror}", "check the path"
            ) from None
        try:
            self._picture = Picture.from_rgb(load_image(data))
        except Exception:
            raise VideoError(
                f"{self.path} is not an image Pillow can read", "use PNG or JPEG"
            ) from None

    def grab(self, t: float) -> Picture | None:
        return self._picture

    def close(self) -> None:
        self._picture = None


def _from_bgr(bgr: np.ndarray) -> Picture:
    """An OpenCV frame (BGR, contiguous) as a Picture, without reordering the bytes."""
    bgr = np.ascontiguousarray(bgr)
    h, w = bgr.shape[:2]
    return Picture.from_buffer(bgr.tobytes(), w, h, "BGR")
