"""Conversation history in SQLite: ``data_dir()/history.sqlite3``.

Every ``voicecli talk`` session is stored (sessions, turns, transcripts, tool calls, usage,
latency) by ``HistoryRecorder``, an observer that hands events to a writer thread: the event
loop never waits for the disk. The schema is versioned with ``PRAGMA user_version`` and
upgraded by the ``MIGRATIONS`` list of ``voicecli.history_schema``. Transcripts have
an FTS5 full-text index for ``voicecli history search``.

A locked or corrupt database is one ``HistoryError`` for ``voicecli history``; during a
conversation it is a single warning on stderr and the conversation goes on without history.
The API key is never stored: only the fields named in ``session_meta`` are.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from voicecli.config import Settings, data_dir, private_dir
from voicecli.errors import ExitCode, HistoryError, UsageError, VoicecliError
from voicecli.history_schema import MIGRATIONS, SCHEMA_VERSION, mark_killed, migrate, owner
from voicecli.live import events as ev

log = logging.getLogger(__name__)

FILENAME = "history.sqlite3"


def default_path() -> Path:
    return data_dir() / FILENAME


def as_history_error(e: Exception, path: Path) -> HistoryError:
    """One clear line for what went wrong with the database file."""
    text = str(e)
    if isinstance(e, HistoryError):
        return e
    if "locked" in text or "busy" in text:
        return HistoryError(
            f"history database {path} is locked by another program",
            "wait for the other voicecli to finish, then try again",
        )
    if isinstance(e, sqlite3.DatabaseError) and not isinstance(e, sqlite3.OperationalError):
        return HistoryError(
            f"history database {path} is corrupt ({text})",
            f"move it away and voicecli starts a new one: mv '{path}' '{path}.bad'",
        )
    if "no such" in text or "malformed" in text:
        return HistoryError(f"history database {path} is damaged ({text})", "move it away")
    return HistoryError(f"cannot use history database {path}: {text}", "check the file")


def private_file(path: Path) -> None:
    """The database (and so its -wal and -shm files, which SQLite creates with the database's
    mode) is readable by its owner only, in a folder that is 0700 when voicecli creates it."""
    private_dir(path.parent)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    elif path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)


class HistoryStore:
    """The database: writing for the recorder, reading for ``voicecli history``."""

    def __init__(self, path: Path | None = None, *, timeout: float = 1.0) -> None:
        self.path = path or default_path()
        try:
            private_file(self.path)
            self.conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as e:
            raise as_history_error(e, self.path) from None
        self.conn.row_factory = sqlite3.Row
        with self.guard():
            self.conn.execute("PRAGMA foreign_keys = ON")
            if int(self.conn.execute("PRAGMA user_version").fetchone()[0]) == 0:
                self.conn.execute("PRAGMA journal_mode = WAL")
            self.version = migrate(self.conn)
        with contextlib.suppress(sqlite3.Error):  # busy: the next run will do it
            mark_killed(self.conn)

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        try:
            yield
        except (sqlite3.Error, OSError) as e:
            raise as_history_error(e, self.path) from None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.guard():
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.rollback()
                raise
            self.conn.execute("COMMIT")

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()

    # ------------------------------------------------------------------------ writing
    def new_session(self, meta: dict[str, Any], started_at: float | None = None) -> int:
        cols = [c for c in SESSION_COLUMNS if c in meta]
        values = [meta[c] for c in cols]
        cols, values = [*cols, "pid", "pid_start"], [*values, *owner()]
        inside = self.conn.in_transaction  # the recorder's writer batches in one
        with contextlib.nullcontext(self.conn) if inside else self.transaction() as c:
            cur = c.execute(
                f"INSERT INTO sessions (started_at{''.join(', ' + c for c in cols)}) "
                f"VALUES (?{', ?' * len(cols)})",
                [started_at or time.time(), *values],
            )
            assert cur.lastrowid is not None
            if meta.get("conversation_id") is None:
                c.execute("UPDATE sessions SET conversation_id = id WHERE id = ?", (cur.lastrowid,))
        return cur.lastrowid

    def apply(
        self,
        sid: int,
        event: object,
        t: float,
        turn: int | None = None,
        spans: tuple[float | None, float | None, float | None] | None = None,
    ) -> None:
        """Store one event (inside a transaction); ``turn``: the last turn that ended;
        ``spans``: a turn's (user start, user end, first model audio)."""
        c = self.conn
        if isinstance(event, ev.TurnEnded):
            c.execute(
                "INSERT OR REPLACE INTO turns (session_id, idx, t, outcome, user_text, model_text, "
            "audio_s, latency_s, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sid, event.index, t, event.outcome, event.user_text, event.model_text,
                 event.audio_s, event.latency_s, event.reason),
            )  # fmt: skip
            if spans:
                c.execute(
                    "UPDATE turns SET user_start = ?, user_end = ?, model_start = ? "
                    "WHERE session_id = ? AND idx = ?",
                    (*spans, sid, event.index),
                )
            if event.user_text:
                self._text(sid, event.index, t, "user", event.user_text)
            if event.model_text:
                self._text(sid, event.index, t, "model", event.model_text)
        elif isinstance(event, ev.UserText):
            self._text(sid, None, t, "typed", event.text)
        elif isinstance(event, ev.ToolCall):
            for call in event.calls:
                c.execute(
                    "INSERT OR REPLACE INTO tool_calls VALUES (?, ?, ?, ?, NULL, 'running', ?, NULL)",
                    (sid, call.id, call.name, _json(call.args), t),
                )
        elif isinstance(event, ev.ToolResults):
            for r in event.results:
                status = "error" if "error" in r.response else "ok"
                c.execute(
                    "INSERT INTO tool_calls VALUES (?, ?, ?, NULL, ?, ?, ?, ?) "
                    "ON CONFLICT (session_id, call_id) DO UPDATE SET response = excluded.response, "
                    "status = excluded.status, t_done = excluded.t_done",
                    (sid, r.id, r.name, _json(r.response), status, t, t),
                )
        elif isinstance(event, ev.ToolCallCancellation):
            c.executemany(
                "UPDATE tool_calls SET status = 'cancelled', t_done = ? "
                "WHERE session_id = ? AND call_id = ?",
                [(t, sid, i) for i in event.ids],
            )
        elif isinstance(event, ev.Usage):
            self._usage(sid, event, t, turn)
        elif isinstance(event, ev.ContextChange):
            c.execute("INSERT INTO controls VALUES (?, ?, ?, ?)", (sid, t, event.kind, event.value))
        elif isinstance(event, ev.Sources):  # a reply's grounding: kind "source" / "read"
            kind = "source" if event.kind == "search" else "read"
            rows = [
                (sid, t, kind, f"{s.title} — {s.uri}" if s.title else s.uri) for s in event.items
            ]
            c.executemany("INSERT INTO controls VALUES (?, ?, ?, ?)", rows)
        elif isinstance(event, ev.Stall):  # the watchdog's steps: kind "stall"
            step = f"{event.kind}: {event.action}"
            c.execute("INSERT INTO controls VALUES (?, ?, 'stall', ?)", (sid, t, step))
        elif isinstance(event, ev.ResumptionUpdate):
            if event.resumable and event.handle:
                c.execute(
                    "UPDATE sessions SET resume_handle = ?, handle_at = ? WHERE id = ?",
                    (event.handle, time.time(), sid),
                )
            return
        elif isinstance(event, ev.Continued):
            c.execute(
                "UPDATE sessions SET continued_how = ?, seeded_turns = ? WHERE id = ?",
                (event.how, event.seeded_turns, sid),
            )
        c.execute("UPDATE sessions SET duration_s = max(duration_s, ?) WHERE id = ?", (t, sid))

    def _usage(self, sid: int, u: ev.Usage, t: float, turn: int | None) -> None:
        self.conn.execute(
            "INSERT INTO usage (session_id, t, prompt_tokens, response_tokens, total_tokens, "
            "turn_idx, prompt_audio, prompt_text, response_audio, response_text) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sid, t, u.prompt_tokens, u.response_tokens, u.total_tokens, turn,
             u.prompt_audio, u.prompt_text, u.response_audio, u.response_text),
        )  # fmt: skip
        self.conn.execute(
            "UPDATE sessions SET prompt_tokens = prompt_tokens + ?, "
            "response_tokens = response_tokens + ?, total_tokens = total_tokens + ?, "
            "prompt_audio_tokens = prompt_audio_tokens + ?, "
            "prompt_text_tokens = prompt_text_tokens + ?, "
            "response_audio_tokens = response_audio_tokens + ?, "
            "response_text_tokens = response_text_tokens + ? WHERE id = ?",
            (u.prompt_tokens, u.response_tokens, u.total_tokens, u.prompt_audio,
             u.prompt_text, u.response_audio, u.response_text, sid),
        )  # fmt: skip

    def _text(self, sid: int, turn: int | None, t: float, role: str, text: str) -> None:
        self.conn.execute(
            "INSERT INTO transcripts (session_id, turn_idx, t, role, text) VALUES (?, ?, ?, ?, ?)",
            (sid, turn, t, role, text),
        )

    def end_session(self, sid: int, summary: dict[str, Any]) -> None:
        duration = float(summary.get("duration_s") or summary.get("t") or 0.0)
        self.conn.execute(
            "UPDATE sessions SET ended_at = ?, duration_s = max(duration_s, ?), summary = ?, "
            "cost_usd = ?, outcome = coalesce(outcome, 'ok') WHERE id = ?",
            (time.time(), duration, _json(summary), summary.get("cost_usd"), sid),
        )

    def fail_session(self, sid: int, kind: str, message: str) -> None:
        self.conn.execute(
            "UPDATE sessions SET outcome = 'error', error_kind = ?, error_message = ?, "
            "ended_at = coalesce(ended_at, ?) WHERE id = ?",
            (kind, message, time.time(), sid),
        )

    def set_audio(self, sid: int, path: str, size: int) -> None:
        self.conn.execute(
            "UPDATE sessions SET audio_path = ?, audio_bytes = ? WHERE id = ?", (path, size, sid)
        )

    # ------------------------------------------------------------------------ reading
    def sessions(self, limit: int = 20) -> list[dict[str, Any]]:
        with self.guard():
            rows = self.conn.execute(
                "SELECT s.*, (SELECT count(*) FROM turns WHERE session_id = s.id) AS turns, "
                "(SELECT text FROM transcripts WHERE session_id = s.id ORDER BY t, id LIMIT 1)"
                " AS first_words FROM sessions s ORDER BY s.id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [dict(r) for r in rows]

    def session(self, sid: int) -> dict[str, Any]:
        """Everything stored about one session (UsageError if there is none)."""
        with self.guard():
            row = self.conn.execute("SELECT * FROM sessions WHERE id = ?", (sid,)).fetchone()
            if row is None:
                raise UsageError(
                    f"no session {sid} in the history", "`voicecli history` lists them"
                )
            out = dict(row)
            out["summary"] = json.loads(out["summary"]) if out["summary"] else None
            q = "SELECT * FROM {} WHERE session_id = ? ORDER BY {}"
            out["turns"] = self._all(q.format("turns", "idx"), sid)
            out["transcripts"] = self._all(q.format("transcripts", "t, id"), sid)
            out["tool_calls"] = self._all(q.format("tool_calls", "t_call"), sid)
            out["usage"] = self._all(q.format("usage", "t"), sid)
            out["controls"] = self._all(q.format("controls", "t"), sid)
        for call in out["tool_calls"]:
            for key in ("args", "response"):
                call[key] = json.loads(call[key]) if call[key] else None
        for rows in (
            out["turns"],
            out["transcripts"],
            out["tool_calls"],
            out["usage"],
            out["controls"],
        ):
            for r in rows:
                r.pop("session_id", None)
        return out

    def _all(self, sql: str, sid: int) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(sql, (sid,)).fetchall()]

    def search(self, words: list[str], limit: int = 50) -> list[dict[str, Any]]:
        """Transcript lines matching all words (prefixes), newest sessions first."""
        terms = [w for w in " ".join(words).split() if w.strip('"')]
        if not terms:
            raise UsageError("nothing to search for", "give one or more words")
        query = " ".join('"' + w.replace('"', '""') + '"*' for w in terms)
        with self.guard():
            rows = self.conn.execute(
                "SELECT tr.session_id, tr.t, tr.role, s.started_at, "
                "snippet(transcripts_fts, 0, '[', ']', '…', 16) AS snippet "
                "FROM transcripts_fts JOIN transcripts tr ON tr.id = transcripts_fts.rowid "
                "JOIN sessions s ON s.id = tr.session_id "
                "WHERE transcripts_fts MATCH ? ORDER BY tr.session_id DESC, tr.t, tr.id LIMIT ?",
                (query, limit),
            ).fetchall()
        return [dict(r) for r in rows]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


