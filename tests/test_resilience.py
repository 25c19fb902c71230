"""Issue 8: sessions that survive. A fault matrix against the simulator through the real SDK:
each case asserts that every user turn is answered and no speech is lost, or that the run
ends with a clear error and its files finalized."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from conftest import make_scenario
from observers import Events

from voicecli.audio import synth
from voicecli.config import Settings
from voicecli.errors import AuthError, NetworkError, SessionTimeout
from voicecli.live import events as ev
from voicecli.live import messages as m
from voicecli.live.fake import FakeLive
from voicecli.live.reconnect import ReconnectPolicy, is_retryable, is_unknown_handle
from voicecli.live.resilient import ResilientTransport
from voicecli.live.transport import map_close
from voicecli.session.engine import TalkRequest, run_talk

BASE = 'voice = "tone"\nlatency_ms = 50\nrealtime = 0\n'


def turns(*specs: str) -> str:
    return "".join(f"[[turns]]\n{spec}\n" for spec in specs)


def settings_for(sim, **kw) -> Settings:
    return Settings(base_url=sim.base_url, ca_file=str(sim.ca_path), api_key="test-key", **kw)


def replied_heard(sim) -> list[str]:
    return [t.heard for s in sim.sessions for t in s.replied_turns]


@pytest.fixture
def three(tmp_path: Path) -> Path:
    path = tmp_path / "three.wav"
    synth.make_utterances_wav(path, [(1.0, 1.0), (1.0, 1.0), (1.0, 1.0)], rate=16000)
    return path


async def run(sim, wav: Path, tmp_path: Path, fast: bool = True, **kw):
    obs = Events()
    req = TalkRequest(
        input=wav,
        fast=fast,
        observers=[obs],
        transcript=tmp_path / "t.jsonl",
        output=tmp_path / "r.wav",
        with_tools=False,
    )
    summary = await run_talk(settings_for(sim, **kw), req)
    return summary, obs


A, B, C = (
    'heard = "one"\nreply = "uno"',
    'heard = "two"\nreply = "dos"',
    'heard = "three"\nreply = "tres"',
)


@pytest.mark.parametrize("fault", ["close_1011", "drop"])
async def test_abnormal_close_mid_reply_is_survived(sim_factory, tmp_path, three, fault) -> None:
    sim = sim_factory(make_scenario(BASE + turns(A, B + f'\nfault = "{fault}"', C), tmp_path))
    summary, obs = await run(sim, three, tmp_path)
    assert len(sim.sessions) == 2
    assert sim.sessions[1].resumed_from is not None  # the conversation went on
    assert replied_heard(sim) == ["one", "two", "three"]  # every user turn answered
    assert summary.reconnects == 1 and summary.spoken == 3
    phases = [r.phase for r in obs.of(ev.Reconnect)]
    assert phases == ["reconnecting", "resumed"]
    lines = [json.loads(x) for x in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert [x["phase"] for x in lines if x["type"] == "reconnect"] == phases


async def test_goaway_moves_to_a_new_connection(sim_factory, tmp_path, three) -> None:
    scenario = 'voice = "tone"\nlatency_ms = 50\nrealtime = 1\ngoaway_after_s = 1.0\n'
    scenario += "goaway_time_left_s = 2.0\n" + turns(
        A + "\nduration_s = 0.8", B + "\nduration_s = 0.8", C + "\nduration_s = 0.8"
    )
    sim = sim_factory(make_scenario(scenario, tmp_path))
    summary, obs = await run(sim, three, tmp_path)
    assert replied_heard(sim) == ["one", "two", "three"]
    assert len(sim.sessions) >= 2 and sim.sessions[1].resumed_from is not None
    # moved at a turn boundary, before the server's deadline closed the socket
    assert sim.sessions[0].close_code != 1011
    assert summary.spoken == 3 and summary.interrupted == 0
    assert obs.of(ev.GoAway)


async def test_goaway_deadline_timer_switches_mid_turn(sim_factory, tmp_path) -> None:
    """A reply longer than goAway's timeLeft: the timer moves before the server closes."""
    scenario = 'voice = "tone"\nlatency_ms = 0\nrealtime = 1\ngoaway_time_left_s = 1.0\n'
    scenario += turns(A + '\nduration_s = 2.5\nfault = "goaway"')
    sim = sim_factory(make_scenario(scenario, tmp_path))
    wav = tmp_path / "one.wav"
    synth.make_utterances_wav(wav, [(0.6, 0.5)], rate=16000, lead_silence_s=0.0)
    summary, obs = await run(sim, wav, tmp_path)
    assert sim.sessions[0].close_code != 1011  # we left before "Deadline expired"
    assert len(sim.sessions) == 2 and sim.sessions[1].resumed_from is not None
    assert summary.reconnects == 1
    assert (summary.interrupted, summary.spoken) == (1, 1)  # cut, then answered in full
    assert replied_heard(sim) == ["one"]


