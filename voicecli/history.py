"""Conversation history in SQLite: ``data_dir()/history.sqlite3``.

Every ``voicecli talk`` session is stored (sessions, turns, transcripts, tool calls, usage,
latency) by ``HistoryRecorder``, an observer that hands events to a writer thread: the event
loop never waits for the disk. The schema is versioned with ``PRAGMA user_version`` and
upgraded by the ``MIGRATIONS`` list (never edit a shipped step: append one). Transcripts have
an FTS5 full-text index for ``voicecli history search``.

A locked or corrupt database is one ``HistoryError`` for ``voicecli history``; during a
conversation it is a single warning on stderr and the conversation goes on without history.
The API key is never stored: only the fields named in ``session_meta`` are.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from voicecli.config import Settings, data_dir
from voicecli.errors import HistoryError, UsageError
from voicecli.live import events as ev

log = logging.getLogger(__name__)

FILENAME = "history.sqlite3"

MIGRATIONS: list[str] = [
    # 1: sessions and what happened in them
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        started_at REAL NOT NULL,               -- unix time
        ended_at REAL,
        model TEXT, voice TEXT, language TEXT, style TEXT, endpoint TEXT, input TEXT,
        duration_s REAL NOT NULL DEFAULT 0,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        response_tokens INTEGER NOT NULL DEFAULT 0,
        total_tokens INTEGER NOT NULL DEFAULT 0,
        summary TEXT                            -- JSON: the run's summary
    );
    CREATE TABLE turns (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        t REAL NOT NULL,                        -- seconds since the session started
        outcome TEXT NOT NULL,                  -- spoken | silent | interrupted
        user_text TEXT, model_text TEXT, audio_s REAL, latency_s REAL, reason TEXT,
        PRIMARY KEY (session_id, idx)
    );
    CREATE TABLE transcripts (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        turn_idx INTEGER,
        t REAL NOT NULL,
        role TEXT NOT NULL,                     -- user | typed | model
        text TEXT NOT NULL
    );
    CREATE INDEX transcripts_by_session ON transcripts(session_id, t);
    CREATE TABLE tool_calls (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        call_id TEXT NOT NULL,
        name TEXT NOT NULL,
        args TEXT,                              -- JSON
        response TEXT,                          -- JSON
        status TEXT NOT NULL,                   -- running | ok | error | cancelled
        t_call REAL NOT NULL, t_done REAL,
        PRIMARY KEY (session_id, call_id)
    );
    CREATE TABLE usage (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        t REAL NOT NULL,
        prompt_tokens INTEGER, response_tokens INTEGER, total_tokens INTEGER
    );
    """,
    # 2: full-text search over transcripts (indexes rows stored before it existed, too)
    """
    CREATE VIRTUAL TABLE transcripts_fts USING fts5(
        text, content='transcripts', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER transcripts_ai AFTER INSERT ON transcripts BEGIN
        INSERT INTO transcripts_fts(rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER transcripts_ad AFTER DELETE ON transcripts BEGIN
        INSERT INTO transcripts_fts(transcripts_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    INSERT INTO transcripts_fts(transcripts_fts) VALUES ('rebuild');
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


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


def migrate(conn: sqlite3.Connection, upto: int = SCHEMA_VERSION) -> int:
    """Bring the schema to ``upto``; each step is one transaction. Returns the version."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise HistoryError(
            f"history database is version {version}, newer than this voicecli "
            f"understands ({SCHEMA_VERSION})",
            "upgrade voicecli",
        )
    for step in range(version, upto):
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{MIGRATIONS[step]}\nPRAGMA user_version = {step + 1};\nCOMMIT;"
            )
        except sqlite3.Error:
            if conn.in_transaction:
                conn.rollback()
            raise
        version = step + 1
    return version


