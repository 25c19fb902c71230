"""What the simulated model saw: video frames, images and context text.

Rules, each from a fact:

* ``realtimeInput.video`` takes JPEG or PNG pictures (LIVE_FACTS, "Setup fields": "takes
  JPEG/PNG frames"); any other mime type, or bytes that do not decode, is warned about and
  not seen.
* ``clientContent`` with ``turnComplete`` false is appended to the conversation without a
  reply (LiveClientContent reference: "Otherwise, the server will await additional messages
  before starting generation"); its text is remembered as context ("watched" lines).
* Sessions with video are limited to about 2 minutes without context window compression
  (LIVE_FACTS, "Sessions"); taken strictly: from the session's start, once a picture has
  been received, the session ends (see ``session.py``) and cannot be resumed.

Scripted replies can refer to what was seen: ``{frames}`` (pictures received in this
session), ``{colour}`` (the mean colour of the last one, as a colour name), ``{rgb}`` (its
mean R G B), ``{watched}`` (the last line of context text), ``{contexts}`` (how many context
messages arrived).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voicecli.sim.protocol import b64decode, get

IMAGE_MIMES = ("image/jpeg", "image/png")

# Named colours the mean colour is reported as (the nearest one).
COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "grey": (128, 128, 128),
    "red": (220, 30, 30),
    "green": (30, 180, 30),
    "blue": (30, 30, 220),
    "yellow": (230, 220, 30),
    "cyan": (30, 210, 220),
    "magenta": (210, 30, 210),
    "orange": (240, 140, 20),
}


def colour_name(rgb: tuple[int, int, int]) -> str:
    x = np.array(rgb, dtype=float)
    return min(COLOURS, key=lambda n: float(np.sum((np.array(COLOURS[n]) - x) ** 2)))


@dataclass
class Vision:
    frames: int = 0
    bytes: int = 0
    sizes: list[tuple[int, int]] = field(default_factory=list)  # (width, height) per frame
    last_rgb: tuple[int, int, int] | None = None
    colours: list[str] = field(default_factory=list)  # colour name per frame, in order
    contexts: list[str] = field(default_factory=list)  # context texts (turnComplete false)
    mimes: dict[str, int] = field(default_factory=dict)

    def video(self, blob: Any) -> str | None:
        """One ``realtimeInput.video`` blob; returns a warning, or None when it was seen."""
        mime = str(get(blob, "mime_type") or "")
        self.mimes[mime or "(none)"] = self.mimes.get(mime or "(none)", 0) + 1
        if mime not in IMAGE_MIMES:
            return f"video mime {mime or '(none)'!r}: the service takes image/jpeg or image/png"
        try:
            data = b64decode(str(get(blob, "data") or ""))
        except ValueError as e:
            return f"undecodable video data: {e}"
        try:
            from PIL import Image

            with Image.open(io.BytesIO(data)) as img:
                rgb = np.asarray(img.convert("RGB"))
        except Exception:
            return f"a {mime} frame that does not decode as an image"
        self.frames += 1
        self.bytes += len(data)
        self.sizes.append((int(rgb.shape[1]), int(rgb.shape[0])))
        m = rgb.reshape(-1, 3).mean(axis=0)
        self.last_rgb = (int(round(m[0])), int(round(m[1])), int(round(m[2])))
        self.colours.append(colour_name(self.last_rgb))
        return None

    def context(self, cc: Any) -> None:
        """Text of a clientContent that does not complete the turn."""
        for content in get(cc, "turns") or []:
            for part in get(content, "parts") or []:
                text = get(part, "text") if isinstance(part, dict) else None
                if isinstance(text, str) and text.strip():
                    self.contexts.append(text)

    @property
    def last_watched(self) -> str:
        for text in reversed(self.contexts):
            lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("[")]
            if lines:
                return lines[-1].strip()
        return ""

    def fill(self, template: str) -> str:
        values = {
            "frames": str(self.frames),
            "colour": colour_name(self.last_rgb) if self.last_rgb else "nothing",
            "rgb": " ".join(map(str, self.last_rgb)) if self.last_rgb else "nothing",
            "watched": self.last_watched or "nothing",
            "contexts": str(len(self.contexts)),
        }
        return re.sub(r"\{(frames|colour|rgb|watched|contexts)\}", lambda m: values[m[1]], template)