@pytest.mark.parametrize("code", [1008, 1007, 1011])
async def test_unknown_resumption_handle_falls_back_to_new_session(
    sim_factory, tmp_path, three, code
) -> None:
    """Issue 27: the close code for a refused handle is not documented: whatever it is, a
    resume refused at setup is followed by a new session (1008 is not a missing model)."""
    text = (
        BASE
        + f"honour_resumption = false\nrefused_handle_code = {code}\n"
        + turns(A, B + '\nfault = "drop"', C)
    )
    sim = sim_factory(make_scenario(text, tmp_path))
    summary, obs = await run(sim, three, tmp_path)
    phases = [r.phase for r in obs.of(ev.Reconnect)]
    assert phases[-1] == "new_session"
    assert any(s.close_code == code for s in sim.sessions)  # the refused resume
    refused = [r.reason for r in obs.of(ev.Reconnect) if "refused to resume" in r.reason]
    assert refused and f"close {code}" in refused[0] and "seeded" in refused[0]
    # every utterance after the drop was answered
    answered = [t for s in sim.sessions for t in s.replied_turns]
    assert len(answered) == 3 and summary.spoken == 3


async def test_new_session_after_a_refused_resume_is_seeded(sim_factory, tmp_path) -> None:
    """Issue 16: the server forgets the handle mid-conversation; the new session starts with
    the conversation so far as initial history (not blank), within the token budget, and
    the turn cut by the drop is sent again as audio (not seeded twice)."""
    text = (
        BASE
        + "honour_resumption = false\n"
        + turns(
            'heard = "one"\nreply = "uno, {seeded} seeded"',
            'heard = "two"\nreply = "dos, {seeded} seeded"',
            'heard = "three"\nreply = "tres"\nfault = "drop"',
        )
    )
    sim = sim_factory(make_scenario(text, tmp_path))
    wav = tmp_path / "four.wav"
    synth.make_utterances_wav(wav, [(1.0, 1.0)] * 4, rate=16000)
    summary, obs = await run(sim, wav, tmp_path)
    refused = [s for s in sim.sessions if s.close_code == 1008]
    assert len(refused) == 1 and "Session not found" in (refused[0].close_reason or "")
    last = sim.sessions[-1]
    assert last.seeded_turns == [("user", "one"), ("model", "uno, 0 seeded"), ("user", "two"),
                                 ("model", "dos, 0 seeded")]  # fmt: skip
    # the cut third utterance was sent again as audio, and answered; then the fourth (a new
    # session starts the simulator's script again: which scripted reply is not the point)
    assert len(last.replied_turns) == 2 and last.turns[0].speech_s >= 0.9
    reconnect = obs.of(ev.Reconnect)[-1]
    assert (reconnect.phase, reconnect.seeded) == ("new_session", 4)
    texts = [t.model_text for t in obs.of(ev.TurnEnded) if t.outcome == "spoken"]
    assert texts[-2:] == ["uno, 4 seeded", "dos, 4 seeded"]  # the model had the history
    assert summary.spoken == 4 and summary.reconnects == 1
    record = [json.loads(x) for x in (tmp_path / "t.jsonl").read_text().splitlines()]
    shown = [(x["phase"], x["seeded"]) for x in record if x["type"] == "reconnect"]
    assert shown[-1] == ("new_session", 4) and all(n == 0 for _, n in shown[:-1]), shown


