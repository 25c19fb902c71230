"""History: a session stored by the observer comes back through list/show/search/export;
schema versioning; corrupt and locked databases are one clear error and never block a talk."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from voicecli.cli import main
from voicecli.config import Settings
from voicecli.errors import ExitCode, HistoryError
from voicecli.history import (
    MIGRATIONS,
    SCHEMA_VERSION,
    HistoryRecorder,
    HistoryStore,
    default_path,
    migrate,
    session_meta,
)
from voicecli.live import events as ev
from voicecli.ui import history_text

KEY = "AIzaSy-very-secret-key-000"


def record_session(path: Path | None = None, **kw: object) -> HistoryRecorder:
    settings = Settings(model="gemini-3.8-live", voice="Kore", api_key=KEY, style="calm")
    rec = HistoryRecorder(session_meta(settings, "simulator", "in.wav"), path, **kw)  # type: ignore[arg-type]
    events: list[tuple[object, float]] = [
        (ev.AudioChunk(bytes(480)), 0.5),  # not stored
        (ev.TurnEnded(1, "spoken", "Hello, can you hear me?", "Hi! Yes, I can.", 1.2, 0.42), 3.0),
        (ev.UserText("what time is it in Tokyo?"), 4.0),
        (ev.ToolCall((ev.FunctionCall("c1", "get_time", {"tz": "Asia/Tokyo"}),)), 4.5),
        (ev.ToolResults((ev.FunctionResult("c1", "get_time", {"result": "09:30"}),)), 4.62),
        (ev.TurnEnded(2, "spoken", "", "It's half past nine in Tokyo.", 2.0, 0.8), 7.0),
        (ev.Usage(100, 50, 150), 7.0),
        (ev.TurnEnded(3, "interrupted", "tell me a story", "Once upon a", 0.9, 0.35), 9.0),
        (ev.TurnEnded(4, "silent", "hmm", "", 0.0, None), 11.0),
        (ev.ToolCall((ev.FunctionCall("c2", "slow_tool", {}),)), 11.5),
        (ev.ToolCallCancellation(("c2",)), 12.0),
        (ev.Usage(10, 5, 15), 12.0),
        (ev.Notice("not stored"), 12.1),
    ]
    for event, t in events:
        rec.on_event(event, t)
    rec.on_session_end({"type": "session_end", "t": 12.5, "duration_s": 12.5, "turns": 4})
    rec.close()
    return rec


def test_round_trip_list_show_search_export() -> None:
    rec = record_session()
    assert rec.failed is None and rec.session_id == 1
    store = HistoryStore(default_path())
    rows = store.sessions()
    assert len(rows) == 1
    row = rows[0]
    assert (row["model"], row["turns"], row["duration_s"]) == ("gemini-3.8-live", 4, 12.5)
    assert row["first_words"] == "Hello, can you hear me?"
    assert row["total_tokens"] == 165 and row["ended_at"] is not None

    data = store.session(1)
    assert [t["outcome"] for t in data["turns"]] == ["spoken", "spoken", "interrupted", "silent"]
    assert [t["latency_s"] for t in data["turns"]] == [0.42, 0.8, 0.35, None]
    assert [(c["name"], c["status"]) for c in data["tool_calls"]] == [
        ("get_time", "ok"),
        ("slow_tool", "cancelled"),
    ]
    assert data["tool_calls"][0]["args"] == {"tz": "Asia/Tokyo"}
    assert data["summary"]["turns"] == 4 and len(data["usage"]) == 2

    shown = "\n".join(history_text.show(data))
    # each side stamped when it began (the reply's audio at 0.5 s; issue 31), not both at the end
    assert "[00:00] you: Hello, can you hear me?" in shown
    assert "[00:00] gemini: Hi! Yes, I can. (420 ms)" in shown
    assert "[00:04] you (typed): what time is it in Tokyo?" in shown
    assert 'tool get_time({"tz": "Asia/Tokyo"}) -> {"result": "09:30"} [ok, 120 ms]' in shown
    assert "gemini: Once upon a [interrupted]" in shown
    assert "[00:11] you: hmm" in shown and "gemini: (chose not to answer)" in shown
    # typed line, then the tool call, then the turn it belongs to
    assert shown.index("you (typed)") < shown.index("tool get_time") < shown.index("half past")

    hits = store.search(["tokyo"])
    assert [h["role"] for h in hits] == ["typed", "model"]
    assert "[Tokyo]" in hits[0]["snippet"]
    assert store.search(["hal", "nine"])[0]["role"] == "model"  # prefixes, all words
    assert store.search(['"; DROP TABLE sessions; --']) == []  # quoted, never SQL or syntax

    md = history_text.markdown(data)
    assert md.startswith("# voicecli session 1\n")
    assert "`00:04` **you** (typed): what time is it in Tokyo?" in md
    assert "**gemini**: _Once upon a [interrupted]_ (350 ms)" in md
    exported = json.loads(history_text.as_json(data))
    assert exported["turns"][1]["model_text"] == "It's half past nine in Tokyo."
    store.close()


def test_api_key_is_never_stored() -> None:
    record_session()
    for f in default_path().parent.glob("history.sqlite3*"):
        assert KEY.encode() not in f.read_bytes(), f


def test_cli_history_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history"]) == 0
    assert "no conversations stored yet" in capsys.readouterr().out
    record_session()
    assert main(["history"]) == 0
    out = capsys.readouterr().out
    assert "first words" in out and "Hello, can you hear me?" in out
    assert main(["history", "show", "1"]) == 0
    assert "you (typed): what time is it in Tokyo?" in capsys.readouterr().out
    assert main(["history", "search", "Tokyo"]) == 0
    assert "session    1" in capsys.readouterr().out
    assert main(["history", "search", "zanzibar"]) == int(ExitCode.NO_MATCH) == 13
    out, err = capsys.readouterr()
    assert out == "" and "no match for 'zanzibar'" in err
    assert main(["history", "export", "1", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == 1
    assert main(["history", "export", "1"]) == 0
    assert capsys.readouterr().out.startswith("# voicecli session 1")
    assert main(["history", "show", "7"]) == 2
    assert "no session 7" in capsys.readouterr().err
    assert main(["history", "export", "1", "--format", "pdf"]) == 2


def test_schema_version_and_migration_of_an_old_database(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, upto=1) == 1  # a database from before full-text search
    conn.execute("INSERT INTO sessions (id, started_at, model) VALUES (1, ?, 'm')", (time.time(),))
    conn.execute(
        "INSERT INTO transcripts (session_id, t, role, text) VALUES (1, 1.0, 'user', 'old words')"
    )
    conn.close()
    store = HistoryStore(path)
    assert store.version == SCHEMA_VERSION == len(MIGRATIONS)
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert [h["snippet"] for h in store.search(["old"])] == ["[old] words"]
    store.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(HistoryError, match="newer than this voicecli"):
        HistoryStore(path)


@pytest.fixture
def corrupt() -> Path:
    path = default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a database, just text " * 200)
    return path


def test_corrupt_database_is_one_clear_error(
    corrupt: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(HistoryError, match="is corrupt") as info:
        HistoryStore(corrupt)
    assert "mv " in (info.value.hint or "")
    assert main(["history"]) == 11
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: history database") and "corrupt" in err


@pytest.fixture
def locked() -> Iterator[Path]:
    path = default_path()
    HistoryStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    yield path
    holder.close()


def test_locked_database_is_one_clear_error(
    locked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(HistoryError, match="is locked"):
        HistoryStore(locked, timeout=0.1).sessions()
    assert main(["history", "search", "x"]) == 11
    assert "is locked" in capsys.readouterr().err


@pytest.mark.parametrize("trouble", ["corrupt", "locked"])
def test_a_broken_database_never_blocks_a_conversation(
    trouble: str, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue(trouble)
    warnings: list[str] = []
    rec = HistoryRecorder({"model": "m"}, warn=warnings.append, timeout=0.1)
    start = time.perf_counter()
    for i in range(2000):  # the conversation keeps notifying; nothing waits for the disk
        rec.on_event(ev.UserText(f"line {i}"), i * 0.01)
    assert time.perf_counter() - start < 0.5
    rec.on_session_end({"type": "session_end", "t": 1.0})
    rec.close()
    assert len(warnings) == 1 and warnings[0].startswith("history is off for this session")
    assert rec.failed is not None


def test_data_dir_and_database_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "fresh" / "voicecli"
    monkeypatch.setenv("VOICECLI_HOME", str(home))
    old = os.umask(0o022)
    try:
        record_session()
    finally:
        os.umask(old)
    assert home.stat().st_mode & 0o777 == 0o700
    files = sorted(home.glob("history.sqlite3*"))
    assert files and all(f.stat().st_mode & 0o777 == 0o600 for f in files), [
        (f.name, oct(f.stat().st_mode)) for f in files
    ]


def test_an_existing_readable_database_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    HistoryStore(path).close()
    path.chmod(0o644)
    HistoryStore(path).close()
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_session_list_never_cuts_names() -> None:
    long_model = "gemini-2.5-flash-native-audio-preview-12-2025"
    words = "a first utterance that goes on for quite a bit longer than forty-eight characters"
    row = {
        "id": 7, "started_at": 0.0, "command": "listen", "sim": 1, "outcome": "ok",
        "model": long_model, "turns": 1, "duration_s": 3.0, "first_words": words,
    }  # fmt: skip
    head, line = history_text.session_list([row])
    assert long_model in line and line.endswith(words) and "…" not in line
    assert head.index("model") == line.index(long_model)  # columns still line up


def test_models_and_voices_piped_are_whole(capsys: pytest.CaptureFixture[str]) -> None:
    from voicecli.live import capabilities
    from voicecli.speech.voices import voices

    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out
    for m in capabilities.all_models():
        assert m.name in out
    assert main(["voices"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out and all(f"{n} " in out or f"{n}\n" in out for n in voices())


def test_tables_keep_names_whole_on_a_narrow_terminal() -> None:
    import io

    from voicecli.ui.tables import print_table

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    name = "gemini-2.5-flash-native-audio-preview-12-2025"
    print_table(("model", "API", "thinking"), [(name, "developer", "budget")], out, 60, drop=(2,))
    lines = out.getvalue().splitlines()
    assert lines[1] == f"{name}  developer"  # issue 31: never folded; a column left out
    assert "1 column left out" in lines[2]
