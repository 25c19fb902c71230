"""The simulator's Live protocol, driven through the real google-genai SDK over TLS."""

from __future__ import annotations

import asyncio

import pytest
from google.genai import types

from voicecli.sim import Scenario, SimServer, Turn
from voicecli.sim.testing import (
    chunks,
    collect_turn,
    dominant_frequency,
    sdk_client,
    silence,
    speechlike,
)
from voicecli.sim.voice import TONE_FREQS_HZ

MIME = "audio/pcm;rate=16000"
# trailing silence after an utterance: server turn detection needs >= 800 ms of it
# (fidelity rule 3, voicecli/sim/fidelity.py)
TRAIL = 0.9
NATIVE_25 = "gemini-2.5-flash-native-audio-preview-12-2025"
TRANSCRIBE = types.LiveConnectConfig(
    response_modalities=[types.Modality.AUDIO],
    input_audio_transcription=types.AudioTranscriptionConfig(),
    output_audio_transcription=types.AudioTranscriptionConfig(),
)


def fast(*turns: Turn, **kw: object) -> Scenario:
    kw.setdefault("latency_ms", 30)
    kw.setdefault("realtime", 0)
    return Scenario(voice="tone", turns=list(turns), **kw)  # type: ignore[arg-type]


async def send_audio(session: object, pcm: bytes, pace_s: float = 0.0) -> None:
    for c in chunks(pcm):
        await session.send_realtime_input(audio=types.Blob(data=c, mime_type=MIME))  # type: ignore[attr-defined]
        if pace_s:
            await asyncio.sleep(pace_s)


async def test_multi_turn_audio_conversation() -> None:
    scen = fast(
        Turn(heard="hello there", reply="hi, nice to meet you", duration_s=0.6),
        Turn(heard="how are you", reply="very well thanks", duration_s=0.4),
    )
    async with SimServer(scen) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live", config=TRANSCRIBE) as s:
            results = []
            for _ in range(2):
                # fed far faster than real time: detection runs on the audio, not the clock
                await send_audio(s, speechlike(0.8) + silence(TRAIL))
                results.append(await collect_turn(s))
        rec = sim.last_session
    first, second = results
    assert first.input_text == "hello there"
    assert first.output_text == "hi, nice to meet you"
    assert len(first.audio) == round(0.6 * 24000) * 2
    assert dominant_frequency(first.audio) == pytest.approx(TONE_FREQS_HZ[0], abs=1)
    assert first.generation_complete and first.turn_complete and not first.interrupted
    assert first.usage.response_token_count == 15  # 0.6 s * 25 tokens/s
    assert first.usage.prompt_token_count == 40  # 1.6 s of turn audio * 25 tokens/s
    assert second.output_text == "very well thanks"
    assert len(second.audio) == round(0.4 * 24000) * 2
    assert dominant_frequency(second.audio) == pytest.approx(TONE_FREQS_HZ[1], abs=1)
    assert rec.setup is not None and rec.setup["model"] == "models/gemini-3.8-live"
    assert rec.audio_in_s == pytest.approx(2 * (0.8 + TRAIL))
    assert [t.ended_by for t in rec.turns] == ["silence", "silence"]
    assert all(t.replied for t in rec.turns)
    t0 = rec.turns[0]
    assert t0.start_s == pytest.approx(0.0, abs=0.03)
    assert t0.speech_s == pytest.approx(0.8, abs=0.05)
    assert t0.end_s == pytest.approx(1.6, abs=0.05)  # 0.8 s speech + 800 ms end silence
    assert rec.turns[1].start_s == pytest.approx(0.8 + TRAIL, abs=0.03)
    assert rec.messages["realtime_input.audio"] == 2 * 85
    assert rec.warnings == []


async def test_reply_paced_in_real_time() -> None:
    scen = fast(Turn(reply="paced", duration_s=0.5), realtime=1.0)
    async with SimServer(scen) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live") as s:
            await send_audio(s, speechlike(0.5) + silence(TRAIL))
            loop = asyncio.get_running_loop()
            times: list[float] = []

            def stamp(m: types.LiveServerMessage) -> None:
                if m.data:
                    times.append(loop.time())

            r = await collect_turn(s, stamp)
    assert len(r.audio) == 24000  # 0.5 s
    # chunks of 80 ms arrive spread over about 0.5 s minus one chunk
    assert 0.35 <= times[-1] - times[0] <= 0.7
    assert len(times) == 7


async def test_transcriptions_only_when_requested() -> None:
    async with SimServer(fast(Turn(heard="x", reply="y", duration_s=0.2))) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live") as s:
            await send_audio(s, speechlike(0.5) + silence(TRAIL))
            r = await collect_turn(s)
    assert r.audio and r.input_text == "" and r.output_text == ""


async def test_audio_stream_end_honoured_by_25_native_audio() -> None:
    async with SimServer(fast(Turn(reply="ok", duration_s=0.2))) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model=NATIVE_25, config=TRANSCRIBE) as s:
            await send_audio(s, speechlike(0.7))  # no trailing silence at all
            await s.send_realtime_input(audio_stream_end=True)
            r = await collect_turn(s)
        rec = sim.last_session
    assert r.turn_complete and r.input_text == "(speech 0.7 s)"
    assert rec.turns[0].ended_by == "stream_end"
    assert rec.audio_stream_end == 1


