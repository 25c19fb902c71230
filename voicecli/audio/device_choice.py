"""Choosing an audio device and its format: pure functions, testable without devices.

``select_device`` takes the device list (``devices.list_devices()``) and what the user typed
(``--input-device 3``, ``--output-device headset``) and returns one device, or a one-line
``DeviceError`` that lists the candidates. ``pick_format`` finds a rate and channel count
the device takes; ``open_error`` turns PortAudio's failures into one line each.
"""

from __future__ import annotations

import functools
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


def pick_format(
    info: DeviceInfo,
    kind: Kind,
    preferred: int,
    supported: Callable[[int, int], bool],
    rate: int | None = None,
) -> tuple[int, int]:
    """(rate, channels) for ``supported(channels, rate)``: ``rate`` if given, else
    ``preferred``, the device default, 48000, 44100; mono if the device can, else stereo."""
    candidates = [rate] if rate else [preferred, int(info.default_rate), 48000, 44100]
    for channels in (1, 2):
        if channels > info.channels(kind):
            break
        found = first_supported(candidates, functools.partial(_swap, supported, channels))
        if found is not None:
            return found, channels
    tried = "/".join(str(r) for r in dict.fromkeys(candidates))
    raise DeviceError(
        f"the {kind} device {info.label()} supports none of {tried} Hz",
        "pick another device (`voicecli devices`) or change its format in the system settings",
    )


def _swap(supported: Callable[[int, int], bool], channels: int, rate: int) -> bool:
    return supported(channels, rate)


_PA_DEVICE_UNAVAILABLE = -9985
_PA_INVALID_SAMPLE_RATE = -9997


def open_error(exc: BaseException, info: DeviceInfo, kind: Kind) -> DeviceError:
    """PortAudio's error opening a stream, as one line."""
    code = exc.args[1] if len(exc.args) > 1 else None
    if code == _PA_DEVICE_UNAVAILABLE:
        return DeviceError(
            f"the {kind} device {info.label()} is busy or unavailable",
            "close other programs using it, or pick another device (`voicecli devices`)",
        )
    if code == _PA_INVALID_SAMPLE_RATE:
        return DeviceError(f"the {kind} device {info.label()} rejected the sample rate")
    return DeviceError(
        f"cannot open the {kind} device {info.label()}: {exc}", "try `voicecli devices --test`"
    )
