"""Issue 12: voicecli against a simulator as strict as the Gemini Developer API (the default
profile, voicecli/sim/fidelity.py), through the real SDK over TLS."""

from __future__ import annotations

import pytest
from conftest import make_scenario
from google.genai import errors, types
from observers import Events

from voicecli.audio import synth
from voicecli.config import Settings
from voicecli.live import events as ev
from voicecli.session.engine import TalkRequest, run_talk
from voicecli.sim import Scenario, SimServer, Turn
from voicecli.sim.protocol import get, get_path
from voicecli.sim.testing import collect_turn, sdk_client

SCENARIO = """
voice = "tone"
latency_ms = 50
realtime = 0
[[turns]]
heard = "first question"
reply = "first answer"
duration_s = 0.4
[[turns]]
heard = "second question"
reply = "second answer"
duration_s = 0.4
[[turns]]
heard = "third question"
reply = "third answer"
duration_s = 0.4
"""
# the input: three utterances with pauses long enough for any server detection
PATTERN = [(1.0, 1.2), (0.8, 1.2), (1.0, 1.2)]


def settings_for(sim: SimServer, **kw: object) -> Settings:
    return Settings(base_url=sim.base_url, ca_file=str(sim.ca_path), api_key="test-key", **kw)  # type: ignore[arg-type]


def activity_detection(rec: object) -> dict:
    """The setup's automaticActivityDetection, in whichever spelling the SDK sent."""
    return get_path(rec.setup, "realtime_input_config", "automatic_activity_detection") or {}  # type: ignore[attr-defined]


async def test_the_sdk_default_version_gets_404_at_the_handshake() -> None:
    """Rule 1: the SDK's own default (v1) has no Live WebSocket; v1beta has."""
    async with SimServer(Scenario(voice="tone", latency_ms=10, realtime=0)) as sim:
        client = sdk_client(sim.base_url, sim.ca_path, api_version="v1")
        with pytest.raises(Exception) as info:
            async with client.aio.live.connect(model="gemini-3.8-live") as s:
                await collect_turn(s)
        assert "404" in str(info.value)
        assert sim.refused_handshakes == [
            (404, "/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent")
        ]
        assert sim.sessions == []
        rest = sdk_client(sim.base_url, sim.ca_path, api_version="v1")
        with pytest.raises(errors.ClientError) as rest_info:
            await rest.aio.models.generate_content(model="gemini-3.8-flash", contents="hi")
        assert rest_info.value.code == 404


async def test_talk_connects_on_v1beta_with_client_driven_turns(sim_factory, tmp_path) -> None:
    """The default path: v1beta, automatic detection disabled, activityStart before the
    pre-roll and activityEnd after the hangover; every utterance answered, nothing else."""
    sim = sim_factory(make_scenario(SCENARIO, tmp_path))
    wav = tmp_path / "three.wav"
    synth.make_utterances_wav(wav, PATTERN, rate=16000)
    seen = Events()
    summary = await run_talk(settings_for(sim), TalkRequest(input=wav, observers=[seen]))
    rec = sim.last_session
    assert rec.api_version == "v1beta"
    assert activity_detection(rec)["disabled"] is True
    assert (rec.activity_start, rec.activity_end) == (3, 3)
    assert rec.audio_stream_end == 0
    assert rec.warnings == []  # no audio outside activityStart/activityEnd: the order is right
    assert [t.ended_by for t in rec.turns] == ["activity_end"] * 3
    assert (summary.utterances, summary.spoken, summary.unanswered) == (3, 3, 0)
    # the pre-roll (200 ms) and the hangover (250 ms) per utterance, plus webrtcvad's overhang
    assert summary.seconds_sent <= sum(s for s, _ in PATTERN) + 3 * 0.6
    # what the service sends beside the reply is handled, not counted as text
    assert [e.text for e in seen.of(ev.InterimInputTranscript)] == ["first", "second", "third"]
    assert [t.user_text for t in seen.of(ev.TurnEnded)] == [
        "first question",
        "second question",
        "third question",
    ]


