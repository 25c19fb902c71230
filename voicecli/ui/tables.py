"""Tables for commands that list things (``models``, ``voices``, ``history``, ``devices``).

Plain columns, two spaces apart, each as wide as its widest cell. A name a user types back
(a model id for ``-m``, a voice, a history id, a device) is never broken or cut. On a
terminal narrower than the table, the less important columns are left out (the table says
how many) and a last free-text column (first words, a voice's description) is shortened
with "…"; piped or written to a file, every table is whole, so ``voicecli models | grep``
sees everything.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from typing import TextIO


def terminal_width(out: TextIO | None = None) -> int | None:
    """The terminal's width when ``out`` is one (None: a pipe or a file, nothing to fit)."""
    out = out or sys.stdout
    try:
        if not out.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return shutil.get_terminal_size().columns


def plain_columns(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    right: Sequence[int] = (),
    width: int | None = None,
    drop: Sequence[int] = (),
    squeeze_last: bool = False,
) -> list[str]:
    """The table's lines. ``right``: columns aligned right (numbers). With ``width`` (a
    terminal's), the columns in ``drop`` go, in that order, while the table is too wide;
    then, with ``squeeze_last``, the last column's cells are shortened. Other cells are
    never cut: a line may still be wider than ``width`` when a name alone is."""
    table = [[str(c) for c in headers], *[[str(c) for c in r] for r in rows]]
    keep = list(range(len(headers)))
    left_out = 0
    if width is not None:
        for col in drop:
            if _width(table, keep) <= width:
                break
            keep.remove(col)
            left_out += 1
    widths = {i: max(len(r[i]) for r in table) for i in keep}
    last = keep[-1]
    if width is not None and squeeze_last:
        room = width - (_width(table, keep) - widths[last])
        widths[last] = min(widths[last], max(room, len(table[0][last]), 8))
    lines = []
    for row in table:
        cells = []
        for i in keep:
            cell = row[i]
            if len(cell) > widths[i]:  # only the last column is ever shortened
                cell = cell[: widths[i] - 1] + "…"
            cells.append(cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]))
        lines.append("  ".join(cells).rstrip())
    if left_out:
        what = "1 column" if left_out == 1 else f"{left_out} columns"
        lines.append(f"({what} left out to fit {width} columns; piped, all show)")
    return lines


def _width(table: list[list[str]], keep: list[int]) -> int:
    return sum(max(len(r[i]) for r in table) for i in keep) + 2 * (len(keep) - 1)


def print_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    out: TextIO | None = None,
    width: int | None = None,  # the terminal's (tests)
    *,
    drop: Sequence[int] = (),
    squeeze_last: bool = False,
) -> None:
    out = out or sys.stdout
    width = width if width is not None else terminal_width(out)
    for line in plain_columns(headers, rows, width=width, drop=drop, squeeze_last=squeeze_last):
        print(line, file=out)
