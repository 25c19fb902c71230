"""``sim`` (the local Live API simulator) and ``models`` (what each Live model can do)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from voicecli import config as cfg
from voicecli.live import capabilities


def sim_cmd(
    port: Annotated[int, typer.Option("--port", help="Port (0: any free port).")] = 9443,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    scenario: Annotated[Path | None, typer.Option("--scenario", help="Scenario file.")] = None,
    api_key: Annotated[
        str | None,
        typer.Option("--api-key", help="Accept only this key (default: any non-empty key)."),
    ] = None,
    cert_dir: Annotated[
        Path | None,
        typer.Option(
            "--cert-dir", metavar="DIR", help="Where to write ca.pem (default: data dir)."
        ),
    ] = None,
) -> None:
    """Run the local Live API simulator (TLS) until Ctrl-C."""
    from voicecli.sim.server import run_sim

    run_sim(host, port, scenario, api_key, cert_dir or cfg.private_dir(cfg.data_dir()) / "sim")


def models() -> None:
    """The Live models voicecli knows and what each can do."""
    from voicecli.ui.tables import print_table

    rows = []
    for m in capabilities.all_models():
        default = (
            " (default)" if m.name == capabilities.DEFAULT_MODEL and m.api == "developer" else ""
        )
        rows.append(
            (
                m.name + default,
                m.api,
                m.proactive_audio.value,
                m.affective_dialog.value,
                m.thinking.value,
                "honoured" if m.honours_stream_end else "ignored",
            )
        )
    headers = ("model", "API", "proactive audio", "affective", "thinking", "audioStreamEnd")
    print_table(headers, rows, drop=(5, 3, 2, 4, 1))  # ids whole; narrow: fewer columns
