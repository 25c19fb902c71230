"""``--continue`` / ``--session ID``: pick up an earlier conversation.

Two ways, tried in this order:

1. **resume**: the stored session resumption handle, while it is younger than
   ``resume_window_s`` (the service keeps a handle for a while after the session ends; it
   decides, and refuses one it no longer knows);
2. **seed**: a new session whose initial history is the earlier turns' transcripts
   (``history_config.initial_history_in_client_content``: after ``setupComplete`` the server
   takes ``clientContent`` turns as history, without a model call, until one has
   ``turnComplete``), the newest turns that fit in ``continue_budget_tokens``, with a note of
   what was left out.

Either way the new session is stored as part of the same conversation (``conversation_id``),
so a conversation continued again seeds from all of its sessions. Pure planning over the
history database; the transport carries the plan out.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from voicecli.config import Settings
from voicecli.errors import UsageError

TURN_OVERHEAD_TOKENS = 4  # role and framing of one Content, roughly


@dataclass(frozen=True)
class SeedTurn:
    role: str  # user | model
    text: str


@dataclass
class Plan:
    session_id: int  # the session being continued
    conversation_id: int
    handle: str | None  # try this first (None: seed at once)
    seed: list[SeedTurn] = field(default_factory=list)
    left_out: int = 0  # earlier turns not seeded (over the budget)
    left_out_tokens: int = 0
    budget: int = 0
    why_no_handle: str | None = None

    def seeded_note(self) -> str:
        """One line: what the seed holds and what it left out."""
        # a turn is what you said and the reply: two seeded messages, one turn
        n = sum(1 for t in self.seed if t.role == "user") or len(self.seed)
        line = f"{n} earlier turn{'' if n == 1 else 's'} seeded"
        if self.left_out:
            line += (
                f"; {self.left_out} older turns (~{self.left_out_tokens} tokens) left out "
                f"to stay within {self.budget} tokens (continue_budget_tokens)"
            )
        return line

    def message(self, how: str) -> str:
        """What the view says about the path taken (``resumed`` or ``seeded``)."""
        if how == "resumed":
            return f"continuing session {self.session_id}: resumed with its handle"
        why = self.why_no_handle or "the server no longer knows its handle"
        return f"continuing session {self.session_id} ({why}): new session, {self.seeded_note()}"


def estimate_tokens(text: str) -> int:
    """About four characters a token for transcripts (an estimate: no tokenizer call)."""
    return len(text) // 4 + 1 + TURN_OVERHEAD_TOKENS


def pick_session(store: Any, session_id: int | None) -> dict[str, Any]:
    """The stored session to continue: ``session_id``, or the newest with something said."""
    conn = store.conn
    if session_id is not None:
        row = conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise UsageError(f"no session {session_id} in the history", "`voicecli history`")
        return dict(row)
    row = conn.execute(
        "SELECT * FROM sessions s WHERE EXISTS (SELECT 1 FROM transcripts t "
        "WHERE t.session_id = s.id) ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        raise UsageError("no earlier conversation to continue", "start one with `voicecli talk`")
    return dict(row)


def conversation_turns(store: Any, conversation_id: int, upto: int) -> list[SeedTurn]:
    """Everything said in the conversation up to session ``upto``, oldest first; lines of
    one speaker in a row are one turn."""
    rows = store.conn.execute(
        "SELECT tr.role, tr.text FROM transcripts tr JOIN sessions s ON s.id = tr.session_id "
        "WHERE (s.conversation_id = ? OR s.id = ?) AND s.id <= ? "
        "ORDER BY s.id, tr.t, CASE tr.role WHEN 'model' THEN 1 ELSE 0 END, tr.id",
        (conversation_id, conversation_id, upto),
    ).fetchall()
    return merge_turns(
        ("model" if row["role"] == "model" else "user", str(row["text"])) for row in rows
    )


def merge_turns(lines: Iterable[tuple[str, str]]) -> list[SeedTurn]:
    """(role, text) lines as turns: whitespace squeezed, empty lines skipped, lines of one
    speaker in a row joined into one turn."""
    turns: list[SeedTurn] = []
    for role, raw in lines:
        text = " ".join(raw.split())
        if not text:
            continue
        if turns and turns[-1].role == role:
            turns[-1] = SeedTurn(role, f"{turns[-1].text} {text}")
        else:
            turns.append(SeedTurn(role, text))
    return turns


def within_budget(turns: list[SeedTurn], budget: int) -> tuple[list[SeedTurn], int, int]:
    """The newest turns whose estimate fits ``budget``; (kept, left out, their tokens).
    The kept part never starts with a model turn (a history opens with the user)."""
    kept: list[SeedTurn] = []
    used = 0
    for turn in reversed(turns):
        cost = estimate_tokens(turn.text)
        if used + cost > budget:
            break
        kept.append(turn)
        used += cost
    kept.reverse()
    while kept and kept[0].role == "model":
        kept.pop(0)
    dropped = turns[: len(turns) - len(kept)]
    return kept, len(dropped), sum(estimate_tokens(t.text) for t in dropped)


def plan(store: Any, session_id: int | None, settings: Settings, now: float | None = None) -> Plan:
    row = pick_session(store, session_id)
    conversation = int(row.get("conversation_id") or row["id"])
    now = time.time() if now is None else now
    handle, why = row.get("resume_handle"), None
    if not settings.resume:
        handle, why = None, "session resumption is off"
    elif not handle:
        why = "it left no resumption handle"
    elif now - float(row.get("handle_at") or 0) > settings.resume_window_s:
        handle, why = None, "its handle is older than resume_window_s"
    turns = conversation_turns(store, conversation, int(row["id"]))
    seed, left, left_tokens = within_budget(turns, settings.continue_budget_tokens)
    return Plan(
        session_id=int(row["id"]),
        conversation_id=conversation,
        handle=handle,
        seed=seed,
        left_out=left,
        left_out_tokens=left_tokens,
        budget=settings.continue_budget_tokens,
        why_no_handle=why,
    )
