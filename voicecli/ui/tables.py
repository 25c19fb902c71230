"""Tables for commands that list things (``models``, ``voices``): nothing is ever cut off.

On a terminal, a rich table whose cells fold (wrap) when the window is narrow; otherwise
(a pipe, a file) plain columns as wide as their longest cell, so ``voicecli models | grep``
sees whole names.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO


def plain_columns(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns, two spaces apart, each as wide as its widest cell."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    return [
        "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *rows]
    ]


def print_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    out: TextIO | None = None,
    width: int | None = None,  # the terminal's (tests)
) -> None:
    out = out or sys.stdout
    try:
        terminal = out.isatty()
    except (AttributeError, ValueError):
        terminal = False
    if not terminal:
        for line in plain_columns(headers, rows):
            print(line, file=out)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for h in headers:
        table.add_column(h, overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console(file=out, width=width).print(table)
