"""The environment of every program voicecli starts: ``[[tools]]`` commands, MCP servers and
``--watch`` commands.

A child never inherits voicecli's whole environment. It gets a short list of harmless
variables (where programs are, who and where the user is, the language, the terminal, the
time zone, the temporary folder, the display) and only what its config entry names in
``env``: a list of names passed through from voicecli's environment, or a table that sets
values (``{ LANG = "C" }``) or passes a name through (``{ GITHUB_TOKEN = true }``). The API
key, and any variable that looks like a secret (``*_API_KEY``, ``*_TOKEN``, ``*_SECRET``,
``*_PASSWORD``, ``GOOGLE_*``, ``GEMINI_*``), reaches a child only when the entry names it;
its value is then registered with ``keys.redact`` so that it is hidden wherever the child's
output is shown or stored.

Every child also carries ``VOICECLI_RUN``, a marker unique to that run, so that what it
started can be found and stopped later (``tools/process.py``).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping

from voicecli.keys import remember_secret

MARKER = "VOICECLI_RUN"

# passed to every child when voicecli has them
SAFE_NAMES = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "TERM",
    "COLORTERM",
    "NO_COLOR",
    "TZ",
    "TMPDIR",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
    "VIRTUAL_ENV",
)
_SAFE_PREFIXES = ("LC_",)
SECRET_RE = re.compile(
    r"(?i)(?:API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$|^(?:GOOGLE|GEMINI)_"
)

# an ``env`` entry: a value to set, or None to pass the variable through from voicecli
EnvSpec = Mapping[str, str | None]


def looks_secret(name: str) -> bool:
    return bool(SECRET_RE.search(name))


def child_env(
    spec: EnvSpec | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    marker: str | None = None,
) -> dict[str, str]:
    """The environment for one child: the safe variables, then ``spec``, then the marker."""
    source = os.environ if environ is None else environ
    env = {
        name: value
        for name, value in source.items()
        if (name in SAFE_NAMES or name.startswith(_SAFE_PREFIXES))
        and not looks_secret(name)
        and not value.startswith("()")  # an exported shell function
    }
    for name, value in (spec or {}).items():
        if value is None:
            if name not in source:
                continue
            value = source[name]
        env[name] = value
        if looks_secret(name):
            remember_secret(value.strip() or None)  # shown or stored only as ***
    env[MARKER] = marker or new_marker()
    return env


def new_marker() -> str:
    return uuid.uuid4().hex
