"""``doctor``: check devices, key, config, model and endpoint."""

from __future__ import annotations

import contextlib

import typer

from voicecli import config as cfg
from voicecli.commands.options import BaseUrlOpt, ConfigOpt, ModelOpt, SimOpt
from voicecli.session.simulator import simulator


def doctor(
    sim: SimOpt = False,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Check PortAudio and devices, the key, the config, the model and the endpoint."""
    from voicecli import doctor as doc

    with contextlib.ExitStack() as stack:

        def overrides(settings: cfg.Settings) -> cfg.Settings:
            settings = settings.with_overrides(model=model, base_url=base_url)
            return stack.enter_context(simulator(settings, None, sim))

        checks = doc.run_checks(config, overrides, sim=sim)
    for c in checks:
        mark = "ok " if c.ok else ("-- " if c.optional else "!! ")
        line = f"{mark}{c.name}: {c.detail}"
        if not c.ok and c.hint:
            line += f" (fix: {c.hint})"
        print(line)
    code = doc.exit_code(checks)
    if code:
        raise typer.Exit(code)
