"""Choosing devices and rates from a fake PortAudio device list (no audio hardware)."""

from __future__ import annotations

import builtins
import sys

import pytest

from voicecli.audio import devices
from voicecli.audio.device_choice import DeviceInfo, first_supported, select_device
from voicecli.errors import DeviceError, ExitCode

FAKE = [
    DeviceInfo(0, "HDA Intel PCH: ALC3246 Analog (hw:0,0)", "ALSA", 2, 2, 44100.0),
    DeviceInfo(1, "USB Headset: Audio (hw:1,0)", "ALSA", 1, 2, 48000.0),
    DeviceInfo(2, "HDMI 0 (hw:0,3)", "ALSA", 0, 8, 48000.0),
    DeviceInfo(3, "pulse", "ALSA", 32, 32, 44100.0),
    DeviceInfo(4, "default", "ALSA", 32, 32, 44100.0, default_input=True, default_output=True),
]


def test_default_device_is_the_marked_one() -> None:
    assert select_device(None, "input", FAKE).index == 4
    assert select_device("default", "output", FAKE).index == 4


def test_without_a_marked_default_the_first_usable_device() -> None:
    plain = [d for d in FAKE if d.index in (1, 2)]
    assert select_device(None, "input", plain).index == 1
    assert select_device(None, "output", plain).index == 1


def test_by_index_and_by_substring() -> None:
    assert select_device("1", "input", FAKE).index == 1
    assert select_device(3, "output", FAKE).name == "pulse"
    assert select_device("headset", "input", FAKE).index == 1
    assert select_device("HDMI", "output", FAKE).index == 2
    assert select_device("Default", "input", FAKE).index == 4  # exact name, any case


def test_nothing_matches_lists_the_devices() -> None:
    with pytest.raises(DeviceError) as e:
        select_device("hdmi", "input", FAKE)  # HDMI has no input channels
    assert "no input device matches 'hdmi'" in e.value.message
    assert e.value.hint and "1 'USB Headset: Audio (hw:1,0)'" in e.value.hint
    assert "HDMI" not in e.value.hint
    assert e.value.exit_code == ExitCode.DEVICE
    with pytest.raises(DeviceError, match="no output device with index 9"):
        select_device(9, "output", FAKE)


def test_ambiguous_substring_is_an_error_naming_the_matches() -> None:
    with pytest.raises(DeviceError, match="matches several input devices"):
        select_device("hw:", "input", FAKE)


def test_no_device_of_that_kind() -> None:
    with pytest.raises(DeviceError, match="no input device found"):
        select_device(None, "input", [FAKE[2]])


def test_rates_tried_in_order_without_repeats() -> None:
    tried: list[int] = []

    def ok(rate: int) -> bool:
        tried.append(rate)
        return rate == 44100

    assert first_supported([16000, 44100, 48000, 44100], ok) == 44100
    assert tried == [16000, 44100]
    assert first_supported([16000, 0], lambda r: False) is None


def test_missing_portaudio_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: object, **kw: object) -> object:
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(DeviceError) as e:
        devices.sd()
    assert "PortAudio library not found" in e.value.message
    assert (
        e.value.hint
        and "libportaudio2" in e.value.hint
        and "brew install portaudio" in e.value.hint
    )


def test_a_device_without_any_usable_rate_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(devices, "_rate_ok", lambda kind, dev, ch, rate: False)
    with pytest.raises(DeviceError) as e:
        devices.choose_format(FAKE[1], "input", 16000)
    assert "supports none of 16000/48000/44100 Hz" in e.value.message
    assert e.value.exit_code == ExitCode.DEVICE


def test_mono_preferred_stereo_when_the_device_needs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "_rate_ok", lambda kind, dev, ch, rate: ch == 2 and rate == 48000)
    assert devices.choose_format(FAKE[0], "output", 24000) == (48000, 2)
    monkeypatch.setattr(devices, "_rate_ok", lambda kind, dev, ch, rate: rate == 24000)
    assert devices.choose_format(FAKE[0], "output", 24000) == (24000, 1)
