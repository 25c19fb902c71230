"""Tool calls: round trip, cancellation, duplicates, barge-in during a pending call."""

from __future__ import annotations

import asyncio
from typing import Any

from google.genai import types

from voicecli.sim import Scenario, SimServer, ToolCallSpec, Turn
from voicecli.sim.testing import collect_turn, sdk_client

TOOLS: list[Any] = [
    types.Tool(
        function_declarations=[
            types.FunctionDeclaration(name="get_weather", description="weather for a city")
        ]
    )
]
CFG = types.LiveConnectConfig(
    tools=TOOLS, output_audio_transcription=types.AudioTranscriptionConfig()
)


def scen(turn: Turn, **kw: object) -> Scenario:
    return Scenario(voice="tone", latency_ms=20, realtime=0, turns=[turn], **kw)  # type: ignore[arg-type]


WEATHER = ToolCallSpec(name="get_weather", args={"city": "Oslo"})


async def test_tool_call_round_trip() -> None:
    turn = Turn(
        tool_calls=[WEATHER], reply="It is {result.temp} degrees in {result.city}", duration_s=0.2
    )
    async with SimServer(scen(turn)) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live", config=CFG) as s:

            async def answer(m: types.LiveServerMessage) -> None:
                if m.tool_call:
                    (fc,) = m.tool_call.function_calls or []
                    assert (fc.name, fc.args) == ("get_weather", {"city": "Oslo"})
                    await s.send_tool_response(
                        function_responses=types.FunctionResponse(
                            id=fc.id, name=fc.name, response={"temp": 21, "city": "Oslo"}
                        )
                    )

            await s.send_realtime_input(text="weather?")
            r = await collect_turn(s, answer)
        rec = sim.last_session
    assert len(r.tool_calls) == 1
    assert r.output_text == "It is 21 degrees in Oslo"
    assert rec.tool_responses[0]["response"] == {"temp": 21, "city": "Oslo"}
    assert rec.tool_responses[0]["id"] == rec.tool_calls[0]["id"]
    assert rec.turns[0].replied and rec.warnings == []


async def test_tool_call_cancellation() -> None:
    turn = Turn(tool_calls=[WEATHER], cancel_tool_after_ms=100, reply="never said")
    async with SimServer(scen(turn)) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live", config=CFG) as s:
            await s.send_realtime_input(text="weather?")
            r = await collect_turn(s)
            (fc,) = r.tool_calls[0].function_calls or []
            await s.send_tool_response(
                function_responses=types.FunctionResponse(id=fc.id, name=fc.name, response={})
            )
            await sim.wait_for(lambda: sim.last_session.tool_responses)
        rec = sim.last_session
    assert r.cancelled_ids == [fc.id]
    assert r.audio == b"" and r.turn_complete
    assert rec.turns[0].tool_cancelled
    assert any("cancelled call" in w for w in rec.warnings)


async def test_duplicate_tool_call_and_duplicate_response() -> None:
    turn = Turn(tool_calls=[WEATHER], duplicate_tool_call=True, reply="{result}", duration_s=0.1)
    async with SimServer(scen(turn)) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live", config=CFG) as s:

            async def answer(m: types.LiveServerMessage) -> None:
                if m.tool_call:  # a naive client answers both copies
                    fc = (m.tool_call.function_calls or [])[0]
                    await s.send_tool_response(
                        function_responses=[
                            types.FunctionResponse(
                                id=fc.id, name=fc.name, response={"result": "sunny"}
                            )
                        ]
                    )

            await s.send_realtime_input(text="weather?")
            r = await collect_turn(s, answer)
            await sim.wait_for(lambda: len(sim.last_session.tool_responses) == 2)
        rec = sim.last_session
    ids = [m.function_calls[0].id for m in r.tool_calls]
    assert len(ids) == 2 and ids[0] == ids[1]
    assert r.output_text == "sunny"
    assert any("unknown or answered" in w for w in rec.warnings)


async def test_tool_timeout_cancels() -> None:
    turn = Turn(tool_calls=[WEATHER, ToolCallSpec(name="get_time", id="t-1")], reply="x")
    async with SimServer(scen(turn, tool_timeout_s=0.2)) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live", config=CFG) as s:
            await s.send_realtime_input(text="weather?")
            r = await collect_turn(s)
        rec = sim.last_session
    assert [fc.id for fc in r.tool_calls[0].function_calls][1] == "t-1"
    assert sorted(r.cancelled_ids) == sorted(rec.turns[0].tool_call_ids)
    assert any("no toolResponse" in w for w in rec.warnings)


async def test_barge_in_cancels_pending_tool_call() -> None:
    turns = [Turn(tool_calls=[WEATHER], reply="late"), Turn(reply="fresh", duration_s=0.1)]
    async with SimServer(Scenario(voice="tone", latency_ms=20, realtime=0, turns=turns)) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live", config=CFG) as s:

            async def interrupt(m: types.LiveServerMessage) -> None:
                if m.tool_call:
                    await asyncio.sleep(0.05)
                    await s.send_realtime_input(text="never mind")

            r = await collect_turn(s, interrupt) if await _send(s, "weather?") else None
            r2 = await collect_turn(s)  # a turnComplete closed the cut one (fidelity rule 12)
        rec = sim.last_session
    assert r is not None and r.interrupted and r.turn_complete and r.output_text == ""
    assert r.cancelled_ids == rec.turns[0].tool_call_ids
    assert r2.output_text == "fresh"


async def _send(s: object, text: str) -> bool:
    await s.send_realtime_input(text=text)  # type: ignore[attr-defined]
    return True
