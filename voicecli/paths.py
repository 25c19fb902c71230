"""Checks on the files a command will write, made before anything starts."""

from __future__ import annotations

from pathlib import Path

from voicecli.errors import UsageError


def check_writable(*paths: Path | None) -> None:
    """A usage error when a file's folder does not exist (None entries are skipped)."""
    for p in paths:
        if p is None:
            continue
        parent = p.parent if str(p.parent) else Path(".")
        if not parent.exists():
            raise UsageError(f"cannot write {p}: folder {parent} does not exist")