async def test_audio_stream_end_ignored_by_38_live() -> None:
    async with SimServer(fast(Turn(reply="ok", duration_s=0.2))) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live", config=TRANSCRIBE) as s:
            await send_audio(s, speechlike(0.7))
            await s.send_realtime_input(audio_stream_end=True)
            await sim.wait_for(lambda: sim.last_session.audio_stream_end == 1)
            await asyncio.sleep(0.3)
            assert sim.last_session.turns == []  # still waiting for trailing audio
            await send_audio(s, silence(0.5))
            await asyncio.sleep(0.2)
            assert sim.last_session.turns == []  # 500 ms of trailing audio: not enough
            await send_audio(s, silence(0.3))
            r = await collect_turn(s)
        rec = sim.last_session
    assert r.turn_complete
    assert rec.turns[0].ended_by == "silence"
    assert any("audioStreamEnd ignored" in w for w in rec.warnings)


async def test_manual_activity_bounds_turns() -> None:
    cfg = types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        realtime_input_config=types.RealtimeInputConfig(
            automatic_activity_detection=types.AutomaticActivityDetection(disabled=True)
        ),
    )
    async with SimServer(fast(Turn(heard="manual", reply="got it", duration_s=0.3))) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live", config=cfg) as s:
            await send_audio(s, speechlike(0.4) + silence(0.5))  # no activity: not a turn
            await s.send_realtime_input(activity_start=types.ActivityStart())
            await send_audio(s, speechlike(0.6))  # no trailing silence needed
            await s.send_realtime_input(activity_end=types.ActivityEnd())
            r = await collect_turn(s)
        rec = sim.last_session
    assert len(r.audio) == round(0.3 * 24000) * 2
    assert rec.activity_start == rec.activity_end == 1
    assert len(rec.turns) == 1
    turn = rec.turns[0]
    assert (turn.source, turn.ended_by) == ("manual", "activity_end")
    assert turn.speech_s == pytest.approx(0.6)
    assert turn.start_s == pytest.approx(0.9)


async def test_text_input_and_client_content() -> None:
    scen = fast(default_reply="You said: {heard}")
    async with SimServer(scen) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live", config=TRANSCRIBE) as s:
            await s.send_realtime_input(text="what time is it")
            r1 = await collect_turn(s)
            await s.send_client_content(
                turns=types.Content(role="user", parts=[types.Part(text="tell me a joke")]),
                turn_complete=True,
            )
            r2 = await collect_turn(s)
        rec = sim.last_session
    assert r1.output_text == "You said: what time is it"
    assert r1.input_text == ""  # typed input is not transcribed
    assert r2.output_text == "You said: tell me a joke"
    assert dominant_frequency(r2.audio) == pytest.approx(TONE_FREQS_HZ[1], abs=1)
    assert rec.texts == ["what time is it", "tell me a joke"]
    assert [t.source for t in rec.turns] == ["text", "client_content"]
    assert r1.usage.prompt_token_count == len("what time is it") // 4 + 1


async def _barge_in(scen: Scenario, config: object = None) -> tuple[object, object, object]:
    """Talk over the first reply; returns (what receive() gave up to its turnComplete, the
    next turn, the session record)."""
    async with SimServer(scen) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live", config=config) as s:
            await send_audio(s, speechlike(0.5) + silence(TRAIL))
            sent: list[asyncio.Task[None]] = []

            def on_message(m: types.LiveServerMessage) -> None:
                if m.data and not sent:  # the reply is playing: talk over it
                    sent.append(
                        asyncio.create_task(send_audio(s, speechlike(0.5) + silence(TRAIL)))
                    )

            r = await collect_turn(s, on_message)
            # with a turnComplete after interrupted, the next reply is the next turn
            closes = getattr(scen, "turn_complete_after_interrupt", True)
            r2 = await collect_turn(s) if closes else r
            await sent[0]
        return r, r2, sim.last_session


CUT = (
    Turn(reply="a long answer that gets cut off", duration_s=3.0),
    Turn(reply="short", duration_s=0.3),
)


