"""Issue 35: the stall watchdog. Each stall kind of the simulator (fidelity rule 13) is
recovered in a scripted session through the real SDK: every utterance is answered and the
run ends normally; a turn the model chose not to answer is never taken for a stall."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_scenario
from observers import Events

from voicecli.audio import synth
from voicecli.config import Settings
from voicecli.history import HistoryRecorder, HistoryStore, default_path, session_meta
from voicecli.live import events as ev
from voicecli.live.stats import Summary
from voicecli.live.watchdog import Watchdog, is_tonal
from voicecli.session.engine import TalkRequest, run_talk
from voicecli.ui import history_text
from voicecli.ui.status import RECOVERING, SessionStatus
from voicecli.ui.summary import format_summary

BASE = "latency_ms = 50\nrealtime = 0\n"


def turns(*specs: str) -> str:
    return "".join(f"[[turns]]\n{spec}\n" for spec in specs)


@pytest.fixture
def three(tmp_path: Path) -> Path:
    path = tmp_path / "three.wav"
    synth.make_utterances_wav(path, [(1.0, 1.0), (1.0, 1.0), (1.0, 1.0)], rate=16000)
    return path


async def run(sim, wav: Path, tmp_path: Path, **kw):
    obs = Events()
    req = TalkRequest(
        input=wav, fast=True, observers=[obs], transcript=tmp_path / "t.jsonl", with_tools=False
    )
    settings = Settings(base_url=sim.base_url, ca_file=str(sim.ca_path), api_key="test-key", **kw)
    return await run_talk(settings, req), obs


def replied(sim) -> list[str]:
    return [t.heard for s in sim.sessions for t in s.replied_turns]


A, B, C = (
    'heard = "one"\nreply = "uno"',
    'heard = "two"\nreply = "dos dos dos dos dos dos"',
    'heard = "three"\nreply = "tres"',
)


@pytest.mark.parametrize(
    "fault",
    ["stall_no_reply", "stall_mid_reply", "stall_empty_turn", "stall_tone", "stall_text_only"],
)
async def test_each_stall_kind_is_recovered_and_the_talk_goes_on(
    sim_factory, tmp_path, three, fault
) -> None:
    text = BASE + turns(A, B + f'\nfault = "{fault}"', C)
    sim = sim_factory(make_scenario(text, tmp_path))
    summary, obs = await run(sim, three, tmp_path, stall_after=1.0)
    assert replied(sim) == ["one", "two", "three"]  # every utterance answered
    assert summary.unanswered == 0 and summary.spoken == 3
    assert summary.stalls == 1 and summary.stalls_recovered == 1
    steps = [(s.action, s.attempt) for s in obs.of(ev.Stall)]
    # the stalled connection takes no nudge (scope "connection"): a resume answers
    assert steps == [("nudge", 1), ("resume", 2), ("recovered", 0)]
    assert len(sim.sessions) == 2 and sim.sessions[1].resumed_from is not None
    kinds = {s.kind for s in obs.of(ev.Stall)}
    want = {
        "stall_no_reply": "no_reply",
        "stall_mid_reply": "mid_reply",
        "stall_empty_turn": "empty_turn",
        "stall_tone": "tone",
        "stall_text_only": "text_only",
    }[fault]
    assert kinds == {want}
    lines = [json.loads(x) for x in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert [x["action"] for x in lines if x["type"] == "stall"] == ["nudge", "resume", "recovered"]
    end = next(x for x in lines if x["type"] == "session_end")
    assert end["stalls"] == 1 and end["stalls_recovered"] == 1


@pytest.mark.parametrize("fault", ["stall_mid_reply", "stall_tone"])
async def test_a_tonal_voice_recovers_too(sim_factory, tmp_path, three, fault) -> None:
    """The simulator's tone voice is a pure tone: with its transcript flowing it is a
    reply, not a stall (nor a failed recovery)."""
    text = 'voice = "tone"\nlatency_ms = 100\nrealtime = 1.0\n'
    sim = sim_factory(make_scenario(text + turns(A, B + f'\nfault = "{fault}"', C), tmp_path))
    summary, obs = await run(sim, three, tmp_path, stall_after=1.0)
    assert [s.action for s in obs.of(ev.Stall)] == ["nudge", "resume", "recovered"]
    assert replied(sim) == ["one", "two", "three"]
    assert summary.unanswered == 0 and summary.stalls_recovered == 1


async def test_a_nudge_is_enough_when_only_the_turn_stalled(sim_factory, tmp_path, three) -> None:
    text = BASE + 'stall_scope = "turn"\n' + turns(A, B + '\nfault = "stall_empty_turn"', C)
    sim = sim_factory(make_scenario(text, tmp_path))
    summary, obs = await run(sim, three, tmp_path, stall_after=1.0)
    assert [s.action for s in obs.of(ev.Stall)] == ["nudge", "recovered"]
    assert len(sim.sessions) == 1
    assert summary.unanswered == 0 and summary.spoken == 3


async def test_a_poisoned_handle_ends_in_a_seeded_new_session(sim_factory, tmp_path, three) -> None:
    text = BASE + 'stall_scope = "handle"\n' + turns(A, B + '\nfault = "stall_mid_reply"', C)
    sim = sim_factory(make_scenario(text, tmp_path))
    summary, obs = await run(sim, three, tmp_path, stall_after=1.0)
    assert [s.action for s in obs.of(ev.Stall)] == ["nudge", "resume", "new_session", "recovered"]
    assert len(sim.sessions) == 3 and sim.sessions[-1].resumed_from is None  # a new session
    last = sim.sessions[-1]
    assert last.seeded_turns and len(last.replied_turns) == 2  # the stalled one, then three
    assert summary.unanswered == 0 and summary.stall_steps == 3


async def test_silent_by_choice_is_never_a_stall(sim_factory, tmp_path, three) -> None:
    text = BASE + turns(A, 'heard = "two"\nsilent = true', C)
    sim = sim_factory(make_scenario(text, tmp_path))
    summary, obs = await run(sim, three, tmp_path, stall_after=0.5)
    assert obs.of(ev.Stall) == []
    assert summary.silent == 1 and summary.spoken == 2 and summary.stalls == 0


async def test_without_the_watchdog_a_stall_is_left_unanswered(
    sim_factory, tmp_path, three
) -> None:
    text = BASE + turns(A, B + '\nfault = "stall_empty_turn"', C)
    sim = sim_factory(make_scenario(text, tmp_path))
    summary, obs = await run(sim, three, tmp_path, stall_after=0.5, watchdog=False)
    assert obs.of(ev.Stall) == []
    assert summary.stalls == 0 and summary.spoken < 3


def test_watchdog_units() -> None:
    wd = Watchdog(stall_s=2.0)
    wd.user_ended(0.0)
    assert wd.check(1.9) is None
    # thinking: not a stall while the model says it is working
    wd.thinking(1.5)
    assert wd.check(3.0) is None
    assert wd.turn_complete(4.0, reason="NEED_MORE_INPUT") is None  # chose not to answer
    assert wd.check(10.0) is None
    wd.user_ended(20.0)
    wd.tool_running(True, 20.5)
    assert wd.check(40.0) is None  # a tool runs
    wd.tool_running(False, 40.0)
    step = wd.check(42.0)
    assert step is not None and (step.action, step.kind) == ("nudge", "no_reply")
    assert wd.check(43.0) is None
    assert wd.check(44.0).action == "resume"  # type: ignore[union-attr]
    assert wd.model_audio(44.5, 0.1, audible=True, tonal=False) == pytest.approx(2.5)
    # all of a reply generated, its turnComplete late: no stall (its audio may still play)
    wd = Watchdog(stall_s=2.0)
    wd.user_ended(0.0)
    wd.model_audio(0.5, 3.0, audible=True, tonal=False)
    wd.generation_complete(0.6)
    assert wd.check(10.0) is None
    assert wd.turn_complete(11.0, reason=None) is None
    # a reply that stops before it is complete: a stall
    wd.user_ended(20.0)
    wd.model_audio(20.5, 1.0, audible=True, tonal=False)
    assert wd.check(22.6).kind == "mid_reply"  # type: ignore[union-attr]


def test_tone_detector() -> None:
    tone = synth.tone(1000.0, 0.08, 24000, 0.3).tobytes()
    assert is_tonal(tone)
    words = synth.tone(200.0, 0.08, 24000, 0.3) // 2 + synth.tone(730.0, 0.08, 24000, 0.3) // 2
    assert not is_tonal(words.tobytes())


def test_status_line_and_stats_show_the_recovery() -> None:
    status = SessionStatus()
    status.on_event(ev.Stall("empty_turn", "nudge", 1), 1.0)
    assert status.state == RECOVERING
    status.on_event(ev.Stall("empty_turn", "resume", 2), 2.0)
    status.on_event(ev.Stall("empty_turn", "recovered", after_s=1.5), 3.0)
    assert status.state != RECOVERING
    assert "1 stall (1 recovered, 2 steps)" in status.stats_line(3.0)
    line = format_summary(Summary(stalls=1, stalls_recovered=1, stall_steps=2))
    assert "1 stall (1 recovered, 2 recovery steps)" in line


def test_history_keeps_the_steps_and_shows_them_in_the_timeline() -> None:
    settings = Settings(model="gemini-3.8-live", api_key="k")
    rec = HistoryRecorder(session_meta(settings, "simulator", "in.wav"), None)
    rec.on_event(ev.TurnEnded(1, "spoken", "one", "uno", 0.6, 0.3), 1.0)
    rec.on_event(ev.Stall("empty_turn", "nudge", 1), 7.0)
    rec.on_event(ev.Stall("empty_turn", "resume", 2), 12.0)
    rec.on_event(ev.Stall("empty_turn", "recovered", after_s=5.6), 12.6)
    rec.on_event(ev.TurnEnded(2, "spoken", "two", "dos", 0.6, 0.3), 13.0)
    rec.on_session_end({"type": "session_end", "t": 14.0, "stalls": 1, "stalls_recovered": 1})
    rec.close()
    store = HistoryStore(default_path())
    try:
        data = store.session(1)
    finally:
        store.close()
    assert data["summary"]["stalls"] == 1
    shown = "\n".join(history_text.show(data))
    assert "· stall: empty_turn: nudge" in shown and "· stall: empty_turn: recovered" in shown
    assert shown.index("stall: empty_turn: resume") < shown.index("gemini: dos")