async def test_api_version_setting_overrides(sim_factory, tmp_path) -> None:
    sim = sim_factory(make_scenario(SCENARIO, tmp_path))
    wav = tmp_path / "one.wav"
    synth.make_utterances_wav(wav, PATTERN[:1], rate=16000)
    await run_talk(settings_for(sim, api_version="v1alpha"), TalkRequest(input=wav, fast=True))
    assert sim.last_session.api_version == "v1alpha"


async def test_server_detection_keeps_streaming_until_the_server_ends_the_turn(
    sim_factory, tmp_path
) -> None:
    """--turn-detection server: silenceDurationMs is set explicitly, the strict server ignores
    it and needs 800 ms of trailing audio, and the client keeps sending until the turn ended."""
    sim = sim_factory(make_scenario(SCENARIO, tmp_path))
    wav = tmp_path / "three.wav"
    synth.make_utterances_wav(wav, PATTERN, rate=16000)
    s = settings_for(sim, turn_detection="server")
    summary = await run_talk(s, TalkRequest(input=wav, fast=True))
    rec = sim.last_session
    aad = activity_detection(rec)
    assert not get(aad, "disabled") and get(aad, "silence_duration_ms") == 250
    assert rec.activity_start == 0
    assert [t.ended_by for t in rec.turns] == ["silence"] * 3
    assert (summary.spoken, summary.unanswered) == (3, 0)
    speech = sum(s for s, _ in PATTERN)
    assert summary.seconds_sent >= speech + 3 * 0.8  # the server needed the trailing audio


async def test_the_last_utterance_is_answered_when_the_file_ends_in_speech(
    sim_factory, tmp_path
) -> None:
    """Server detection and an input that stops right after speech: voicecli sends silence
    until the server has ended the turn (a client that just stops gets no reply)."""
    sim = sim_factory(make_scenario(SCENARIO, tmp_path))
    wav = tmp_path / "abrupt.wav"
    synth.make_utterances_wav(wav, [(1.0, 0.1)], rate=16000)
    s = settings_for(sim, turn_detection="server")
    summary = await run_talk(s, TalkRequest(input=wav))
    assert (summary.spoken, summary.unanswered) == (1, 0)
    assert sim.last_session.turns[0].ended_by == "silence"


async def test_vad_off_streams_everything_with_server_detection(sim_factory, tmp_path) -> None:
    sim = sim_factory(make_scenario(SCENARIO, tmp_path))
    wav = tmp_path / "one.wav"
    synth.make_utterances_wav(wav, [(1.0, 1.2)], rate=16000)
    summary = await run_talk(settings_for(sim, vad="off"), TalkRequest(input=wav, fast=True))
    rec = sim.last_session
    assert not get(activity_detection(rec), "disabled")
    assert summary.spoken == 1 and rec.activity_start == 0


@pytest.mark.parametrize(("alias", "mode"), [("auto", "server"), ("manual", "client")])
def test_old_turn_detection_values_are_aliases(alias: str, mode: str) -> None:
    assert Settings().with_overrides(turn_detection=alias).turn_detection == mode


async def test_extended_thinking_interaction_status_is_one_turn(sim_factory, tmp_path) -> None:
    """interactionStatus IN_PROGRESS then IDLE: one turn, not a second silent one."""
    sim = sim_factory(make_scenario(SCENARIO, tmp_path))
    wav = tmp_path / "two.wav"
    synth.make_utterances_wav(wav, PATTERN[:2], rate=16000)
    s = settings_for(sim, model="gemini-3.8-live-extended-thinking")
    seen = Events()
    summary = await run_talk(s, TalkRequest(input=wav, fast=True, observers=[seen]))
    statuses = [e.interaction_status for e in seen.of(ev.TurnComplete)]
    assert statuses == ["IN_PROGRESS", "IDLE", "IN_PROGRESS", "IDLE"]
    assert (summary.turns, summary.spoken, summary.silent) == (2, 2, 0)


