"""``history``: list, show, search and export past conversations."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from voicecli.commands.options import Command, Group, in_range
from voicecli.errors import OutputError, UsageError
from voicecli.paths import check_paths, write_text_atomic

app = typer.Typer(
    cls=Group, help="Past conversations: recent sessions (no command), show, search, export."
)


def at_least_1(value: int) -> int | None:
    return in_range(value, 1)


@app.callback(invoke_without_command=True)
def history_list(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", "-n", callback=at_least_1, help="How many.")
    ] = 20,
) -> None:
    """Recent sessions: id, start, model, turns, duration, first words."""
    if ctx.invoked_subcommand is not None:
        return
    from voicecli.ui import history_text

    with _history_store() as store:
        rows = store.sessions(limit) if store else []
    print("\n".join(history_text.session_list(rows)))


@app.command("show", cls=Command)
def history_show(session_id: Annotated[int, typer.Argument(help="Session id.")]) -> None:
    """One conversation, turn by turn."""
    from voicecli.ui import history_text

    with _history_store(required=True) as store:
        assert store is not None
        print("\n".join(history_text.show(store.session(session_id))))


@app.command("search", cls=Command)
def history_search(
    words: Annotated[list[str], typer.Argument(help="Words to find (all must match).")],
    limit: Annotated[
        int, typer.Option("--limit", "-n", callback=at_least_1, help="Most hits.")
    ] = 50,
) -> None:
    """Full-text search over everything said and typed."""
    from voicecli.ui import history_text

    with _history_store() as store:
        rows = store.search(words, limit) if store else []
    print("\n".join(history_text.search_hits(rows)))


@app.command("export", cls=Command)
def history_export(
    session_id: Annotated[int, typer.Argument(help="Session id.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="md | json.")] = "md",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File.")] = None,
) -> None:
    """A conversation as Markdown or JSON (stdout, or --output FILE)."""
    from voicecli.ui import history_text

    if fmt not in ("md", "json"):
        raise UsageError(f"--format must be md or json, not {fmt!r}")
    with _history_store(required=True) as store:
        assert store is not None
        data = store.session(session_id)
    text = history_text.markdown(data) if fmt == "md" else history_text.as_json(data)
    if output is None:
        sys.stdout.write(text)
    else:
        check_paths({}, {"--output": output})
        try:
            write_text_atomic(output, text)
        except OSError as e:
            raise OutputError(
                f"cannot write {output}: {(e.strerror or str(e)).lower()}",
                "check the folder's permissions and free space",
            ) from None
        print(f"wrote {output}", file=sys.stderr)


@contextlib.contextmanager
def _history_store(required: bool = False) -> Iterator[Any]:
    """The history database, or None when there is none yet (an error if ``required``)."""
    from voicecli.history import HistoryStore, default_path

    path = default_path()
    if not path.exists():
        if required:
            raise UsageError("no conversations stored yet", f"{path} does not exist")
        yield None
        return
    store = HistoryStore(path)
    try:
        yield store
    finally:
        store.close()
