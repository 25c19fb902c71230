"""Checked reads of the raw ``[[tools]]`` and ``[[mcp_servers]]`` TOML tables.

Every mistake becomes a ``ToolConfigError`` that names the entry and the field, so a typo in
the config file is one clear line at start, never a failure in the middle of a conversation.
"""

from __future__ import annotations

import re
from typing import Any

from voicecli.errors import ToolConfigError
from voicecli.tools.base import NAME_RE, SCHEDULINGS

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
HINT = "see the [[tools]] and [[mcp_servers]] examples in config.example.toml"


def entries(raw: Any, table: str) -> list[dict[str, Any]]:
    """The list under ``[[table]]`` (empty when absent)."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        raise ToolConfigError(
            f"config: {table} must be a list of tables, written [[{table}]]", HINT
        )
    return raw


class Entry:
    """One ``[[tools]]`` / ``[[mcp_servers]]`` entry, read field by field."""

    def __init__(self, raw: dict[str, Any], table: str, index: int, known: set[str]) -> None:
        self.raw = raw
        name = raw.get("name")
        self.where = (
            f"[[{table}]] {name!r}"
            if isinstance(name, str) and name
            else (f"[[{table}]] entry {index + 1}")
        )
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ToolConfigError(
                f"{self.where}: unknown field {unknown[0]!r}",
                f"known fields: {', '.join(sorted(known))}",
            )

    def fail(self, field: str, problem: str) -> ToolConfigError:
        return ToolConfigError(f"{self.where}: {field} {problem}", HINT)

    def name(self) -> str:
        value = self.raw.get("name")
        if not isinstance(value, str) or not value:
            raise self.fail("name", "is required (a short identifier like lookup_capital)")
        if not NAME_RE.match(value):
            raise self.fail(
                "name",
                "must start with a letter or _ and use only letters, digits, _ . : - "
                "(64 characters at most)",
            )
        return value

    def text(self, field: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.raw.get(field, default)
        if value is None:
            if required:
                raise self.fail(field, "is required")
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(field, "must be a non-empty string")
        return value

    def flag(self, field: str, default: bool) -> bool:
        value = self.raw.get(field, default)
        if not isinstance(value, bool):
            raise self.fail(field, f"must be true or false, not {value!r}")
        return value

    def number(self, field: str, default: float, low: float, high: float) -> float:
        value = self.raw.get(field, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low < value <= high:
            raise self.fail(field, f"must be a number above {low:g} and at most {high:g}")
        return float(value)

    def argv(self, field: str = "command") -> list[str]:
        value = self.raw.get(field)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(a, str) for a in value)
            or not value[0]
        ):
            raise self.fail(
                field, 'must be a list of strings, the program first: ["python3", "tool.py"]'
            )
        if any("\x00" in a for a in value):
            raise self.fail(field, "must not contain NUL characters")
        return list(value)

    def env(self, field: str = "env") -> dict[str, str | None] | None:
        """``env``: names passed through from voicecli's environment (``["GITHUB_TOKEN"]``), or
        a table of values to set and names to pass (``{ LANG = "C", GITHUB_TOKEN = true }``);
        None (pass) for each name passed through."""
        value = self.raw.get(field)
        if value is None:
            return None
        if isinstance(value, list) and all(
            isinstance(v, str) and _ENV_NAME.match(v) for v in value
        ):
            return dict.fromkeys(value)
        if isinstance(value, dict) and all(
            isinstance(k, str) and _ENV_NAME.match(k) and (isinstance(v, str) or v is True)
            for k, v in value.items()
        ):
            return {k: (v if isinstance(v, str) else None) for k, v in value.items()}
        raise self.fail(
            field,
            'must be a list of variable names to pass, e.g. ["GITHUB_TOKEN"], or a table of '
            'values to set (or true to pass), e.g. { LANG = "C", GITHUB_TOKEN = true }',
        )

    def names(self, field: str) -> list[str] | None:
        value = self.raw.get(field)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(field, "must be a list of names")
        return list(value)

    def scheduling(self) -> str:
        value = self.raw.get("scheduling", "when_idle")
        if not isinstance(value, str) or value.lower() not in SCHEDULINGS:
            raise self.fail("scheduling", f"must be one of {', '.join(SCHEDULINGS)}")
        return value.lower()