SESSION_COLUMNS = (
    "model", "voice", "language", "style", "endpoint", "input", "command", "sim",
    "conversation_id", "continued_from",
)  # fmt: skip


def session_meta(
    settings: Settings,
    endpoint: str,
    input_name: str | None,
    *,
    command: str = "talk",
    continues: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """What is stored about a session's setup: named fields only (never the API key).
    ``continues``: (conversation id, session id) of the session this one continues."""
    return {
        "model": settings.model,
        "voice": settings.voice,
        "language": settings.language,
        "style": settings.style,
        "endpoint": endpoint,
        "input": input_name,
        "command": command,
        "sim": int(endpoint == "simulator"),
        "conversation_id": continues[0] if continues else None,
        "continued_from": continues[1] if continues else None,
    }


# Failures that store nothing: the run was refused before anything was exchanged with a
# server (a bad flag or config, a missing or unreadable input file).
NOT_STORED = (ExitCode.USAGE, ExitCode.AUDIO)


def failure_kind(e: BaseException) -> str:
    """``auth``, ``network``, ``server`` ...: the exit code's name, lower case."""
    if isinstance(e, VoicecliError):
        return e.exit_code.name.lower()
    return "internal"


# The recorder lives in its own module; importable from here as before.
from voicecli.history_recorder import HistoryRecorder  # noqa: E402

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "HistoryRecorder",
    "HistoryStore",
    "migrate",
    "session_meta",
]
