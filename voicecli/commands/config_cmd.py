"""``config``: the settings in effect and where each came from; ``--example``: every setting,
documented (the ``config.example.toml`` shipped in the package)."""

from __future__ import annotations

import dataclasses
from importlib import resources
from typing import Annotated

import typer

from voicecli import config as cfg
from voicecli.commands.options import ConfigOpt

HIDDEN = ("api_key", "tables", "key_problem")


def config(
    example: Annotated[
        bool,
        typer.Option("--example", metavar="", help="Print a config file with every setting."),
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """The settings in effect and where each comes from (file:line, variable or default)."""
    if example:
        text = (resources.files("voicecli") / "data" / "config.example.toml").read_text()
        print(text, end="")
        return
    from voicecli.ui.tables import plain_columns, terminal_width

    sources: dict[str, str | None] = {}
    settings = cfg.load(config, sources=sources)
    rows = []
    for f in dataclasses.fields(settings):
        if f.name in HIDDEN:
            continue
        value = getattr(settings, f.name)
        shown = "-" if value is None else cfg.redact(str(value), settings.api_key)
        rows.append((f.name, shown, sources.get(f.name) or "default"))
    key = "set (never shown)" if settings.api_key else "not set: `voicecli key set`"
    rows.append(("api_key", key, ""))
    path = config or cfg.home_dir() / "config.toml"
    print(f"config file: {path}{'' if path.exists() else ' (none yet)'}")
    for line in plain_columns(("setting", "value", "from"), rows, width=terminal_width()):
        print(line)
