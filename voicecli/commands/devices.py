"""``devices``: list the audio devices; ``--test`` checks microphone and speaker."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from voicecli import config as cfg
from voicecli.commands.options import ConfigOpt, InputDeviceOpt, OutputDeviceOpt, in_range


def devices(
    test: Annotated[
        bool, typer.Option("--test", help="Show the input level live and play a short tone.")
    ] = False,
    seconds: Annotated[
        float,
        typer.Option(
            "--seconds",
            metavar="SECONDS",
            callback=lambda v: in_range(v, 0.5, 60.0),
            help="How long --test listens (0.5-60).",
        ),
    ] = 3.0,
    input_device: InputDeviceOpt = None,
    output_device: OutputDeviceOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List the audio devices (default marked); --test checks the microphone and speaker."""
    from voicecli.audio.device_choice import select_device
    from voicecli.audio.devices import list_devices
    from voicecli.ui import devices_view

    found = list_devices()
    devices_view.print_devices(found)
    settings = cfg.load(config, {"input_device": input_device, "output_device": output_device})
    devices_view.print_chosen(
        select_device(settings.input_device, "input", found),
        select_device(settings.output_device, "output", found),
    )
    if test:
        from voicecli.audio.duplex import check_devices

        meter = devices_view.LevelMeter()
        try:
            result = asyncio.run(
                check_devices(settings.input_device, settings.output_device, seconds, meter)
            )
        finally:
            meter.done()
        devices_view.print_check(result)
