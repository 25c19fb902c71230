"""The conversation on the in-memory fake transport (no SDK, no sockets): the sink contract
(flush at the end of a turn, clear on barge-in), the typed journal replayed after a
reconnect, and the connect seam of TalkRequest. End-to-end runs are in test_talk_e2e.py."""

from __future__ import annotations

from pathlib import Path

from voicecli.audio import synth
from voicecli.audio.files import FileSource
from voicecli.config import Settings
from voicecli.errors import NetworkError
from voicecli.live import capabilities
from voicecli.live import events as ev
from voicecli.live import messages as m
from voicecli.live.conversation import Conversation, Options
from voicecli.live.fake import FakeLive, answer_each_utterance
from voicecli.live.reconnect import ReconnectPolicy
from voicecli.live.resilient import ResilientTransport
from voicecli.session.engine import TalkRequest, make_detector_for, make_gate, run_talk

MODEL = "gemini-2.5-flash-native-audio-preview-12-2025"  # honours audioStreamEnd
REPLY = ev.AudioChunk(synth.tone(440, 0.2, 24000).tobytes())  # 0.2 s at 24 kHz


class Sink:
    """Records the sink contract's calls in order."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def write(self, pcm: bytes) -> None:
        self.calls.append("write")

    def flush(self) -> None:
        self.calls.append("flush")

    def clear(self) -> None:
        self.calls.append("clear")

    def close(self) -> None:
        self.calls.append("close")

    @property
    def played_s(self) -> float:
        return 0.0


def utterance(tmp_path: Path) -> Path:
    path = tmp_path / "in.wav"
    synth.make_utterances_wav(path, [(0.6, 0.8)], rate=16000)
    return path


def conversation(tmp_path: Path, fake: FakeLive, sink: Sink) -> Conversation:
    settings = Settings(model=MODEL)
    caps = capabilities.lookup(MODEL, "developer")
    return Conversation(
        fake,
        FileSource(utterance(tmp_path), realtime=False),
        make_detector_for(settings),
        make_gate(settings, caps),
        sinks=[sink],
        options=Options(fast=True, reply_wait_s=0.5, timeout_s=5),
    )


async def test_the_end_of_a_turn_flushes_the_sinks(tmp_path: Path) -> None:
    fake = FakeLive(answer_each_utterance(REPLY, ev.OutputTranscript("hello")))
    sink = Sink()
    summary = await conversation(tmp_path, fake, sink).run()
    assert (summary.turns, summary.spoken) == (1, 1)
    assert sink.calls[0] == "write" and "flush" in sink.calls
    assert sink.calls.index("flush") > max(i for i, c in enumerate(sink.calls) if c == "write")
    # client-driven turns: one activityStart/activityEnd pair, no audioStreamEnd
    assert fake.of(m.AudioIn) and len(fake.of(m.ActivityEnd)) == 1 and not fake.of(m.StreamEnd)
    assert 0.6 <= fake.audio_s <= 1.4


async def test_barge_in_clears_then_flushes(tmp_path: Path) -> None:
    fake = FakeLive(answer_each_utterance(REPLY, ev.Interrupted()))
    sink = Sink()
    summary = await conversation(tmp_path, fake, sink).run()
    assert summary.interrupted == 1
    assert sink.calls.index("clear") > sink.calls.index("write")
    assert "flush" in sink.calls[sink.calls.index("clear") :]


async def test_the_journal_is_sent_again_after_a_reconnect() -> None:
    fake = FakeLive()

    async def no_sleep(_s: float) -> None:
        return None

    transport = ResilientTransport(
        fake.connect, lambda handle: {"handle": handle}, policy=ReconnectPolicy(3), sleep=no_sleep
    )
    async with transport:
        await transport.send(m.AudioIn(bytes(640)))
        await transport.send(m.TextIn("still there?"))
        fake.push(ev.ResumptionUpdate("h1", True), NetworkError("the connection dropped"))
        phases = []
        async for event in transport.events():
            if isinstance(event, ev.Reconnect):
                phases.append(event.phase)
                if event.phase != "reconnecting":
                    break
    assert phases == ["reconnecting", "resumed"]
    assert fake.configs == [{"handle": None}, {"handle": "h1"}]
    # not answered before the drop: both sent again, in order, to the new connection
    assert fake.sent == [m.AudioIn(bytes(640)), m.TextIn("still there?")] * 2
    assert transport.reconnects == 1


async def test_talk_request_takes_a_connect_factory(tmp_path: Path) -> None:
    fake = FakeLive(answer_each_utterance(REPLY, ev.OutputTranscript("hi")))
    settings = Settings(model=MODEL, api_key="unused")
    req = TalkRequest(input=utterance(tmp_path), fast=True, connect=fake.connect, reply_wait_s=0.5)
    summary = await run_talk(settings, req)
    assert summary.spoken == 1 and len(fake.configs) == 1


def test_a_short_burst_while_the_model_speaks_is_no_barge_in(tmp_path: Path) -> None:
    """Leftover echo comes in bursts of 60-100 ms while the canceller re-adapts: while the
    model speaks, speech opens the gate only after barge_in_ms (160 ms with the onset)."""
    conv = conversation(tmp_path, FakeLive(), Sink())
    loud = synth.tone(300, 0.02, 16000).tobytes()  # ~-3 dBFS
    quiet = (synth.tone(300, 0.02, 16000) // 300).tobytes()  # ~-53 dBFS

    def opens(frames: list[bytes]) -> int | None:
        """The frame (1-based) at which the gate would open: its onset is 3 speech frames."""
        from voicecli.audio.format import dbfs
        from voicecli.live.turn_policy import TurnPolicy

        params, run = conv.gate.params, 0
        policy = TurnPolicy(barge_in_ms=conv.opt.barge_in_ms, onset_ms=params.onset_ms)
        for i, f in enumerate(frames, 1):
            loud = dbfs(f) >= conv.opt.barge_in_dbfs
            speech, _ = policy.barge_in(True, True, loud, True, i * 0.02)
            run = run + 1 if speech else 0
            if run == conv.gate.params.frames(conv.gate.params.onset_ms):
                return i
        return None

    assert opens([loud] * 5 + [quiet] + [loud] * 5) is None  # two 100 ms bursts
    assert opens([loud] * 8) == 8  # 160 ms of speech interrupts
    # loud for 120 ms, then the word fades: still a barge-in (it used to wait for the next word)
    assert opens([loud] * 6 + [quiet] * 2) == 8
    assert opens([loud] * 5 + [quiet] * 3) is None  # loud for too short a time
    assert opens([quiet] * 20) is None  # too quiet: the echo canceller's leftover


async def test_unstamped_events_are_taken_at_the_time_they_are_handled(tmp_path: Path) -> None:
    """Issue 27: one clock for ``t`` (monotonic), and no 0.0 sentinel: a TurnComplete made
    without a time gave a TurnEnded at t = -374.6 s."""
    import time

    class Times:
        def __init__(self) -> None:
            self.seen: list[tuple[object, float]] = []

        def on_event(self, event: object, t: float) -> None:
            self.seen.append((event, t))

    assert ev.TurnComplete().t is None  # unstamped, not 0.0
    fake = FakeLive(answer_each_utterance(REPLY))  # its TurnComplete carries no time
    times = Times()
    conv = conversation(tmp_path, fake, Sink())
    conv.observers.append(times)
    start = time.monotonic()
    summary = await conv.run()
    assert summary.spoken == 1
    ended = [(e, t) for e, t in times.seen if isinstance(e, ev.TurnEnded)]
    (turn, t) = ended[0]
    assert 0.0 <= t <= summary.duration_s  # seconds since the session start
    assert turn.t is not None and start <= turn.t <= time.monotonic()  # the same clock
    local = [e for e, _ in times.seen if isinstance(e, ev.UserSpeechStarted | ev.UserSpeechEnded)]
    assert local and all(e.t is not None and e.t >= start for e in local)