async def test_barge_in_interrupts_reply() -> None:
    # fidelity rule 12: interrupted, then two more chunks of the cut reply (already on their
    # way, with their transcript), then a turnComplete that closes it; then the next reply
    r, r2, rec = await _barge_in(fast(*CUT, realtime=1.0), TRANSCRIBE)
    assert r.interrupted and r.turn_complete and not r.generation_complete
    assert len(r.audio) < 24000 * 2  # well under the 3 s it would have been
    assert dominant_frequency(r.audio) == pytest.approx(TONE_FREQS_HZ[0], abs=2)
    assert len(r.audio_after_interrupt) == 2 * round(0.08 * 24000) * 2
    assert dominant_frequency(r.audio_after_interrupt) == pytest.approx(TONE_FREQS_HZ[0], abs=2)
    kinds = [
        "interrupted"
        if m.server_content.interrupted
        else "turn_complete"
        if m.server_content.turn_complete
        else "other"
        for m in r.messages
        if m.server_content
    ]
    # two audio chunks and one transcription between interrupted and turnComplete
    assert kinds[kinds.index("interrupted") + 1 :] == ["other"] * 3 + ["turn_complete"]
    assert rec.turns[0].late_text and rec.turns[0].late_text.strip() in r.output_text
    assert not r2.interrupted and r2.output_text == "short"
    assert len(r2.audio) == round(0.3 * 24000) * 2
    assert dominant_frequency(r2.audio) == pytest.approx(TONE_FREQS_HZ[1], abs=1)
    assert rec.interruptions == 1
    assert [t.interrupted for t in rec.turns] == [True, False]
    assert [t.replied for t in rec.turns] == [False, True]
    assert 0 < rec.turns[0].reply_audio_s < 1.0
    assert rec.turns[0].late_audio_s == pytest.approx(0.16)


async def test_barge_in_with_nothing_after_interrupted() -> None:
    # the other reading of rule 12: nothing follows interrupted (the next reply does)
    scen = fast(*CUT, realtime=1.0, late_chunks=0, turn_complete_after_interrupt=False)
    r, _, rec = await _barge_in(scen)
    assert r.interrupted
    assert len(r.audio_after_interrupt) == round(0.3 * 24000) * 2
    assert dominant_frequency(r.audio_after_interrupt) == pytest.approx(TONE_FREQS_HZ[1], abs=1)
    assert rec.sent["serverContent.turnComplete"] == 1 and rec.turns[0].late_audio_s == 0


async def test_no_interruption_activity_handling() -> None:
    scen = fast(
        Turn(reply="first", duration_s=0.8), Turn(reply="second", duration_s=0.2), realtime=1.0
    )
    cfg = types.LiveConnectConfig(
        realtime_input_config=types.RealtimeInputConfig(
            activity_handling=types.ActivityHandling.NO_INTERRUPTION
        )
    )
    async with SimServer(scen) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live", config=cfg) as s:
            await send_audio(s, speechlike(0.5) + silence(TRAIL))
            sent: list[asyncio.Task[None]] = []

            def on_message(m: types.LiveServerMessage) -> None:
                if m.data and not sent:
                    sent.append(
                        asyncio.create_task(send_audio(s, speechlike(0.5) + silence(TRAIL)))
                    )

            r1 = await collect_turn(s, on_message)
            r2 = await collect_turn(s)
    assert not r1.interrupted and len(r1.audio) == round(0.8 * 24000) * 2
    assert len(r2.audio) == round(0.2 * 24000) * 2


async def test_silent_turn_waits_for_input() -> None:
    scen = fast(Turn(heard="mm-hm", silent=True), Turn(reply="now I answer", duration_s=0.2))
    async with SimServer(scen) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live", config=TRANSCRIBE) as s:
            await send_audio(s, speechlike(0.4) + silence(TRAIL))
            r1 = await collect_turn(s)
            await send_audio(s, speechlike(0.4) + silence(TRAIL))
            r2 = await collect_turn(s)
        rec = sim.last_session
    assert r1.input_text == "mm-hm" and r1.audio == b"" and r1.turn_complete
    assert r1.waiting_for_input is True
    assert r1.turn_complete_reason == types.TurnCompleteReason.NEED_MORE_INPUT
    assert r2.output_text == "now I answer"
    assert rec.turns[0].silent and rec.turns[0].replied


async def test_wrong_rate_and_legacy_media_chunks_are_recorded() -> None:
    async with SimServer(fast(Turn(reply="ok", duration_s=0.2))) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live") as s:
            pcm = speechlike(0.5, rate=24000) + silence(TRAIL, rate=24000)
            for c in chunks(pcm, rate=24000):
                await s.send_realtime_input(
                    audio=types.Blob(data=c, mime_type="audio/pcm;rate=24000")
                )
            r = await collect_turn(s)
            await s.send_realtime_input(media=types.Blob(data=silence(0.1), mime_type="audio/pcm"))
            await sim.wait_for(lambda: sim.last_session.audio_mimes["audio/pcm"] == 1)
        rec = sim.last_session
    assert r.turn_complete
    assert rec.turns[0].speech_s == pytest.approx(0.5, abs=0.05)
    assert rec.audio_in_s == pytest.approx(0.5 + TRAIL + 0.1)
    assert any("24000 Hz" in w for w in rec.warnings)
    assert any("no rate" in w for w in rec.warnings)
    assert any("mediaChunks" in w for w in rec.warnings)


async def test_sync_thread_variant_and_env() -> None:
    sim = SimServer(fast(Turn(reply="threaded", duration_s=0.2))).start_in_thread()
    try:
        assert sim.env()["GOOGLE_GEMINI_BASE_URL"] == sim.base_url
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live") as s:
            await s.send_realtime_input(text="hi")
            r = await collect_turn(s)
        assert len(r.audio) == round(0.2 * 24000) * 2
    finally:
        sim.stop_thread()