async def test_reseed_keeps_the_newest_turns_within_the_budget(sim_factory, tmp_path) -> None:
    long = "a rather long answer that takes many tokens " * 4
    text = (
        BASE
        + "honour_resumption = false\n"
        + turns(
            f'heard = "one"\nreply = "{long}"',
            'heard = "two"\nreply = "dos"',
            'heard = "three"\nreply = "tres"\nfault = "drop"',
        )
    )
    sim = sim_factory(make_scenario(text, tmp_path))
    wav = tmp_path / "three.wav"
    synth.make_utterances_wav(wav, [(1.0, 1.0)] * 3, rate=16000)
    summary, obs = await run(sim, wav, tmp_path, continue_budget_tokens=30)
    assert sim.sessions[-1].seeded_turns == [("user", "two"), ("model", "dos")]
    assert obs.of(ev.Reconnect)[-1].seeded == 2 and summary.spoken == 3


@pytest.mark.flaky(reruns=2)  # real-time timing: the second utterance must fall in the gap
async def test_speech_during_the_reconnect_is_not_lost(sim_factory, tmp_path) -> None:
    """Real-time input: the second utterance is spoken while the connection is down."""
    scenario = 'voice = "tone"\nlatency_ms = 0\nrealtime = 1\nresume_delay_ms = 800\n'
    scenario += turns(A + '\nduration_s = 2.0\nfault = "drop"', B + "\nduration_s = 0.5")
    sim = sim_factory(make_scenario(scenario, tmp_path))
    wav = tmp_path / "two.wav"
    # the drop comes 1 s into the reply (~2.2 s); the second utterance starts at 2.25 s,
    # while the resume takes at least 0.8 s
    # (the trailing 3.5 s give the server time to answer everything the replay queued)
    synth.make_utterances_wav(wav, [(0.8, 1.25), (1.0, 3.5)], rate=16000, lead_silence_s=0.2)
    summary, obs = await run(sim, wav, tmp_path, fast=False)
    assert [r.phase for r in obs.of(ev.Reconnect)][-1] == "resumed"
    # the user started speaking while the connection was down
    down, up = obs.when(ev.Reconnect, phase="reconnecting"), obs.when(ev.Reconnect, phase="resumed")
    assert down < obs.when(ev.UserSpeechStarted, 1) < up
    # all of the second utterance (1.0 s of speech) reached the new connection, and was
    # answered (which scripted reply the server picks depends on how the replay was cut)
    last = sim.sessions[-1].turns[-1]
    assert last.speech_s >= 0.9 and last.replied


async def test_garbage_frames_are_skipped_and_counted(sim_factory, tmp_path, three) -> None:
    sim = sim_factory(make_scenario(BASE + turns(A, B + '\nfault = "garbage"', C), tmp_path))
    summary, _obs = await run(sim, three, tmp_path)
    assert summary.malformed == 1 and summary.spoken == 3 and summary.reconnects == 0


async def test_setup_never_answered_times_out(sim_factory, tmp_path, three) -> None:
    sim = sim_factory(make_scenario(BASE + 'fault = "no_setup_reply"\n', tmp_path))
    with pytest.raises(SessionTimeout, match="setup"):
        await run(sim, three, tmp_path, setup_timeout=1.0)
    # nothing was written: the targets are left as they were (absent), no partial file stays
    assert not [p for p in tmp_path.iterdir() if p.suffix in (".wav", ".jsonl") and p != three]


