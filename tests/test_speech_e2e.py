"""`say`, dialogue and overview end to end: the real google-genai SDK against the
simulator's REST endpoints (tone voices, so durations and frequencies are exact)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from aiohttp import web

from voicecli.audio.files import WavSink
from voicecli.cli import main
from voicecli.config import Settings
from voicecli.errors import (
    AuthError,
    ExitCode,
    ModelError,
    NetworkError,
    ServerError,
    UsageError,
    VoicecliError,
)
from voicecli.sim import Scenario, SimServer
from voicecli.sim.protocol import get, get_path
from voicecli.sim.testing import dominant_frequency
from voicecli.sim.voice import text_duration, voice_frequency
from voicecli.speech.overview import write_script
from voicecli.speech.prompt import TtsRequest, make_directions
from voicecli.speech.request import SpeechRefused
from voicecli.speech.say import SayJob, open_client, plan_job, plan_turns, run_plan, run_say
from voicecli.speech.script import Speaker
from voicecli.speech.synth import SpeechStats

pytestmark = pytest.mark.filterwarnings(
    "ignore:Inheritance class AiohttpClientSession:DeprecationWarning"
)
HOSTS = (Speaker("Alex", "Puck"), Speaker("Sam", "Kore"))


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    server = SimServer(Scenario(voice="tone")).start_in_thread()
    yield server
    server.stop_thread()


@pytest.fixture
def settings(sim: SimServer) -> Settings:
    sim.rest_requests.clear()
    sim.scenario.text_reply = None
    sim.scenario.api_key = None
    return Settings(
        base_url=sim.base_url, ca_file=str(sim.ca_path), api_key="test-key-123", timeout=20
    )


async def say_to_wav(settings: Settings, job: SayJob, path: Path) -> SpeechStats:
    sink = WavSink(path)
    try:
        return await run_say(settings, job, sink)
    finally:
        sink.close()


def read(path: Path) -> tuple[np.ndarray, Any]:
    info = sf.info(str(path))
    data, _ = sf.read(str(path), dtype="int16")
    return data, info


def prompt_of(body: Any) -> str:
    return str(get_path(get(body, "contents")[0], "parts")[0]["text"])


def speech_of(body: Any) -> Any:
    return get_path(body, "generation_config", "speech_config")


# ---------------------------------------------------------------------------- one voice
async def test_single_voice_to_wav(settings: Settings, sim: SimServer, tmp_path: Path) -> None:
    job = SayJob("Hello from voicecli.", voice="puck")  # voice names are case-insensitive
    stats = await say_to_wav(settings, job, tmp_path / "a.wav")
    data, info = read(tmp_path / "a.wav")
    assert (info.samplerate, info.channels, info.subtype) == (24000, 1, "PCM_16")
    assert info.duration == pytest.approx(text_duration("Hello from voicecli."), abs=0.001)
    assert stats.requests == 1 and stats.first_audio_s is not None
    mid = data[len(data) // 4 : 3 * len(data) // 4].tobytes()
    assert dominant_frequency(mid) == pytest.approx(voice_frequency("Puck"), abs=2)
    (rec,) = sim.rest_requests
    assert rec.action == "streamGenerateContent" and rec.model == "gemini-3.8-flash-tts"
    assert get_path(speech_of(rec.body), "voice_config", "prebuilt_voice_config") == {
        "voice_name": "Puck"
    }


async def test_style_direction_is_carried_in_the_request(
    settings: Settings, sim: SimServer, tmp_path: Path
) -> None:
    d = make_directions("whisper, excited", "slow", "en-GB", ["GIF=jif"])
    job = SayJob("The GIF loaded.", voice="Leda", directions=d, stream=False)
    await say_to_wav(settings, job, tmp_path / "s.wav")
    (rec,) = sim.rest_requests
    assert rec.action == "generateContent"
    # 3.8 TTS reads the text verbatim: the words alone, the directions in speech_metadata
    (part,) = rec.body["contents"][0]["parts"]
    assert part["text"] == "The GIF loaded."
    assert get_path(part, "speech_metadata", "style") == (
        'whisper, excited; pace: slow; language: en-GB; pronounce "GIF" as "jif"'
    )
    assert rec.spoken == [("Leda", "The GIF loaded.")]  # no direction word is spoken
    assert get_path(rec.body, "generation_config", "response_modalities") == ["AUDIO"]


async def test_older_tts_models_take_the_prompt_form(
    settings: Settings, sim: SimServer, tmp_path: Path
) -> None:
    d = make_directions("whisper")
    job = SayJob("Hello.", model="gemini-2.5-flash-preview-tts", directions=d, stream=False)
    await say_to_wav(settings, job, tmp_path / "s.wav")
    (rec,) = sim.rest_requests
    assert prompt_of(rec.body) == "Say this aloud (style: whisper):\nHello."
    assert "speech_metadata" not in str(rec.body) and "speechMetadata" not in str(rec.body)


async def test_streamed_and_whole_answers_give_the_same_audio(
    settings: Settings, tmp_path: Path
) -> None:
    text = "First sentence here. Second sentence here. Third one."
    for stream in (True, False):
        await say_to_wav(
            settings, SayJob(text, stream=stream, max_chars=30), tmp_path / f"{stream}.wav"
        )
    assert (tmp_path / "True.wav").read_bytes() == (tmp_path / "False.wav").read_bytes()


# ---------------------------------------------------------------------------- two speakers
async def test_two_speakers(settings: Settings, sim: SimServer, tmp_path: Path) -> None:
    script = "Alex: Welcome to the show, everyone.\nSam: Thanks, great to be here today!\n"
    job = SayJob(script, speakers=(Speaker("Alex", "Puck"), Speaker("Sam", "kore")))
    await say_to_wav(settings, job, tmp_path / "d.wav")
    (rec,) = sim.rest_requests
    configs = get_path(speech_of(rec.body), "multi_speaker_voice_config", "speaker_voice_configs")
    voices = {
        c["speaker"]: get_path(c, "voice_config", "prebuilt_voice_config", "voice_name")
        for c in configs
    }
    assert voices == {"Alex": "Puck", "Sam": "Kore"}
    parts = rec.body["contents"][0]["parts"]  # one part per turn, the speaker in metadata
    assert [(get_path(p, "speech_metadata", "speaker"), p["text"]) for p in parts] == [
        ("Alex", "Welcome to the show, everyone."),
        ("Sam", "Thanks, great to be here today!"),
    ]
    assert rec.spoken == [
        ("Puck", "Welcome to the show, everyone."),
        ("Kore", "Thanks, great to be here today!"),
    ]
    data, _ = read(tmp_path / "d.wav")
    tail = data[-int(0.5 * 24000) : -int(0.05 * 24000)].tobytes()  # Sam's line: Kore's tone
    assert dominant_frequency(tail) == pytest.approx(voice_frequency("Kore"), abs=3)


# ---------------------------------------------------------------------------- long texts
async def test_long_text_is_chunked_and_joined_without_clicks(
    settings: Settings, sim: SimServer, tmp_path: Path
) -> None:
    sentences = [f"This is sentence number {i}, spoken clearly." for i in range(24)]
    job = SayJob(" ".join(sentences), voice="Kore", max_chars=200)
    stats = await say_to_wav(settings, job, tmp_path / "long.wav")
    recs = sim.rest_requests
    assert len(recs) == stats.requests >= 5
    said = []
    for rec in recs:
        text = prompt_of(rec.body)
        assert len(text) <= 200 and text.endswith("spoken clearly.")  # whole sentences
        voice = get_path(speech_of(rec.body), "voice_config", "prebuilt_voice_config")
        assert voice == {"voice_name": "Kore"}  # the same voice in every chunk
        said.append(text)
    # the next part is fetched while one plays, so requests may arrive out of order
    said.sort(key=lambda text: int(text.split()[4].rstrip(",")))
    assert " ".join(said) == " ".join(sentences)
    data, info = read(tmp_path / "long.wav")
    parts = [text_duration(t) for t in said]
    assert stats.segment_s == pytest.approx(parts, abs=0.001)
    joins = len(parts) - 1
    assert info.duration == pytest.approx(sum(parts) - joins * 0.010, abs=0.002)
    steps = np.abs(np.diff(data.astype(np.int32)))
    assert steps.max() < 1000  # a 260 Hz tone at 0.3 moves <= ~670 per sample
    # no gap at the joins: the level around each join stays like the tone's fades
    pos = 0
    for seconds in parts[:-1]:
        pos += round(seconds * 24000) - 240
        window = data[pos - 480 : pos + 480].astype(np.int32)
        assert np.abs(np.diff(window)).max() < 1000


async def test_long_dialogue_keeps_speakers_in_every_chunk(
    settings: Settings, sim: SimServer, tmp_path: Path
) -> None:
    lines = [f"{'Alex' if i % 2 == 0 else 'Sam'}: Point {i} is worth hearing." for i in range(16)]
    job = SayJob("\n".join(lines), speakers=HOSTS, max_chars=120)
    stats = await say_to_wav(settings, job, tmp_path / "dl.wav")
    recs = sim.rest_requests
    assert len(recs) == stats.requests >= 4
    for rec in recs:
        configs = get_path(
            speech_of(rec.body), "multi_speaker_voice_config", "speaker_voice_configs"
        )
        assert [c["speaker"] for c in configs] == ["Alex", "Sam"]
        parts = rec.body["contents"][0]["parts"]
        assert {get_path(p, "speech_metadata", "speaker") for p in parts} <= {"Alex", "Sam"}
        assert all(p["text"].startswith("Point ") for p in parts)  # no "Name:" is spoken


# ---------------------------------------------------------------------------- overview
async def test_overview_pipeline(settings: Settings, sim: SimServer, tmp_path: Path) -> None:
    sim.scenario.text_reply = (
        "Here's your script!\n\n**Alex:** Today: voice activity detection.\n"
        "**Sam:** What does it decide?\nAlex: When someone is speaking,\nand when not.\n"
    )
    notes = "# VAD\nVoice activity detection gates the microphone."
    turns = await write_script(settings, notes, HOSTS, "gemini-3.8-flash", words=200)
    assert [t.speaker for t in turns] == ["Alex", "Sam", "Alex"]
    assert turns[2].text == "When someone is speaking, and when not."
    plan = plan_turns(turns, HOSTS, SayJob("", stream=True))
    sink = WavSink(tmp_path / "o.wav")
    try:
        stats = await run_plan(settings, plan, sink)
    finally:
        sink.close()
    text_req, tts_req = sim.rest_requests
    assert text_req.model == "gemini-3.8-flash" and text_req.action == "generateContent"
    assert notes in prompt_of(text_req.body) and "between Alex and Sam" in prompt_of(text_req.body)
    assert tts_req.model == "gemini-3.8-flash-tts"
    assert get_path(speech_of(tts_req.body), "multi_speaker_voice_config") is not None
    assert sf.info(str(tmp_path / "o.wav")).duration == pytest.approx(stats.audio_s, abs=0.001)


async def test_overview_with_the_simulators_own_script(settings: Settings) -> None:
    notes = "Resampling uses soxr. Frames are twenty milliseconds long."
    turns = await write_script(settings, notes, HOSTS, "gemini-3.8-flash")
    assert {t.speaker for t in turns} == {"Alex", "Sam"}


async def test_overview_script_with_a_third_speaker_is_refused(
    settings: Settings, sim: SimServer
) -> None:
    sim.scenario.text_reply = "Alex: Hi.\nSam: Hello.\nNarrator: Meanwhile...\n"
    with pytest.raises(ServerError, match="unusable script.*Narrator"):
        await write_script(settings, "notes", HOSTS, "gemini-3.8-flash")


# ---------------------------------------------------------------------------- errors
async def test_local_errors_send_nothing(settings: Settings, sim: SimServer) -> None:
    cases: list[tuple[SayJob, type[VoicecliError], str]] = [
        (SayJob("  \n"), UsageError, "no text"),
        (SayJob("Hi.", voice="Kroe"), UsageError, "unknown voice 'Kroe' .*did you mean Kore"),
        (SayJob("Hi.", model="gemini-3.8-live"), ModelError, "not a speech generation"),
        (
            SayJob("Alex: hi", speakers=(*HOSTS, Speaker("Kim", "Leda"))),
            UsageError,
            "at most 2",
        ),
        (SayJob("Alex: hi", speakers=(HOSTS[0], Speaker("Sam", "Nope"))), UsageError, "Nope"),
        (SayJob("Alex: hi\nBob: yo", speakers=HOSTS), UsageError, "Bob"),
    ]
    for job, kind, message in cases:
        with pytest.raises(kind) as e:
            plan_job(job)
        assert re.search(message, e.value.one_line()), e.value.one_line()
    assert sim.rest_requests == []


async def test_server_side_voice_and_speaker_errors_are_mapped(
    settings: Settings, sim: SimServer
) -> None:
    client = open_client(settings)
    try:
        with pytest.raises(UsageError, match="refused the voice.*Nobody") as e:
            await client.generate(TtsRequest("gemini-3.8-flash-tts", "Hi.", voice="Nobody"))
        assert e.value.exit_code == ExitCode.USAGE
        three = (*HOSTS, Speaker("Kim", "Leda"))
        with pytest.raises(UsageError, match="refused the speakers"):
            await client.generate(TtsRequest("gemini-3.8-flash-tts", "A: b", speakers=three))
        with pytest.raises(ModelError, match="not found"):
            await client.write("gemini-3.8-live", "hello")  # a Live-only model
    finally:
        await client.aclose()
    assert [r.status for r in sim.rest_requests] == [400, 400, 404]


async def test_wrong_key_is_an_auth_error(settings: Settings, sim: SimServer) -> None:
    sim.scenario.api_key = "the-right-key"
    with pytest.raises(AuthError) as e:
        await run_say(settings, SayJob("Hi."), WavSink(Path("/dev/null")))
    assert e.value.exit_code == ExitCode.AUTH and "test-key-123" not in e.value.one_line()


async def test_network_errors(settings: Settings) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    dead = Settings(base_url=f"https://127.0.0.1:{port}", api_key="test-key-123", timeout=5)
    with pytest.raises(NetworkError) as e:
        await run_say(dead, SayJob("Hi."), WavSink(Path("/dev/null")))
    assert e.value.exit_code == ExitCode.NETWORK
    untrusted = Settings(base_url=settings.base_url, api_key="test-key-123", timeout=5)  # no CA
    with pytest.raises(NetworkError, match="TLS|certificate"):
        await run_say(untrusted, SayJob("Hi."), WavSink(Path("/dev/null")))


# ---------------------------------------------------------------------------- refusals
def refusing_service(answer: dict[str, Any]) -> Callable[[web.Request], Any]:
    async def handle(request: web.Request) -> web.StreamResponse:
        if request.match_info["target"].endswith(":generateContent"):
            return web.json_response(answer)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b"data: " + json.dumps(answer).encode() + b"\r\n\r\n")
        await resp.write_eof()
        return resp

    return handle


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"candidates": [{"finishReason": "SAFETY", "index": 0}]}, "refused.*SAFETY"),
        ({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}, "blocked: PROHIBITED"),
        (
            {
                "candidates": [
                    {"content": {"parts": [{"text": "I can't."}]}, "finishReason": "STOP"}
                ]
            },
            "no audio.*I can't",
        ),
    ],
)
@pytest.mark.parametrize("stream", [True, False])
async def test_model_refusals(answer: dict[str, Any], message: str, stream: bool) -> None:
    app = web.Application()
    app.router.add_post("/{version}/models/{target}", refusing_service(answer))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        s = Settings(base_url=f"http://127.0.0.1:{port}", api_key="test-key-123", timeout=5)
        with pytest.raises(SpeechRefused, match=message) as e:
            await run_say(s, SayJob("Something.", stream=stream), WavSink(Path("/dev/null")))
        assert e.value.exit_code == ExitCode.SERVER
    finally:
        await runner.cleanup()


# ---------------------------------------------------------------------------- the CLI
@pytest.fixture
def env(sim: SimServer, monkeypatch: pytest.MonkeyPatch) -> SimServer:
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", sim.base_url)
    monkeypatch.setenv("SSL_CERT_FILE", str(sim.ca_path))
    monkeypatch.setenv("GEMINI_API_KEY", "cli-key")
    sim.rest_requests.clear()
    return sim


def test_cli_say_to_file(
    env: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli.wav"
    code = main(["say", "Hi there.", "--voice", "Zephyr", "--style", "cheerful", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"wrote {out}" in err and sf.info(str(out)).samplerate == 24000
    assert "voicecli: Zephyr, gemini-3.8-flash-tts, 1 part\n" in err  # not "1 part(s)"
    body = env.rest_requests[-1].body  # 3.8 TTS: the words verbatim, the style in metadata
    assert prompt_of(body) == "Hi there."
    assert get_path(body["contents"][0]["parts"][0], "speech_metadata", "style") == "cheerful"


def test_cli_dialogue_from_a_file_and_errors(
    env: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "script.txt"
    script.write_text("Alex: One.\nSam: Two.\n")
    out = tmp_path / "d.wav"
    args = ["say", "-f", str(script), "--speaker", "Alex=Puck", "--speaker", "Sam=Kore"]
    assert main([*args, "-o", str(out)]) == 0 and out.exists()
    capsys.readouterr()
    assert main([*args, "--speaker", "Kim=Leda", "-o", str(out)]) == ExitCode.USAGE
    assert "at most 2" in capsys.readouterr().err
    assert main(["say", "", "-o", str(out)]) == ExitCode.USAGE
    assert main(["say", "Hi", "--voice", "Nobody", "-o", str(out)]) == ExitCode.USAGE
    assert main(["say", "Hi", "--model", "gemini-x-tts", "-o", str(out)]) == ExitCode.MODEL
    err = capsys.readouterr().err
    assert err.count("error: ") == 3 and all(len(line) < 300 for line in err.splitlines())


def test_cli_overview_script_only(
    env: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.scenario.text_reply = "Alex: Hello.\nSam: Hi!\n"
    notes = tmp_path / "notes.md"
    notes.write_text("Some notes.")
    try:
        assert main(["overview", str(notes), "--script-only"]) == 0
    finally:
        env.scenario.text_reply = None
    out = capsys.readouterr().out
    assert out == "Alex: Hello.\nSam: Hi!\n"
    assert [r.model for r in env.rest_requests] == ["gemini-3.8-flash"]


def test_cli_overview_to_file(env: SimServer, tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("Voice activity detection gates the microphone. It saves tokens.")
    out = tmp_path / "o.wav"
    code = main(
        ["overview", str(notes), "-o", str(out), "--speaker", "Ann=Leda", "--speaker", "Bo=Orus"]
    )
    assert code == 0 and sf.info(str(out)).duration > 1
    assert [r.model for r in env.rest_requests] == ["gemini-3.8-flash", "gemini-3.8-flash-tts"]


def test_cli_voices(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["voices"]) == 0
    out = capsys.readouterr().out
    assert "Kore (default)" in out and "Puck" in out and "Upbeat" in out
