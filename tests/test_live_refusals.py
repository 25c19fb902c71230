"""Issue 27: what real Live servers refuse (LIVE_FACTS "Tools and mid-session input"), as
simulator rules (fidelity rules 7-10) driven with the raw SDK, and voicecli's flows through
them end to end: tool arguments, speaking while a tool runs, --watch on 3.1, refused handles."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import make_scenario
from google.genai import errors, types
from observers import Events
from tools_helpers import ECHO_ARGV, command_tool, scenario
from tools_helpers import settings_for as tool_settings

from voicecli.audio import synth
from voicecli.config import Settings
from voicecli.live import events as ev
from voicecli.session.engine import TalkRequest, run_talk
from voicecli.sim import SimServer
from voicecli.sim.testing import collect_turn, sdk_client, speechlike
from voicecli.video.spec import build_spec
from voicecli.video.watch import WatchParams

M25 = "gemini-2.5-flash-native-audio-preview-12-2025"
M31 = "gemini-3.1-flash-live-preview"
SLOW = "import time; time.sleep(3); print('slow result')"


def client(sim: SimServer):
    return sdk_client(sim.base_url, sim.ca_path, api_version="v1beta")


def wav(tmp_path: Path, pattern: list[tuple[float, float]]) -> Path:
    path = tmp_path / "in.wav"
    synth.make_utterances_wav(path, pattern, rate=16000)
    return path


# ---- the simulator's rules, with the raw SDK ------------------------------------------------


async def test_rule7_a_json_schema_declaration_is_called_with_empty_arguments(sim_factory):
    sim = sim_factory(
        scenario({"tool_calls": [{"name": "f", "args": {"city": "Tokyo"}}], "reply": "ok"})
    )
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    for decl, want in (
        (types.FunctionDeclaration(name="f", parameters_json_schema=schema), {}),
        (
            types.FunctionDeclaration(
                name="f",
                parameters=types.Schema(
                    type=types.Type.OBJECT, properties={"city": types.Schema(type="STRING")}
                ),
            ),
            {"city": "Tokyo"},
        ),
    ):
        config = types.LiveConnectConfig(
            response_modalities=["AUDIO"],
            tools=[types.Tool(function_declarations=[decl])],
        )
        async with client(sim).aio.live.connect(model=M25, config=config) as session:
            await session.send_realtime_input(text="weather?")
            async for msg in session.receive():
                if msg.tool_call:
                    (call,) = msg.tool_call.function_calls
                    assert dict(call.args or {}) == want
                    break


async def test_rule8_audio_while_a_call_is_pending_closes_1008_on_25(sim_factory):
    sim = sim_factory(scenario({"tool_calls": [{"name": "f"}], "reply": "ok"}))
    decl = types.FunctionDeclaration(name="f", description="f")
    config = types.LiveConnectConfig(
        response_modalities=["AUDIO"], tools=[types.Tool(function_declarations=[decl])]
    )
    async with client(sim).aio.live.connect(model=M25, config=config) as session:
        await session.send_realtime_input(text="call f")
        async for msg in session.receive():
            if msg.tool_call:
                break
        pcm = speechlike(0.1)
        await session.send_realtime_input(
            audio=types.Blob(data=pcm, mime_type="audio/pcm;rate=16000")
        )
        with pytest.raises(errors.APIError) as caught:
            await collect_turn(session)
    assert caught.value.code == 1008
    rec = sim.last_session
    assert rec.close_reason == "Operation is not implemented, or supported, or enabled."


async def test_rule9_mid_session_client_content_closes_1007_on_31(sim_factory):
    sim = sim_factory(scenario({"reply": "ok"}))
    config = types.LiveConnectConfig(
        response_modalities=["AUDIO"],
        history_config=types.HistoryConfig(initial_history_in_client_content=True),
    )
    async with client(sim).aio.live.connect(model=M31, config=config) as session:
        history = types.Content(role="user", parts=[types.Part(text="earlier")])
        await session.send_client_content(turns=history, turn_complete=True)  # allowed
        await session.send_realtime_input(text="hello")
        turn = await collect_turn(session)
        assert turn.turn_complete
        await session.send_client_content(turns=history, turn_complete=False)
        with pytest.raises(errors.APIError) as caught:
            await collect_turn(session)
    assert caught.value.code == 1007
    assert sim.last_session.seeded_turns == [("user", "earlier")]


async def test_rule10_an_unknown_handle_is_refused_at_setup(sim_factory):
    sim = sim_factory(scenario({"reply": "ok"}))
    config = types.LiveConnectConfig(
        response_modalities=["AUDIO"],
        session_resumption=types.SessionResumptionConfig(handle="never-issued"),
    )
    with pytest.raises(errors.APIError) as caught:
        async with client(sim).aio.live.connect(model=M25, config=config):
            pass
    assert caught.value.code == 1008
    assert sim.last_session.close_reason == "Session not found."


# ---- voicecli's flows through them, end to end ---------------------------------------------


async def test_a_command_tool_with_a_required_argument_gets_it(sim_factory, tmp_path, monkeypatch):
    """Declared with parametersJsonSchema the call came with no arguments ("missing
    argument"); declared with parameters the tool gets its country."""
    sim = sim_factory(
        scenario(
            {
                "heard": "time in japan",
                "tool_calls": [{"name": "where", "args": {"country": "Japan"}}],
                "reply": "{result.output}",
            }
        )
    )
    out = tmp_path / "argv.json"
    monkeypatch.setenv("ARGV_OUT", str(out))
    tool = command_tool("where", ECHO_ARGV, "{country}", env=["ARGV_OUT"])  # required
    req = TalkRequest(input=wav(tmp_path, [(0.8, 1.0)]), fast=True, with_tools=True)
    summary = await run_talk(tool_settings(sim, [tool]), req)
    assert summary.spoken == 1
    (response,) = sim.last_session.tool_responses
    assert "Japan" in str(response["response"]) and out.read_text() == '["Japan"]'
    decl = sim.last_session.setup["tools"][0]["functionDeclarations"]
    where = next(d for d in decl if d["name"] == "where")
    assert "parameters" in where and "parametersJsonSchema" not in where


@pytest.mark.parametrize("turns", ["client", "server"])
@pytest.mark.parametrize("model", [M25, M31, "gemini-3.8-live"])
async def test_speaking_during_a_slow_tool(sim_factory, tmp_path, model, turns):
    """On 2.5 (and 3.1, blocking calls only: the strict reading) the microphone is held while the 3 s call is pending (audio then closes 1008):
    the result reaches the model and the run ends well. On 3.8 new input cancels a blocking
    call (toolCallCancellation): the tool is stopped and the session goes on."""
    sim = sim_factory(
        scenario(
            {"heard": "slow one", "tool_calls": [{"name": "slow"}], "reply": "{result.output}"},
            {"heard": "next", "reply": "next answer"},
            realtime=1.0,
        )
    )
    obs = Events()
    # the first utterance calls the tool; the second is spoken while it runs (3 s)
    req = TalkRequest(
        input=wav(tmp_path, [(0.8, 0.9), (0.8, 5.0)]), with_tools=True, observers=[obs]
    )
    tool = command_tool("slow", SLOW, timeout=10)
    settings = tool_settings(sim, [tool], model=model, turn_detection=turns)
    summary = await run_talk(settings, req)  # no error: exit 0
    rec = sim.sessions[0]
    assert len(sim.sessions) == 1 and rec.close_code != 1008
    if model in (M25, M31):
        (response,) = rec.tool_responses
        assert "slow result" in str(response["response"])
        assert rec.replied_turns[0].reply_text.strip() == "slow result"
        assert any("microphone held" in n.text for n in obs.of(ev.Notice))
        assert summary.spoken >= 1
    else:
        assert rec.sent["toolCallCancellation"] == 1 and rec.tool_responses == []
        assert obs.of(ev.ToolCallCancellation)


async def test_watch_on_31_keeps_the_session(sim_factory, tmp_path):
    """3.1 takes clientContent only as initial history: watched output goes as
    realtimeInput.text, and the session is not closed with 1007."""
    sim = sim_factory(make_scenario('voice = "tone"\nlatency_ms = 50\nrealtime = 0\n', tmp_path))
    log = tmp_path / "app.log"
    log.write_text("old line\n")

    async def append() -> None:
        await asyncio.sleep(0.3)
        with log.open("a") as f:
            f.write("ERROR disk full\n")

    spec = build_spec(watch_file=log)
    spec.watch_params = WatchParams(interval_s=0.4, poll_s=0.1)
    req = TalkRequest(input=wav(tmp_path, [(1.0, 0.3)]), share=spec)
    settings = Settings(
        base_url=sim.base_url,
        ca_file=str(sim.ca_path),
        api_key="test-key",
        history=False,
        model=M31,
    )
    task = asyncio.create_task(append())
    await run_talk(settings, req)
    await task
    rec = sim.sessions[0]
    assert len(sim.sessions) == 1 and rec.close_code != 1007
    assert rec.client_contents == []
    assert any("ERROR disk full" in t for t in rec.texts)
