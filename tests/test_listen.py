"""Issue 6: co-listening. The simulator replies to some turns and declines others (proactive
audio) through the real SDK; silent-by-choice turns are counted apart from spoken ones and from
errors; a recording can be followed by a conversation about it in the same session."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from conftest import make_scenario

from voicecli.audio import synth
from voicecli.audio.chain import ChainedSource, HoldSource, PlayAlong, SpeakerFeed
from voicecli.audio.files import FileSource
from voicecli.config import Settings
from voicecli.live import capabilities
from voicecli.live import events as ev
from voicecli.live.conversation import Conversation, Options
from voicecli.live.fake import FakeLive
from voicecli.session.engine import TalkRequest, make_detector_for, make_gate
from voicecli.session.listen import (
    SWITCH_NOTICE,
    file_source,
    instructions,
    listen_settings,
    run_listen,
)

LISTEN_SCENARIO = """
voice = "tone"
latency_ms = 50
realtime = 0
[[turns]]
heard = "how was your weekend"
silent = true
[[turns]]
heard = "we made fresh pasta"
reply = "Salt the water well."
duration_s = 0.6
[[turns]]
heard = "did you see the game"
silent = true
[[turns]]
heard = "gemini, any sauce ideas"
reply = "Try cacio e pepe."
duration_s = 0.5
"""


def settings_for(sim: Any, **kw: Any) -> Settings:
    return Settings(base_url=sim.base_url, ca_file=str(sim.ca_path), api_key="test-key", **kw)


class Events:
    """An observer that keeps every event."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, Any]] = []

    def on_event(self, event: Any, t: float) -> None:
        self.seen.append((t, event))

    def of(self, kind: type) -> list[Any]:
        return [e for _, e in self.seen if isinstance(e, kind)]


def wav(path: Path, pattern: list[tuple[float, float]]) -> Path:
    synth.make_utterances_wav(path, pattern, rate=16000)
    return path


# ------------------------------------------------------------------ instructions, settings
def test_instructions_name_the_topics_and_ask_for_silence() -> None:
    text = instructions(["Italian cooking", " wine ", ""])
    assert "Italian cooking; wine." in text
    assert "Stay silent by default" in text and "speaks to you directly" in text
    assert "recording has ended" not in text
    assert "recording has ended" in instructions([], then_talk=True)
    assert "topics" not in instructions([])  # without topics: only when spoken to


def test_listen_settings_force_proactive_audio_and_a_long_hangover() -> None:
    s = listen_settings(Settings(proactive=None, hangover_ms=250, listen_hangover_ms=900))
    assert s.proactive is True and s.hangover_ms == 900
    caps = capabilities.lookup("gemini-3.8-live", "developer")
    assert make_gate(s, caps).params.hangover_ms == 900


