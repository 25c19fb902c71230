"""Simulator rules for issue 16, through the real SDK: seeded initial history (no model call
until the history ends; realtime input before that is refused), contextUpdate (same
connection, the new instruction shows in the reply; refused by models without it), and
resumption handles the server forgets."""

from __future__ import annotations

import pytest
from google.genai import errors, types

from voicecli.sim import Scenario, SimServer
from voicecli.sim.testing import collect_turn, sdk_client

NATIVE_25 = "gemini-2.5-flash-native-audio-preview-12-2025"


def scenario(**kw: object) -> Scenario:
    kw.setdefault("latency_ms", 20)
    kw.setdefault("realtime", 0)
    kw.setdefault("default_reply", "[{system}] {seeded} seeded: {heard}")
    return Scenario(voice="tone", **kw)  # type: ignore[arg-type]


def config(seed: bool = False, **kw: object) -> types.LiveConnectConfig:
    return types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        output_audio_transcription=types.AudioTranscriptionConfig(),
        history_config=types.HistoryConfig(initial_history_in_client_content=True)
        if seed
        else None,
        **kw,  # type: ignore[arg-type]
    )


HISTORY = [
    types.Content(role="user", parts=[types.Part(text="my name is Ada")]),
    types.Content(role="model", parts=[types.Part(text="nice to meet you, Ada")]),
]


async def test_seeded_history_makes_no_model_call() -> None:
    async with SimServer(scenario()) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live", config=config(True)) as s:
            await s.send_client_content(turns=HISTORY[:1], turn_complete=False)
            await s.send_client_content(turns=HISTORY[1:], turn_complete=True)
            await s.send_realtime_input(text="what is my name?")
            turn = await collect_turn(s)
        rec = sim.last_session
    assert rec.seeded_turns == [("user", "my name is Ada"), ("model", "nice to meet you, Ada")]
    assert [t.source for t in rec.turns] == ["text"]  # the history was not a turn
    assert turn.output_text == "[] 2 seeded: what is my name?"


async def test_realtime_input_before_the_history_ends_is_refused() -> None:
    async with SimServer(scenario()) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        with pytest.raises(errors.APIError) as info:
            async with client.aio.live.connect(model="gemini-3.8-live", config=config(True)) as s:
                await s.send_client_content(turns=HISTORY, turn_complete=False)
                await s.send_realtime_input(text="hello")
                await collect_turn(s)
    assert info.value.code == 1007 and "initial history" in str(info.value)


async def test_context_update_on_the_same_connection() -> None:
    async with SimServer(scenario()) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        cfg = config(system_instruction="be plain")
        async with client.aio.live.connect(model="gemini-3.8-live", config=cfg) as s:
            await s.send_realtime_input(text="one")
            first = await collect_turn(s)
            await s.send_context_update(system_instruction="be a pirate", tools=[])
            await s.send_realtime_input(text="two")
            second = await collect_turn(s)
    assert first.output_text.startswith("[be plain]")
    assert second.output_text.startswith("[be a pirate]")
    assert len(sim.sessions) == 1 and len(sim.last_session.context_updates) == 1


async def test_context_update_refused_by_a_model_without_it() -> None:
    async with SimServer(scenario()) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        with pytest.raises(errors.APIError) as info:
            async with client.aio.live.connect(model=NATIVE_25, config=config()) as s:
                await s.send_context_update(system_instruction="be a pirate")
                await s.send_realtime_input(text="two")
                await collect_turn(s)
    assert info.value.code == 1007 and "contextUpdate is not supported" in str(info.value)


async def test_handles_expire_after_handle_ttl() -> None:
    async with SimServer(scenario(handle_ttl_s=0.0)) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        cfg = config(session_resumption=types.SessionResumptionConfig())
        async with client.aio.live.connect(model="gemini-3.8-live", config=cfg) as s:
            await s.send_realtime_input(text="one")
            turn = await collect_turn(s)
        handle = turn.handles[-1]
        again = config(session_resumption=types.SessionResumptionConfig(handle=handle))
        with pytest.raises(errors.APIError) as info:
            async with client.aio.live.connect(model="gemini-3.8-live", config=again) as s:
                await s.send_realtime_input(text="two")
                await collect_turn(s)
    assert info.value.code == 1008 and "Session not found" in str(info.value)  # rule 10
