"""The history database's schema: numbered migrations (never edit a shipped step: append
one), applied safely when several voicecli start together; and the sessions of processes
that are gone (killed outright), marked as ended.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3

from voicecli.errors import HistoryError

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
    # 3: what ran and how it ended; conversations that continue; usage by modality and
    # turn; mid-session context changes; the kept recording
    """
    ALTER TABLE sessions ADD COLUMN command TEXT;           -- talk | listen
    ALTER TABLE sessions ADD COLUMN sim INTEGER;            -- 1: the simulator
    ALTER TABLE sessions ADD COLUMN outcome TEXT;           -- ok | error | NULL (running)
    ALTER TABLE sessions ADD COLUMN error_kind TEXT;        -- auth | network | server ...
    ALTER TABLE sessions ADD COLUMN error_message TEXT;
    ALTER TABLE sessions ADD COLUMN conversation_id INTEGER; -- first session of the talk
    ALTER TABLE sessions ADD COLUMN continued_from INTEGER;
    ALTER TABLE sessions ADD COLUMN continued_how TEXT;     -- resumed | seeded
    ALTER TABLE sessions ADD COLUMN seeded_turns INTEGER;
    ALTER TABLE sessions ADD COLUMN resume_handle TEXT;     -- latest resumable handle
    ALTER TABLE sessions ADD COLUMN handle_at REAL;         -- unix time it was received
    ALTER TABLE sessions ADD COLUMN audio_path TEXT;        -- kept recording (FLAC)
    ALTER TABLE sessions ADD COLUMN audio_bytes INTEGER;
    ALTER TABLE sessions ADD COLUMN prompt_audio_tokens INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sessions ADD COLUMN prompt_text_tokens INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sessions ADD COLUMN response_audio_tokens INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sessions ADD COLUMN response_text_tokens INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sessions ADD COLUMN cost_usd REAL;
    UPDATE sessions SET command = 'talk', sim = (endpoint = 'simulator'),
        outcome = CASE WHEN ended_at IS NULL THEN NULL ELSE 'ok' END;
    UPDATE sessions SET conversation_id = id;
    CREATE INDEX sessions_by_conversation ON sessions(conversation_id, id);
    ALTER TABLE usage ADD COLUMN turn_idx INTEGER;
    ALTER TABLE usage ADD COLUMN prompt_audio INTEGER;
    ALTER TABLE usage ADD COLUMN prompt_text INTEGER;
    ALTER TABLE usage ADD COLUMN response_audio INTEGER;
    ALTER TABLE usage ADD COLUMN response_text INTEGER;
    CREATE TABLE controls (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        t REAL NOT NULL,
        kind TEXT NOT NULL,                     -- system | style | tools | tool_add | ...
        value TEXT NOT NULL
    );
    """,
    # 4: when each utterance was said (seconds since the session start, the recording's
    # timeline): for subtitles and playing one turn back
    """
    ALTER TABLE turns ADD COLUMN user_start REAL;
    ALTER TABLE turns ADD COLUMN user_end REAL;
    ALTER TABLE turns ADD COLUMN model_start REAL;
    """,
    # 5: the process that runs the session, so a later run can tell one killed outright
    """
    ALTER TABLE sessions ADD COLUMN pid INTEGER;
    ALTER TABLE sessions ADD COLUMN pid_start TEXT;         -- host and process start time
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, upto: int = SCHEMA_VERSION) -> int:
    """Bring the schema to ``upto``; each step is one transaction. Returns the version.

    Safe when several voicecli start together on a new database: each step reads the
    version inside its own ``BEGIN IMMEDIATE`` (one writer at a time; the others wait on
    the busy timeout), so a step another process has already applied is skipped."""
    version = _version(conn)
    while version < upto:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = _version(conn)  # another process may have migrated meanwhile
            if version < upto:
                for statement in _statements(MIGRATIONS[version]):
                    conn.execute(statement)
                version += 1
                conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise
    return version


def _version(conn: sqlite3.Connection) -> int:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise HistoryError(
            f"history database is version {version}, newer than this voicecli "
            f"understands ({SCHEMA_VERSION})",
            "upgrade voicecli",
        )
    return version


def _statements(script: str) -> list[str]:
    """A migration's statements, one by one (``executescript`` would commit first)."""
    out, part = [], ""
    for line in script.splitlines(keepends=True):
        part += line
        if sqlite3.complete_statement(part):
            if part.strip():
                out.append(part.strip())
            part = ""
    if part.strip():
        out.append(part.strip())
    return out


KILLED_MESSAGE = "the process ended without closing the session (killed)"


def process_start(pid: int) -> str:
    """Who runs ``pid``: the host and, where /proc has it, the process's start time (a pid
    used again by a later process has another)."""
    started = ""
    with contextlib.suppress(OSError, IndexError, ValueError):
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
        started = stat.rsplit(")", 1)[1].split()[19]  # field 22, after the command name
    return f"{socket.gethostname()}/{started}"


def _alive(pid: int, started: str | None) -> bool:
    host, _, ticks = (started or "").partition("/")
    if host and host != socket.gethostname():
        return True  # another machine's (a shared home): not ours to judge
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process: it exists
        pass
    return not ticks or process_start(pid) == started


def mark_killed(conn: sqlite3.Connection) -> list[int]:
    """Sessions still running whose process is gone: ended, outcome ``error``, kind
    ``killed``. Returns their ids."""
    rows = conn.execute(
        "SELECT id, pid, pid_start FROM sessions WHERE outcome IS NULL AND pid IS NOT NULL"
    ).fetchall()
    gone = [int(r[0]) for r in rows if int(r[1]) != os.getpid() and not _alive(r[1], r[2])]
    for sid in gone:
        conn.execute(
            "UPDATE sessions SET outcome = 'error', error_kind = 'killed', error_message = ?, "
            "ended_at = started_at + coalesce((SELECT max(t) FROM transcripts "
            "WHERE session_id = ?), duration_s, 0) WHERE id = ? AND outcome IS NULL",
            (KILLED_MESSAGE, sid, sid),
        )
    return gone


def owner() -> tuple[int, str]:
    """This process, as stored with a new session (``pid``, ``pid_start``)."""
    return os.getpid(), _OWNER


_OWNER = process_start(os.getpid())