@pytest.mark.parametrize(
    ("model", "kinds"),
    [
        ("gemini-2.5-flash-native-audio-preview-12-2025", ["start", "end"]),
        ("gemini-3.8-live", []),  # 3.8 sends no voiceActivity (python-genai #2981)
    ],
)
async def test_voice_activity_and_interim_transcripts_with_server_detection(
    sim_factory, tmp_path, model, kinds
) -> None:
    """Issue 27: the transport's kinds are "start"/"end" (what the views compare with), and
    a 3.8 session, which sends none, still ends its turns."""
    sim = sim_factory(make_scenario(SCENARIO, tmp_path))
    wav = tmp_path / "one.wav"
    synth.make_utterances_wav(wav, PATTERN[:1], rate=16000)
    seen = Events()
    s = settings_for(sim, turn_detection="server", model=model)
    await run_talk(s, TalkRequest(input=wav, fast=True, observers=[seen]))
    assert [e.kind for e in seen.of(ev.VoiceActivity)] == kinds
    assert sim.last_session.sent["voiceActivity"] == len(kinds)
    assert [e.text for e in seen.of(ev.InterimInputTranscript)] == ["first"]
    assert [t.user_text for t in seen.of(ev.TurnEnded)] == ["first question"]


async def test_a_scenario_may_relax_the_silence_rule() -> None:
    """Relaxed for this test only: honour_silence_duration lets 300 ms end a turn."""
    scen = Scenario(
        voice="tone",
        latency_ms=10,
        realtime=0,
        honour_silence_duration=True,
        turns=[Turn(reply="ok", duration_s=0.1)],
    )
    cfg = types.LiveConnectConfig(
        realtime_input_config=types.RealtimeInputConfig(
            automatic_activity_detection=types.AutomaticActivityDetection(silence_duration_ms=300)
        )
    )
    from voicecli.sim.testing import chunks, silence, speechlike

    async with SimServer(scen) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        async with client.aio.live.connect(model="gemini-3.8-live", config=cfg) as s:
            for c in chunks(speechlike(0.5) + silence(0.35)):
                await s.send_realtime_input(
                    audio=types.Blob(data=c, mime_type="audio/pcm;rate=16000")
                )
            r = await collect_turn(s)
    assert r.turn_complete


def test_a_talk_run_with_unanswered_utterances_is_no_success() -> None:
    """The summary says it plainly and `talk` exits 8 (Ctrl-C / /quit still exit 0)."""
    from voicecli.commands.talk import check_answered
    from voicecli.errors import ExitCode, SessionTimeout
    from voicecli.live.conversation import Summary
    from voicecli.ui.summary import format_summary

    s = Summary(turns=3, spoken=1, silent=2, unanswered=2, utterances=3)
    assert "2 of 3 utterances got no reply" in format_summary(s)
    with pytest.raises(SessionTimeout) as info:
        check_answered(s)
    assert info.value.exit_code == ExitCode.TIMEOUT and "2 of 3" in info.value.message
    check_answered(Summary(unanswered=1, utterances=1, ended_by_user=True))
    check_answered(Summary(utterances=3, spoken=3))


def test_api_version_per_endpoint_and_model() -> None:
    from voicecli.live.capabilities import all_models
    from voicecli.live.transport import api_version_for

    dev = Settings(api_key="k")
    assert api_version_for(dev) == "v1beta"  # the SDK's own default (v1) has no Live
    assert api_version_for(dev, "rest") == "v1beta"
    assert api_version_for(Settings(api_key="auth_tokens/abc")) == "v1alpha"  # ephemeral
    assert api_version_for(Settings(vertex=True)) is None  # Vertex: the SDK default
    assert api_version_for(Settings(api_key="k", api_version="v1alpha")) == "v1alpha"
    assert {m.api_version for m in all_models("developer")} == {"v1beta"}
    assert {m.api_version for m in all_models("vertex")} == {None}


async def test_listen_drives_its_turns_too(sim_factory, tmp_path) -> None:
    """listen: client-driven turns with its long (1 s) hangover, on the strict profile."""
    from voicecli.session.listen import file_source, run_listen

    sim = sim_factory(make_scenario(SCENARIO, tmp_path))
    wav = tmp_path / "room.wav"
    synth.make_utterances_wav(wav, [(1.0, 1.5), (0.8, 1.5)], rate=16000)
    s = settings_for(sim)
    req = TalkRequest(source=file_source(s, wav, fast=True), fast=True)
    summary = await run_listen(s, ["cooking"], req)
    rec = sim.last_session
    assert activity_detection(rec)["disabled"] is True
    assert (rec.activity_start, rec.activity_end, rec.audio_stream_end) == (2, 2, 0)
    assert rec.warnings == [] and (summary.spoken, summary.unanswered) == (2, 0)
