"""``history``: list, show, search and export past conversations."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from voicecli.commands import complete
from voicecli.commands.options import Command, Group, in_range
from voicecli.errors import ExitCode, OutputError, UsageError
from voicecli.paths import check_paths, write_text_atomic
from voicecli.safe_text import safe_value

app = typer.Typer(
    cls=Group, help="Past conversations: recent sessions (no command), show, search, export, play."
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
        rows = safe_value(store.sessions(limit)) if store else []
    from voicecli.ui.tables import terminal_width

    print("\n".join(history_text.session_list(rows, width=terminal_width())))


@app.command("show", cls=Command)
def history_show(
    session_id: Annotated[
        int, typer.Argument(help="Session id.", autocompletion=complete.history_ids)
    ],
) -> None:
    """One conversation, turn by turn."""
    from voicecli.ui import history_text

    with _history_store(required=True) as store:
        assert store is not None
        print("\n".join(history_text.show(safe_value(store.session(session_id)))))


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
        rows = safe_value(store.search(words, limit)) if store else []
    if not rows:  # like grep: nothing on stdout, a distinct exit code
        print(f"no match for {' '.join(words)!r}", file=sys.stderr)
        raise typer.Exit(int(ExitCode.NO_MATCH))
    print("\n".join(history_text.search_hits(rows)))


EXPORT_FORMATS = ("md", "json", "srt", "wav")


@app.command("export", cls=Command)
def history_export(
    session_id: Annotated[
        int, typer.Argument(help="Session id.", autocompletion=complete.history_ids)
    ],
    fmt: Annotated[
        str, typer.Option("--format", "-f", metavar="FORMAT", help="md | json | srt | wav.")
    ] = "md",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (needed for wav).")
    ] = None,
) -> None:
    """A conversation as Markdown, JSON, SRT subtitles (one cue per utterance), or its
    two-sided recording as WAV (stdout, or --output FILE)."""
    from voicecli.ui import history_text

    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"--format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    if fmt == "wav" and output is None:
        raise UsageError("--format wav needs --output FILE.wav")
    with _history_store(required=True) as store:
        assert store is not None
        data = safe_value(store.session(session_id))  # rows stored before text was cleaned
    if fmt == "wav":
        from voicecli import audio_history

        assert output is not None
        recording = audio_history.recording_of(data)
        check_paths({"the recording": recording}, {"--output": output})
        seconds = audio_history.export_wav(recording, output)
        print(f"wrote {output} ({seconds:.1f} s, you left, gemini right)", file=sys.stderr)
        return
    if fmt == "srt":
        from voicecli.ui.subtitles import to_srt

        text = to_srt(data)
    else:
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


@app.command("play", cls=Command)
def history_play(
    session_id: Annotated[
        int, typer.Argument(help="Session id.", autocompletion=complete.history_ids)
    ],
    turn: Annotated[
        int | None,
        typer.Option("--turn", "-t", metavar="N", callback=at_least_1, help="Only turn N."),
    ] = None,
    output_device: Annotated[
        str | None,
        typer.Option("--output-device", metavar="NAME", help="Speaker: index or part of a name."),
    ] = None,
) -> None:
    """Play a session's kept recording (both sides) on the speaker."""
    import asyncio

    from voicecli import audio_history
    from voicecli.config import load

    settings = load(None, {"output_device": output_device})
    with _history_store(required=True) as store:
        assert store is not None
        data = store.session(session_id)
    path = audio_history.recording_of(data)
    start, end = audio_history.turn_span(data, turn) if turn else (0.0, None)
    frames, rate = audio_history.read(path, start, end)
    what = f"turn {turn} of session {session_id}" if turn else f"session {session_id}"
    print(f"playing {what}: {len(frames) / rate:.1f} s (Ctrl-C stops)", file=sys.stderr)
    asyncio.run(audio_history.play(frames, rate, settings.output_device))


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