# ------------------------------------------------------------------ end to end, real SDK
async def test_replies_to_some_turns_and_declines_others(sim_factory, tmp_path) -> None:
    sim = sim_factory(make_scenario(LISTEN_SCENARIO, tmp_path))
    settings = settings_for(sim, system="Keep it short.")
    podcast = wav(tmp_path / "podcast.wav", [(1.0, 1.2), (1.2, 1.2), (1.0, 1.2), (0.8, 1.0)])
    seen = Events()
    req = TalkRequest(
        source=file_source(settings, podcast, fast=True),
        fast=True,
        transcript=tmp_path / "t.jsonl",
        observers=[seen],
    )
    summary = await run_listen(settings, ["Italian cooking", "wine"], req)

    assert (summary.turns, summary.spoken, summary.silent) == (4, 2, 2)
    assert (summary.interrupted, summary.unanswered) == (0, 0)
    ended = seen.of(ev.TurnEnded)
    assert [e.outcome for e in ended] == ["silent", "spoken", "silent", "spoken"]
    assert ended[0].reason == "NEED_MORE_INPUT" and ended[0].latency_s is None
    assert ended[1].model_text == "Salt the water well." and ended[1].latency_s is not None
    records = [json.loads(x) for x in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert [r["outcome"] for r in records if r["type"] == "turn"][:2] == ["silent", "spoken"]
    assert records[-1]["type"] == "session_end" and records[-1]["silent"] == 2

    # the setup: proactive audio on, the topics and the silence rule, after the user's text
    setup = sim.last_session.setup
    assert setup["proactivity"] == {"proactive_audio": True}
    text = setup["systemInstruction"]["parts"][0]["text"]
    assert text.startswith("Keep it short.")
    assert "Italian cooking; wine" in text and "Stay silent by default" in text
    # the long hangover: the pauses of the conversation are streamed (1.0 s of each 1.2 s)
    assert summary.seconds_sent > 0.85 * summary.seconds_in


async def test_near_silent_reply_counts_as_silent(sim_factory, tmp_path) -> None:
    scenario = make_scenario(
        'voice = "tone"\nlatency_ms = 50\nrealtime = 0\n'
        '[[turns]]\nheard = "room noise"\nreply = "mm"\nduration_s = 0.6\nlevel_dbfs = -65\n'
        '[[turns]]\nheard = "gemini?"\nreply = "Yes?"\nduration_s = 0.5\nlevel_dbfs = -30\n',
        tmp_path,
    )
    sim = sim_factory(scenario)
    settings = settings_for(sim)
    seen = Events()
    req = TalkRequest(
        source=file_source(settings, wav(tmp_path / "in.wav", [(1.0, 1.8), (1.0, 1.0)]), fast=True),
        fast=True,
        output=tmp_path / "out.wav",
        observers=[seen],
    )
    summary = await run_listen(settings, [], req)
    assert (summary.spoken, summary.silent) == (1, 1)
    quiet, loud = seen.of(ev.TurnEnded)
    assert quiet.outcome == "silent" and quiet.audio_s == pytest.approx(0.6, abs=0.01)
    assert quiet.latency_s is None  # no answer, so no answer latency
    assert loud.outcome == "spoken"
    assert summary.latencies_s == [pytest.approx(loud.latency_s, abs=0.001)]
    out, rate = sf.read(tmp_path / "out.wav")
    assert len(out) / rate == pytest.approx(1.1, abs=0.01)  # the near-silent audio is kept


async def test_then_talk_in_the_same_session(sim_factory, tmp_path) -> None:
    scenario = make_scenario(
        'voice = "tone"\nlatency_ms = 50\nrealtime = 0\n'
        '[[turns]]\nheard = "podcast part one"\nsilent = true\n'
        '[[turns]]\nheard = "podcast part two"\nsilent = true\n'
        '[[turns]]\nheard = "what was that about"\nreply = "Pasta, mostly."\nduration_s = 0.5\n',
        tmp_path,
    )
    sim = sim_factory(scenario)
    settings = settings_for(sim)
    podcast = wav(tmp_path / "podcast.wav", [(1.0, 1.8), (1.0, 0.3)])  # ends soon after speech
    mic = FileSource(wav(tmp_path / "question.wav", [(0.8, 1.0)]), realtime=False)  # the mic
    seen = Events()
    source = file_source(settings, podcast, fast=True, then=mic)
    assert isinstance(source, ChainedSource)
    req = TalkRequest(source=source, fast=True, observers=[seen])
    summary = await run_listen(settings, ["cooking"], req)

    assert len(sim.sessions) == 1  # one connection: the model heard the podcast
    assert (summary.spoken, summary.silent, summary.utterances) == (1, 2, 3)
    order = [
        e.text if isinstance(e, ev.Notice) else e.outcome
        for _, e in seen.seen
        if isinstance(e, ev.TurnEnded) or (isinstance(e, ev.Notice) and "recording" in e.text)
    ]
    assert order == ["silent", "silent", SWITCH_NOTICE, "spoken"]
    assert "recording has ended" in sim.last_session.setup["systemInstruction"]["parts"][0]["text"]


async def test_then_talk_typed_after_the_recording(sim_factory, tmp_path) -> None:
    scenario = make_scenario(
        'voice = "tone"\nlatency_ms = 50\nrealtime = 0\n'
        '[[turns]]\nheard = "podcast"\nsilent = true\n'
        '[[turns]]\nreply = "It was about pasta."\nduration_s = 0.5\n',
        tmp_path,
    )
    sim = sim_factory(scenario)
    settings = settings_for(sim)
    started: list[Conversation] = []

    def type_question() -> None:  # what the prompt does when the recording is over
        conv = started[0]

        async def ask() -> None:
            await conv.send_text("what was it about?")
            hold.release()  # end of typed input

        asyncio.get_running_loop().create_task(ask())

    hold = HoldSource(on_hold=type_question)
    podcast = wav(tmp_path / "podcast.wav", [(1.0, 1.0)])
    req = TalkRequest(
        source=file_source(settings, podcast, fast=True, then=hold),
        fast=True,
        on_start=started.append,
    )
    summary = await run_listen(settings, [], req)
    assert (summary.spoken, summary.silent) == (1, 1)
    assert sim.last_session.turns[-1].text == "what was it about?"
    assert len(sim.sessions) == 1


# ------------------------------------------------------------------ no reply at all
@pytest.mark.parametrize("fast", [True, False])
async def test_no_reply_within_the_wait_is_a_silent_turn(tmp_path, fast: bool) -> None:
    settings = Settings()
    caps = capabilities.lookup(settings.model, "developer")
    seen = Events()
    conv = Conversation(
        FakeLive(),  # a server that never answers (no SDK involved)
        FileSource(wav(tmp_path / "in.wav", [(0.6, 1.2), (0.6, 0.6)]), realtime=not fast),
        make_detector_for(settings),
        make_gate(settings, caps),
        observers=[seen],
        options=Options(fast=fast, reply_wait_s=0.4, timeout_s=5),
    )
    summary = await conv.run()  # no error, no timeout
    assert (summary.turns, summary.silent, summary.unanswered) == (2, 2, 2)
    assert [e.reason for e in seen.of(ev.TurnEnded)] == ["NO_REPLY", "NO_REPLY"]
    # the first silence is shown before the next utterance starts
    kinds = [type(e).__name__ for _, e in seen.seen]
    second_start = kinds.index("UserSpeechStarted", kinds.index("UserSpeechStarted") + 1)
    assert kinds.index("TurnEnded") < second_start


# ------------------------------------------------------------------ sources
async def test_chained_source_gap_and_switch(tmp_path) -> None:
    a = FileSource(wav(tmp_path / "a.wav", [(0.2, 0.0)]), realtime=False)
    b = FileSource(wav(tmp_path / "b.wav", [(0.2, 0.0)]), realtime=False)
    parts: list[int] = []
    chain = ChainedSource(a, b, gap_ms=100, realtime=False, on_next=parts.append)
    frames = [f async for f in chain.frames()]
    n_a = len([f async for f in a.frames()])
    assert len(frames) == n_a + 5 + len([f async for f in b.frames()])
    assert frames[n_a : n_a + 5] == [bytes(640)] * 5 and parts == [1]
    await chain.aclose()
    with pytest.raises(ValueError):
        ChainedSource(a, FileSource(tmp_path / "a.wav", frame_ms=10))


async def test_hold_source_and_play_along(tmp_path) -> None:
    hold = HoldSource()
    task = asyncio.create_task(anext(aiter(hold.frames()), None))
    await asyncio.sleep(0.05)
    assert not task.done()
    hold.release()
    assert await task is None

    class Sink:
        def __init__(self) -> None:
            self.data = b""
            self.ended = False

        def write(self, pcm: bytes) -> None:
            self.data += pcm

        def flush(self) -> None:
            self.ended = True

    sink = Sink()
    src = FileSource(wav(tmp_path / "a.wav", [(0.5, 0.5)]), realtime=False)
    frames = [f async for f in PlayAlong(src, SpeakerFeed(sink)).frames()]
    assert sink.ended  # played at 24 kHz: 1.5 x the 16 kHz bytes
    assert len(sink.data) == pytest.approx(len(b"".join(frames)) * 1.5, abs=200)
