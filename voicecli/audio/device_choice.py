"""Choosing an audio device from PortAudio's list: pure functions, testable without devices.

``select_device`` takes the device list (``devices.list_devices()``) and what the user typed
(``--input-device 3``, ``--output-device headset``) and returns one device, or a one-line
``DeviceError`` that lists the candidates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from voicecli.errors import DeviceError

Kind = Literal["input", "output"]


@dataclass(frozen=True)
class DeviceInfo:
    index: int
    name: str
    hostapi: str
    inputs: int
    outputs: int
    default_rate: float
    default_input: bool = False
    default_output: bool = False

    def channels(self, kind: Kind) -> int:
        return self.inputs if kind == "input" else self.outputs

    def label(self) -> str:
        return f"{self.index} {self.name!r}"


def select_device(spec: str | int | None, kind: Kind, devices: Sequence[DeviceInfo]) -> DeviceInfo:
    """The device named by ``spec``: None/"default" (the default device), an index, or a
    case-insensitive substring of the name (an exact name wins; several matches are an
    error). DeviceError lists the candidates when nothing matches."""
    usable = [d for d in devices if d.channels(kind) > 0]
    if not usable:
        where = "a microphone" if kind == "input" else "speakers or headphones"
        raise DeviceError(f"no {kind} device found", f"connect {where}; `voicecli devices` lists")
    choices = ", ".join(d.label() for d in usable)
    text = "" if spec is None else str(spec).strip()
    if text.lower() in ("", "default"):
        flag = "default_input" if kind == "input" else "default_output"
        return next((d for d in usable if getattr(d, flag)), usable[0])
    if text.lstrip("-").isdigit():
        found = [d for d in usable if d.index == int(text)]
        if not found:
            raise DeviceError(f"no {kind} device with index {text}", f"{kind} devices: {choices}")
        return found[0]
    exact = [d for d in usable if d.name.lower() == text.lower()]
    matches = exact or [d for d in usable if text.lower() in d.name.lower()]
    if not matches:
        raise DeviceError(f"no {kind} device matches {text!r}", f"{kind} devices: {choices}")
    if len(matches) > 1:
        names = ", ".join(d.label() for d in matches)
        raise DeviceError(f"{text!r} matches several {kind} devices: {names}", "give the index")
    return matches[0]


def first_supported(rates: Sequence[int], supported: Callable[[int], bool]) -> int | None:
    seen: list[int] = []
    for r in rates:
        if r > 0 and r not in seen:
            seen.append(r)
            if supported(r):
                return r
    return None
