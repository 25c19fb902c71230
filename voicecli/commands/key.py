"""``key set`` and ``key remove``: the stored API key."""

from __future__ import annotations

import sys

import typer

from voicecli import config as cfg
from voicecli.commands.options import Command, Group
from voicecli.errors import UsageError

app = typer.Typer(cls=Group, help="Store or remove the API key.", no_args_is_help=True)


@app.command("set", cls=Command)
def key_set() -> None:
    """Store the API key (read from the terminal without echo, or from stdin)."""
    if sys.stdin.isatty():
        import getpass

        key = getpass.getpass("Gemini API key: ")
    else:
        key = sys.stdin.readline()
    if not key.strip():
        raise UsageError("no key given", "paste the key from Google AI Studio")
    path = cfg.store_api_key(key)
    print(f"key stored in {path} (readable by you only)", file=sys.stderr)


@app.command("remove", cls=Command)
def key_remove() -> None:
    """Delete the stored API key."""
    from voicecli.keys import remove_api_key

    path = cfg.key_file()
    if remove_api_key(path):
        print(f"removed {path}", file=sys.stderr)
    else:
        print(f"no key stored ({path} does not exist)", file=sys.stderr)
