"""``--continue`` planning (pure, over the history database) and mid-session context state."""

from __future__ import annotations

from typing import Any

import pytest

from voicecli.config import Settings
from voicecli.continuation import SeedTurn, estimate_tokens, plan, within_budget
from voicecli.errors import ModelError, UsageError
from voicecli.history import HistoryStore, default_path, session_meta
from voicecli.live import capabilities
from voicecli.live import events as ev
from voicecli.live.control import SessionContext
from voicecli.tools import open_tools


def test_budget_keeps_the_newest_and_opens_with_the_user() -> None:
    turns = [SeedTurn("user" if i % 2 == 0 else "model", f"turn number {i:03d}") for i in range(10)]
    each = estimate_tokens(turns[0].text)
    kept, left, tokens = within_budget(turns, budget=each * 3)
    assert [t.text for t in kept] == ["turn number 008", "turn number 009"]  # model 7 dropped
    assert left == 8 and tokens == 8 * each
    assert within_budget(turns, 10_000) == (turns, 0, 0)


def store_session(store: HistoryStore, when: float, **meta: Any) -> int:
    sid = store.new_session({**session_meta(Settings(), "simulator", None), **meta}, when)
    with store.transaction():
        store.apply(sid, ev.TurnEnded(1, "spoken", f"question {sid}", f"answer {sid}", 1.0, 0.2), 2)
        store.apply(sid, ev.ResumptionUpdate(f"h-{sid}", True), 2)
    return sid


def test_plan_picks_the_handle_or_seeds_the_whole_conversation() -> None:
    store = HistoryStore(default_path())
    one = store_session(store, 100.0)
    two = store_session(store, 200.0, conversation_id=one, continued_from=one)
    p = plan(store, None, Settings())
    assert (p.session_id, p.conversation_id, p.handle) == (two, one, f"h-{two}")
    assert [t.text for t in p.seed] == ["question 1", "answer 1", "question 2", "answer 2"]
    old = plan(store, None, Settings(resume_window_s=0), now=10**12)
    assert old.handle is None and "older than resume_window_s" in (old.why_no_handle or "")
    assert "2 earlier turns seeded" in old.message("seeded")  # two exchanges (issue 31)
    assert plan(store, one, Settings(resume=False)).handle is None
    with pytest.raises(UsageError):
        plan(store, 99, Settings())
    store.close()


class Sent:
    def __init__(self) -> None:
        self.updates: list[tuple[Any, Any]] = []

    async def send(self, msg: Any) -> None:
        self.updates.append((msg.system_instruction, msg.tools))


async def test_context_changes_and_tools() -> None:
    settings = Settings(system="be kind", style="calm")
    caps = capabilities.lookup("gemini-3.8-live")
    async with open_tools(settings, caps) as toolset:
        ctx = SessionContext(settings, caps, None, toolset)
        sent = Sent()
        change = await ctx.change(sent, "style", "whispering")
        assert change.text == "speaking style now: whispering"
        assert sent.updates[-1][0] == "be kind\n\nSpeak in this style: whispering."
        await ctx.change(sent, "tools", "off")
        assert sent.updates[-1] == (None, ()) and ctx.declarations() is None
        await ctx.change(sent, "tools", "on")
        names = toolset.names
        await ctx.change(sent, "tool_remove", names[0])
        declared = [d.name for d in sent.updates[-1][1][0].function_declarations]
        assert names[0] not in declared and len(declared) == len(names) - 1
        with pytest.raises(UsageError):
            await ctx.change(sent, "tool_add", "no_such_tool")
    old = SessionContext(settings, capabilities.lookup(
        "gemini-2.5-flash-native-audio-preview-12-2025"))  # fmt: skip
    with pytest.raises(ModelError):
        await old.change(Sent(), "system", "x")