class HistoryStore:
    """The database: writing for the recorder, reading for ``voicecli history``."""

    def __init__(self, path: Path | None = None, *, timeout: float = 1.0) -> None:
        self.path = path or default_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as e:
            raise as_history_error(e, self.path) from None
        self.conn.row_factory = sqlite3.Row
        with self.guard():
            self.conn.execute("PRAGMA foreign_keys = ON")
            if int(self.conn.execute("PRAGMA user_version").fetchone()[0]) == 0:
                self.conn.execute("PRAGMA journal_mode = WAL")
            self.version = migrate(self.conn)

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
        cols = ("model", "voice", "language", "style", "endpoint", "input")
        values = [meta.get(c) for c in cols]
        with self.transaction() as c:
            cur = c.execute(
                f"INSERT INTO sessions (started_at, {', '.join(cols)}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [started_at or time.time(), *values],
            )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def apply(self, sid: int, event: object, t: float) -> None:
        """Store one event (inside a transaction)."""
        c = self.conn
        if isinstance(event, ev.TurnEnded):
            c.execute(
                "INSERT OR REPLACE INTO turns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sid, event.index, t, event.outcome, event.user_text, event.model_text,
                 event.audio_s, event.latency_s, event.reason),
            )  # fmt: skip
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
            c.execute(
                "INSERT INTO usage VALUES (?, ?, ?, ?, ?)",
                (sid, t, event.prompt_tokens, event.response_tokens, event.total_tokens),
            )
            c.execute(
                "UPDATE sessions SET prompt_tokens = prompt_tokens + ?, "
                "response_tokens = response_tokens + ?, total_tokens = total_tokens + ? "
                "WHERE id = ?",
                (event.prompt_tokens, event.response_tokens, event.total_tokens, sid),
            )
        c.execute("UPDATE sessions SET duration_s = max(duration_s, ?) WHERE id = ?", (t, sid))

    def _text(self, sid: int, turn: int | None, t: float, role: str, text: str) -> None:
        self.conn.execute(
            "INSERT INTO transcripts (session_id, turn_idx, t, role, text) VALUES (?, ?, ?, ?, ?)",
            (sid, turn, t, role, text),
        )

    def end_session(self, sid: int, summary: dict[str, Any]) -> None:
        duration = float(summary.get("duration_s") or summary.get("t") or 0.0)
        self.conn.execute(
            "UPDATE sessions SET ended_at = ?, duration_s = max(duration_s, ?), summary = ? "
            "WHERE id = ?",
            (time.time(), duration, _json(summary), sid),
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
        for call in out["tool_calls"]:
            for key in ("args", "response"):
                call[key] = json.loads(call[key]) if call[key] else None
        for rows in (out["turns"], out["transcripts"], out["tool_calls"], out["usage"]):
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


def session_meta(settings: Settings, endpoint: str, input_name: str | None) -> dict[str, Any]:
    """What is stored about a session's setup: named fields only (never the API key)."""
    return {
        "model": settings.model,
        "voice": settings.voice,
        "language": settings.language,
        "style": settings.style,
        "endpoint": endpoint,
        "input": input_name,
    }


_STORED = (
    ev.TurnEnded,
    ev.UserText,
    ev.ToolCall,
    ev.ToolResults,
    ev.ToolCallCancellation,
    ev.Usage,
)
_END = object()


class HistoryRecorder:
    """Observer storing a session from a writer thread; failures warn once and never raise.

    A failure in the writer is reported at the next event (on the notifying thread) or at
    ``close``: one warning line, never interleaved with the view's output.
    """

    def __init__(
        self,
        meta: dict[str, Any],
        path: Path | None = None,
        *,
        warn: Callable[[str], None] | None = None,
        maxsize: int = 10_000,
        timeout: float = 2.0,
    ) -> None:
        self.path = path or default_path()
        self.meta = meta
        self.session_id: int | None = None
        self.dropped = 0
        self.failed: str | None = None
        self._unreported = False
        self._report_lock = threading.Lock()
        self._warn = warn or (lambda text: print(f"warning: {text}", file=sys.stderr))
        self._queue: queue.Queue[Any] = queue.Queue(maxsize)
        self._timeout = timeout
        self._started_at = time.time()
        self._thread = threading.Thread(target=self._run, name="voicecli-history", daemon=True)
        self._thread.start()

    def on_event(self, event: object, t: float) -> None:
        if self._unreported:
            self._report()
        if isinstance(event, _STORED) and self.failed is None:
            self._put((event, t))

    def on_session_end(self, record: dict[str, Any]) -> None:
        self._put(("end", record))

    def _put(self, item: Any) -> None:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1

    def close(self, timeout: float = 5.0) -> None:
        """Finish writing (waits at most ``timeout``; a stuck disk never holds the exit)."""
        if self._thread.is_alive():
            with contextlib.suppress(queue.Full):
                self._queue.put(_END, timeout=timeout)
            self._thread.join(timeout)
        self._report()

    def _fail(self, e: Exception) -> None:
        """In the writer thread: remember; the warning is given by the caller's thread."""
        self.failed = as_history_error(e, self.path).one_line()
        self._unreported = True

    def _report(self) -> None:
        """Warn once, from the thread that notifies (so lines never interleave)."""
        with self._report_lock:
            if not self._unreported:
                return
            self._unreported = False
        self._warn(f"history is off for this session: {self.failed}")

    def _run(self) -> None:
        try:
            store = HistoryStore(self.path, timeout=self._timeout)
        except Exception as e:
            self._fail(e)
            return
        try:
            self.session_id = store.new_session(self.meta, self._started_at)
            done = False
            while not done:
                batch = [self._queue.get()]
                with contextlib.suppress(queue.Empty):
                    while len(batch) < 500:
                        batch.append(self._queue.get_nowait())
                with store.transaction():
                    for item in batch:
                        if item is _END:
                            done = True
                        elif item[0] == "end":
                            store.end_session(self.session_id, item[1])
                        else:
                            store.apply(self.session_id, item[0], item[1])
        except Exception as e:
            self._fail(e)
        finally:
            store.close()
