"""Setup validation, close codes, goAway, resumption and injected faults."""

from __future__ import annotations

import asyncio

import pytest
from google.genai import errors, types

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


def fast(*turns: Turn, **kw: object) -> Scenario:
    kw.setdefault("latency_ms", 30)
    kw.setdefault("realtime", 0)
    return Scenario(voice="tone", turns=list(turns), **kw)  # type: ignore[arg-type]


async def talk(session: object, seconds: float = 0.4) -> None:
    for c in chunks(speechlike(seconds) + silence(0.9)):  # >= 800 ms trailing (fidelity rule 3)
        await session.send_realtime_input(audio=types.Blob(data=c, mime_type=MIME))  # type: ignore[attr-defined]


async def connect_error(
    sim: SimServer, model: str = "gemini-3.8-live", key: str = "test-key", config: object = None
) -> errors.APIError:
    client = sdk_client(sim.base_url, sim.ca_path, api_key=key)
    with pytest.raises(errors.APIError) as info:
        async with client.aio.live.connect(model=model, config=config) as s:
            await collect_turn(s)
    return info.value


async def test_bad_key_closes_1007() -> None:
    async with SimServer(fast(), api_key="right-key") as sim:
        err = await connect_error(sim, key="wrong-key")
        assert sim.last_session.api_key == "wrong-key"
        ok = sdk_client(sim.base_url, sim.ca_path, api_key="right-key")
        async with ok.aio.live.connect(model="gemini-3.8-live") as s:
            await s.send_realtime_input(text="hi")
            assert (await collect_turn(s)).turn_complete
    assert err.code == 1007
    assert err.details == "API key not valid. Please pass a valid API key."


async def test_unknown_model_closes_1008() -> None:
    async with SimServer(fast()) as sim:
        err = await connect_error(sim, model="gemini-9.9-imaginary")
        tts = await connect_error(sim, model="gemini-3.8-flash-tts")
    assert err.code == 1008
    assert err.details == (
        "models/gemini-9.9-imaginary is not found for API version v1beta, "
        "or is not supported for bidiGenerateContent"
    )
    assert tts.code == 1008


@pytest.mark.parametrize(
    ("model", "config", "needle"),
    [
        ("gemini-3.8-live", {"proactivity": {"proactive_audio": False}}, "proactive_audio"),
        ("gemini-3.8-live", {"enable_affective_dialog": True}, "affective"),
        ("gemini-3.8-live", {"thinking_config": {"thinking_budget": 100}}, "thinking_config"),
        (
            "gemini-3.1-flash-live-preview",
            {"proactivity": {"proactive_audio": True}},
            "proactivity",
        ),
        ("gemini-3.8-live", {"response_modalities": ["TEXT"]}, "AUDIO"),
    ],
)
async def test_unsupported_features_close_1007(model: str, config: dict, needle: str) -> None:
    async with SimServer(fast()) as sim:
        err = await connect_error(sim, model=model, config=types.LiveConnectConfig(**config))
    assert err.code == 1007
    assert needle in err.details
    assert len(err.details.encode()) <= 123


async def test_supported_features_accepted() -> None:
    cfg = types.LiveConnectConfig(
        proactivity=types.ProactivityConfig(proactive_audio=True),
        enable_affective_dialog=True,
        thinking_config=types.ThinkingConfig(thinking_budget=512),
    )
    async with SimServer(fast(Turn(reply="ok", duration_s=0.1))) as sim:
        client = sdk_client(sim.base_url, sim.ca_path, api_version="v1alpha")
        async with client.aio.live.connect(
            model="gemini-2.5-flash-native-audio-preview-12-2025", config=cfg
        ) as s:
            await s.send_realtime_input(text="hi")
            assert (await collect_turn(s)).turn_complete
        rec = sim.last_session
    assert rec.api_version == "v1alpha"
    assert rec.setup is not None
    assert rec.setup["generationConfig"]["enableAffectiveDialog"] is True


async def test_goaway_then_deadline_close() -> None:
    async with SimServer(fast(goaway_after_s=0.2, goaway_time_left_s=0.3)) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live") as s:
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            msgs = []
            with pytest.raises(errors.APIError) as info:
                async for m in s.receive():
                    msgs.append((loop.time() - t0, m))
    ((t_goaway, goaway),) = msgs
    assert goaway.go_away.time_left == "0.300s"
    assert 0.15 <= t_goaway <= 0.5
    assert info.value.code == 1011 and info.value.details == "Deadline expired"


