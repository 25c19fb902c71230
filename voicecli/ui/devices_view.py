"""Printing for ``voicecli devices``: the device table (stdout) and the level meter (stderr)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from voicecli.audio.device_choice import DeviceInfo
from voicecli.audio.duplex import CheckResult

METER_WIDTH = 30
FLOOR_DBFS = -60.0


def print_devices(devices: Sequence[DeviceInfo], out: TextIO | None = None) -> None:
    """One line per device; ``>`` marks the default input, ``<`` the default output."""
    out = out or sys.stdout
    if not devices:
        print("no audio devices found", file=out)
        return
    from voicecli.ui.tables import plain_columns, terminal_width

    rows = [
        (
            (">" if d.default_input else " ") + ("<" if d.default_output else " "),
            d.index, d.name, d.hostapi, d.inputs, d.outputs, f"{d.default_rate:g}",
        )
        for d in devices
    ]  # fmt: skip
    headers = ("", "#", "name", "host API", "in", "out", "rate")
    for line in plain_columns(
        headers, rows, right=(1, 4, 5), width=terminal_width(out), drop=(6, 3)
    ):
        print(line, file=out)
    print(
        "  > default input, < default output; choose with --input-device/--output-device "
        "(index or part of the name)",
        file=out,
    )


def print_chosen(input: DeviceInfo, output: DeviceInfo, out: TextIO | None = None) -> None:
    """The devices ``voicecli talk`` would use with these settings."""
    out = out or sys.stdout
    print(f"talk uses: input {input.label()}, output {output.label()}", file=out)


def meter_bar(level_dbfs: float, width: int = METER_WIDTH) -> str:
    """``[#######.......]`` from FLOOR_DBFS (empty) to 0 dBFS (full)."""
    frac = min(1.0, max(0.0, (level_dbfs - FLOOR_DBFS) / -FLOOR_DBFS))
    n = round(frac * width)
    return "[" + "#" * n + "." * (width - n) + "]"


class LevelMeter:
    """A one-line live meter on stderr (redrawn in place on a terminal)."""

    def __init__(self, err: TextIO | None = None) -> None:
        self.err = err or sys.stderr
        self.tty = self.err.isatty()
        self._last_print = -1.0

    def __call__(self, t: float, level: float) -> None:
        line = f"input {meter_bar(level)} {max(level, -99.0):6.1f} dBFS  {t:4.1f} s"
        if self.tty:
            print("\r" + line, end="", file=self.err, flush=True)
        elif t - self._last_print >= 0.5:  # a log, not an animation
            self._last_print = t
            print(line, file=self.err, flush=True)

    def done(self) -> None:
        if self.tty:
            print(file=self.err, flush=True)


def print_check(res: CheckResult, err: TextIO | None = None) -> None:
    err = err or sys.stderr
    print(
        f"input  {res.input.label()} at {res.input_rate} Hz: peak {res.peak_dbfs:.1f} dBFS"
        + (" (silent: muted, or the wrong device?)" if res.silent else ""),
        file=err,
    )
    print(
        f"output {res.output.label()} at {res.output_rate} Hz: played a {res.tone_s:.1f} s tone "
        f"({res.played_s:.2f} s reached the device)",
        file=err,
    )


def format_audio_stats(stats: dict[str, float | int]) -> str:
    """The end-of-session line about the devices (``LiveAudio.stats``)."""
    parts = [f"audio: played {stats.get('played_s', 0):.1f} s"]
    parts.append(f"{stats.get('underruns', 0)} underruns ({stats.get('underrun_s', 0):.2f} s)")
    if stats.get("cleared_s"):
        parts.append(f"{stats['cleared_s']:.1f} s dropped at barge-in")
    if "mic_muted_s" in stats:
        parts.append(f"mic muted {stats['mic_muted_s']:.1f} s while the model spoke")
    if "aec_echo_path" in stats:
        if not stats["aec_echo_path"]:
            parts.append("no echo path (headphones?): mic passed as is")
        else:
            # the path is assumed until shown otherwise: a delay is only known once measured
            # (a tone, or nothing played, measures none)
            delay, replies = stats["aec_echo_delay_ms"], stats.get("aec_replies")
            if delay < 0 and not replies:
                parts.append("echo canceller on (no reply played through it)")
            else:
                text = f"echo path {delay} ms, cancelled" if delay >= 0 else "echo cancelled"
                if replies:
                    text += (
                        f" by {stats['aec_reduction_median_db']:.0f} dB (least"
                        f" {stats['aec_reduction_min_db']:.0f} dB) over {replies} replies"
                    )
                parts.append(text)
    parts.append(f"mic overflows {stats.get('mic_overflows', 0)}")
    mic_x, spk_x = int(stats.get("mic_xruns", 0)), int(stats.get("speaker_xruns", 0))
    if mic_x or spk_x:
        parts.append(f"device xruns: mic {mic_x}, speaker {spk_x}")
    return "; ".join(parts)