async def test_repeated_failures_give_up_with_files_finalized(sim_factory, tmp_path, three) -> None:
    text = BASE + "repeat_faults = true\n" + turns(A + '\nfault = "drop"')
    sim = sim_factory(make_scenario(text, tmp_path))
    with pytest.raises(NetworkError, match="could not reconnect after 2 attempts"):
        await run(sim, three, tmp_path, reconnect_attempts=2)
    import soundfile as sf

    assert sf.info(str(tmp_path / "r.wav")).samplerate == 24000  # header finalized
    lines = (tmp_path / "t.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["type"] == "session_end"


async def test_bad_key_during_resume_stops_with_clear_error(sim_factory, tmp_path, three) -> None:
    sim = sim_factory(make_scenario(BASE + turns(A + '\nfault = "drop"'), tmp_path))

    class RevokeKey:
        def on_event(self, event: object, t: float) -> None:
            if isinstance(event, ev.Reconnect):
                sim.scenario.api_key = "a-different-key"

    req = TalkRequest(input=three, fast=True, observers=[RevokeKey()], with_tools=False)
    with pytest.raises(AuthError, match="1007"):
        await run_talk(settings_for(sim), req)


def test_policy_backoff_is_bounded_with_jitter() -> None:
    p = ReconnectPolicy(max_attempts=4, base_s=0.5, factor=2, max_s=3, jitter=0.2)
    rng = random.Random(1)
    delays = [p.delay(n, rng) for n in range(1, 7)]
    for n, d in enumerate(delays, start=1):
        nominal = min(3, 0.5 * 2 ** (n - 1))
        assert nominal * 0.8 <= d <= nominal * 1.2
    assert not p.gives_up(4) and p.gives_up(5)


def test_which_failures_are_retried() -> None:
    assert is_retryable(map_close(1006, "abnormal"))
    assert is_retryable(map_close(1011, "Internal error encountered."))
    assert not is_retryable(map_close(1007, "API key not valid. Please pass a valid API key."))
    assert not is_retryable(map_close(1008, "models/x is not found"))
    assert not is_retryable(map_close(1007, "Request contains an invalid argument."))
    assert is_unknown_handle(map_close(1007, "Session resumption handle is invalid or expired: h"))
    assert is_unknown_handle(map_close(1008, "Session not found."))  # any close at setup
    assert not is_unknown_handle(map_close(1006, "abnormal"))  # a lost connection is not
    # after setupComplete a 1008 ends the session, not the model: reconnect
    mid = map_close(1008, "Operation is not implemented, or supported, or enabled.", at_setup=False)
    assert is_retryable(mid) and "model" not in mid.one_line()


async def test_a_1008_after_setup_is_a_session_failure_resumed_with_the_handle() -> None:
    """Issue 27: 1008 "Operation is not implemented..." mid-session (audio during a call on
    2.5) is not "model not available": the session resumes with its handle."""
    fake = FakeLive()

    async def no_sleep(_s: float) -> None:
        return None

    transport = ResilientTransport(
        fake.connect, lambda handle: {"handle": handle}, policy=ReconnectPolicy(3), sleep=no_sleep
    )
    closed = map_close(
        1008, "Operation is not implemented, or supported, or enabled.", at_setup=False
    )
    async with transport:
        await transport.send(m.TextIn("hello"))
        fake.push(ev.ResumptionUpdate("h1", True), closed)
        reasons = []
        async for event in transport.events():
            if isinstance(event, ev.Reconnect):
                reasons.append((event.phase, event.reason))
                if event.phase != "reconnecting":
                    break
    assert [p for p, _ in reasons] == ["reconnecting", "resumed"]
    assert "ended the session (1008" in reasons[0][1] and "model" not in reasons[0][1]
    assert fake.configs == [{"handle": None}, {"handle": "h1"}]