async def test_goaway_fault_during_turn() -> None:
    scen = fast(Turn(reply="bye soon", duration_s=0.2, fault="goaway"), goaway_time_left_s=0.2)
    async with SimServer(scen) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live") as s:
            await s.send_realtime_input(text="hi")
            r = await collect_turn(s)
            with pytest.raises(errors.APIError) as info:
                await collect_turn(s)
    assert r.go_away is not None and r.go_away.time_left == "0.200s"
    assert r.turn_complete
    assert info.value.code == 1011


async def test_resumption_continues_conversation() -> None:
    scen = fast(
        Turn(heard="one", reply="first", duration_s=0.2),
        Turn(heard="two", reply="second", duration_s=0.2),
    )
    cfg = types.LiveConnectConfig(
        session_resumption=types.SessionResumptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
    )
    async with SimServer(scen) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live", config=cfg) as s:
            await talk(s)
            r1 = await collect_turn(s)
            # the update after turnComplete belongs to the next receive(); read it
            msg = await s._receive()
            r1.handles.append(msg.session_resumption_update.new_handle)
        handle = r1.handles[-1]
        cfg2 = cfg.model_copy(
            update={"session_resumption": types.SessionResumptionConfig(handle=handle)}
        )
        async with client.aio.live.connect(model="gemini-3.8-live", config=cfg2) as s:
            await talk(s)
            r2 = await collect_turn(s)
        first, second = sim.sessions
    assert r1.output_text == "first" and len(r1.handles) == 2  # one at setup, one after turn
    assert r2.output_text == "second"
    assert dominant_frequency(r2.audio) == pytest.approx(TONE_FREQS_HZ[1], abs=1)
    assert second.resumed_from == handle
    assert first.handles_issued[-1] == handle
    assert sim.conversations.used == [handle]


@pytest.mark.parametrize("code", [None, 1007])
async def test_unknown_resumption_handle_is_refused_at_setup(code: int | None) -> None:
    """Fidelity rule 10: refused at setup; the real close code is not documented (1008 by
    default, the scenario's refused_handle_code otherwise)."""
    cfg = types.LiveConnectConfig(session_resumption=types.SessionResumptionConfig(handle="nope"))
    scen = fast() if code is None else fast(refused_handle_code=code)
    async with SimServer(scen) as sim:
        err = await connect_error(sim, config=cfg)
    assert err.code == (code or 1008) and "Session not found" in err.details


@pytest.mark.parametrize(
    ("fault", "code"), [("close_1011", 1011), ("drop", 1006), ("close_1007", 1007)]
)
async def test_turn_faults_close(fault: str, code: int) -> None:
    async with SimServer(fast(Turn(reply="doomed", duration_s=0.5, fault=fault))) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live") as s:
            await s.send_realtime_input(text="hi")
            with pytest.raises(errors.APIError) as info:
                await collect_turn(s)
        await sim.wait_for(lambda: sim.last_session.closed)
    assert info.value.code == code
    assert sim.last_session.close_code == code


async def test_garbage_frame_fails_sdk_parse() -> None:
    async with SimServer(fast(Turn(reply="x", duration_s=0.5, fault="garbage"))) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live") as s:
            await s.send_realtime_input(text="hi")
            with pytest.raises(ValueError, match="Failed to parse response"):
                await collect_turn(s)
    assert sim.last_session.sent["garbage"] == 1


async def test_no_setup_reply_hangs_connect() -> None:
    async with SimServer(fast(fault="no_setup_reply")) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                async with client.aio.live.connect(model="gemini-3.8-live"):
                    pass
        await sim.wait_for(lambda: sim.last_session.setup is not None)
        assert sim.last_session.sent["setupComplete"] == 0


async def test_max_connection_sends_goaway_before_close() -> None:
    async with SimServer(fast(max_connection_s=0.5, goaway_time_left_s=0.2)) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live") as s:
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            with pytest.raises(errors.APIError) as info:
                async for m in s.receive():
                    assert m.go_away is not None and m.go_away.time_left == "0.200s"
            elapsed = loop.time() - t0
    assert info.value.code == 1011
    assert 0.4 <= elapsed <= 0.9
