"""``--sim``: the built-in simulator in a background thread, with the settings pointed at it."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path

from voicecli.config import Settings
from voicecli.errors import UsageError


@contextlib.contextmanager
def simulator(settings: Settings, scenario: Path | None, enabled: bool) -> Iterator[Settings]:
    """With ``enabled``: run the simulator until the block ends and yield settings that reach
    it (its URL, its CA, a placeholder key); otherwise the settings unchanged."""
    if not enabled:
        if scenario is not None:
            raise UsageError("--scenario needs --sim")
        yield settings
        return
    from voicecli.sim.server import SimServer

    sim = SimServer(scenario=scenario)
    sim.start_in_thread()
    if settings.key_problem is not None:  # the simulator takes any key: lend it one
        settings = dataclasses.replace(settings, api_key=None, key_problem=None)
    try:
        yield settings.with_overrides(
            base_url=sim.base_url,
            ca_file=str(sim.ca_path),
            api_key=settings.api_key or "sim-key",
            vertex=False,
        )
    finally:
        sim.stop_thread()


def endpoint_name(settings: Settings, sim: bool) -> str:
    """Where a session goes, in words: for the banner and the history."""
    return "simulator" if sim else (settings.base_url or "Gemini")
