"""Pictures as the model gets them: change detection, scaling and JPEG encoding. No I/O.

A ``Picture`` is a Pillow image plus the raw pixel bytes it was made from (sources build
the image on those bytes without copying). ``ChangeDetector`` decides whether a picture
differs enough from the last one sent to be worth sending, in two steps: the raw bytes are
compared with the last picture's (one memcmp: an idle screen costs about a millisecond and
nothing on the wire); only when they differ, an 8x-reduced thumbnail is compared block by
block, so a blinking cursor, a ticking clock or camera noise does not count as a change, but
a few typed words, a new line of output or a moved window do. ``encode_jpeg`` scales the
long side down to a limit and encodes with Pillow.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

JPEG_MIME = "image/jpeg"


@dataclass(frozen=True)
class Picture:
    image: Image.Image  # RGB
    raw: bytes | bytearray  # the source's pixel bytes (any layout)

    @classmethod
    def from_rgb(cls, rgb: np.ndarray) -> Picture:
        rgb = np.ascontiguousarray(rgb[:, :, :3])
        return cls(Image.fromarray(rgb, "RGB"), rgb.tobytes())

    @classmethod
    def from_buffer(cls, raw: bytes | bytearray, width: int, height: int, mode: str) -> Picture:
        """``mode``: the raw layout, e.g. "BGRX" (mss), "BGR" (OpenCV), "RGB"."""
        return cls(Image.frombuffer("RGB", (width, height), raw, "raw", mode, 0, 1), raw)

    def rgb(self) -> np.ndarray:
        return np.asarray(self.image)


@dataclass(frozen=True)
class ChangeParams:
    reduce: int = 8  # thumbnail: one pixel per 8x8 block (its mean)
    block_delta: int = 8  # a block changed when a channel of its mean moved by more than this
    min_blocks: int = 6  # ... and at least this many blocks changed
    mean_delta: float = 1.0  # or the whole picture drifted by this much on average


class ChangeDetector:
    """Remembers the last picture sent; ``changed`` compares a new one with it."""

    def __init__(self, params: ChangeParams | None = None) -> None:
        self.params = params or ChangeParams()
        self._raw: bytes | None = None
        self._thumb: np.ndarray | None = None
        self.exact_checks = 0  # pictures settled by the byte comparison alone
        self.thumb_checks = 0

    def thumbnail(self, picture: Picture) -> np.ndarray:
        return np.asarray(picture.image.reduce(self.params.reduce), dtype=np.int16)

    def changed(self, picture: Picture) -> bool:
        """True for the first picture, a new size, or a change beyond the thresholds. The
        reference is the last picture that counted as changed, so small changes add up."""
        if self._raw is not None and self._raw == picture.raw:  # memcmp
            self.exact_checks += 1
            return False
        thumb = self.thumbnail(picture)
        self.thumb_checks += 1
        last = self._thumb
        if last is not None and last.shape == thumb.shape:
            diff = np.abs(thumb - last)
            p = self.params
            blocks = int(np.count_nonzero(diff.max(axis=2) > p.block_delta))
            if blocks < p.min_blocks and float(diff.mean()) <= p.mean_delta:
                return False
        self._raw, self._thumb = bytes(picture.raw), thumb
        return True

    def reset(self) -> None:
        """The next picture counts as new (after /look, a new session, a new source)."""
        self._raw = self._thumb = None


def scaled_size(width: int, height: int, long_side: int) -> tuple[int, int]:
    """The size with the long side at most ``long_side``, keeping the aspect ratio."""
    biggest = max(width, height)
    if biggest <= long_side:
        return width, height
    k = long_side / biggest
    return max(1, round(width * k)), max(1, round(height * k))


def encode_jpeg(
    picture: Picture | np.ndarray | Image.Image, long_side: int = 1024, quality: int = 80
) -> bytes:
    """JPEG bytes of the picture, scaled so its long side is at most ``long_side``."""
    if isinstance(picture, Picture):
        img = picture.image
    elif isinstance(picture, Image.Image):
        img = picture
    else:
        img = Image.fromarray(np.ascontiguousarray(picture[:, :, :3]), "RGB")
    if img.mode != "RGB":
        img = img.convert("RGB")
    size = scaled_size(img.width, img.height, long_side)
    if size != img.size:
        img = img.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def load_image(data: bytes) -> np.ndarray:
    """Decode image bytes (any format Pillow reads) into RGB pixels."""
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"))


def mean_colour(rgb: np.ndarray) -> tuple[int, int, int]:
    m = rgb[:, :, :3].reshape(-1, 3).mean(axis=0)
    return int(round(m[0])), int(round(m[1])), int(round(m[2]))
