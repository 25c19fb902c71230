"""REST through the real SDK: TTS (single and two speakers), errors, SSE, text models."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from google.genai import errors, types

from voicecli.sim import Scenario, SimServer
from voicecli.sim.rest import two_host_script
from voicecli.sim.testing import dominant_frequency, sdk_client
from voicecli.sim.voice import text_duration, voice_frequency

TTS = "gemini-3.8-flash-tts"
# the SDK subclasses aiohttp.ClientSession for async REST; aiohttp warns about that
pytestmark = pytest.mark.filterwarnings(
    "ignore:Inheritance class AiohttpClientSession:DeprecationWarning"
)


def speech(voice: str | None = None, speakers: dict[str, str] | None = None) -> Any:
    if speakers is not None:
        return types.SpeechConfig(
            multi_speaker_voice_config=types.MultiSpeakerVoiceConfig(
                speaker_voice_configs=[
                    types.SpeakerVoiceConfig(
                        speaker=name,
                        voice_config=types.VoiceConfig(
                            prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=v)
                        ),
                    )
                    for name, v in speakers.items()
                ]
            )
        )
    return types.SpeechConfig(
        voice_config=types.VoiceConfig(
            prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=voice)
        )
    )


def audio_config(sc: Any) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(response_modalities=["AUDIO"], speech_config=sc)


def pcm_of(resp: types.GenerateContentResponse) -> tuple[str, bytes]:
    part = resp.candidates[0].content.parts[0]  # type: ignore[index, union-attr]
    assert part.inline_data is not None and part.inline_data.data is not None
    return str(part.inline_data.mime_type), part.inline_data.data


async def test_tts_single_voice() -> None:
    async with SimServer(Scenario(voice="tone")) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        resp = await client.aio.models.generate_content(
            model=TTS, contents="Say hello to everyone", config=audio_config(speech("Puck"))
        )
        rec = sim.rest_requests[-1]
    mime, pcm = pcm_of(resp)
    assert mime == "audio/L16;codec=pcm;rate=24000"
    assert len(pcm) == round(text_duration("Say hello to everyone") * 24000) * 2
    assert dominant_frequency(pcm) == pytest.approx(voice_frequency("Puck"), abs=1)
    assert rec.path == f"/v1beta/models/{TTS}:generateContent"
    assert rec.api_key == "test-key" and rec.status == 200


def turn(speaker: str, text: str) -> types.Part:
    return types.Part(text=text, speech_metadata=types.SpeechMetadata(speaker=speaker))


async def test_tts_two_speakers() -> None:
    """3.8 TTS: one part per turn, the speaker in speech_metadata."""
    parts = [turn("Ana", "Welcome to the show."), turn("Ben", "Thanks for having me here today.")]
    sc = speech(speakers={"Ana": "Kore", "Ben": "Charon"})
    async with SimServer(Scenario(voice="tone")) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        resp = await client.aio.models.generate_content(
            model=TTS, contents=types.Content(role="user", parts=parts), config=audio_config(sc)
        )
    _, pcm = pcm_of(resp)
    n1 = round(text_duration("Welcome to the show.") * 24000) * 2
    n2 = round(text_duration("Thanks for having me here today.") * 24000) * 2
    assert len(pcm) == n1 + n2
    assert dominant_frequency(pcm[:n1]) == pytest.approx(voice_frequency("Kore"), abs=1)
    assert dominant_frequency(pcm[n1:]) == pytest.approx(voice_frequency("Charon"), abs=1)


async def test_38_tts_speaks_direction_words_sent_as_text() -> None:
    """Fidelity rule 5: a direction written into the text is read aloud with it (longer
    audio, in what was spoken); the same direction in speech_metadata.style is not."""
    words = "The quick brown fox."
    prompt = f"Say this aloud (style: whisper softly):\n{words}"
    async with SimServer(Scenario(voice="tone")) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        as_text = await client.aio.models.generate_content(
            model=TTS, contents=prompt, config=audio_config(speech("Kore"))
        )
        styled = types.Part(text=words, speech_metadata=types.SpeechMetadata(style="whisper"))
        as_style = await client.aio.models.generate_content(
            model=TTS,
            contents=types.Content(role="user", parts=[styled]),
            config=audio_config(speech("Kore")),
        )
        spoken = [r.spoken for r in sim.rest_requests]
    assert spoken == [[("Kore", prompt)], [("Kore", words)]]
    assert len(pcm_of(as_text)[1]) == round(text_duration(prompt) * 24000) * 2
    assert len(pcm_of(as_style)[1]) == round(text_duration(words) * 24000) * 2


async def test_38_tts_refuses_sampling_parameters_and_unknown_speakers() -> None:
    async with SimServer(Scenario(voice="tone")) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        cfg = types.GenerateContentConfig(
            response_modalities=["AUDIO"], speech_config=speech("Kore"), temperature=0.5
        )
        with pytest.raises(errors.ClientError, match="temperature"):
            await client.aio.models.generate_content(model=TTS, contents="hi", config=cfg)
        sc = speech(speakers={"Ana": "Kore", "Ben": "Charon"})
        with pytest.raises(errors.ClientError, match="Zed"):
            await client.aio.models.generate_content(
                model=TTS,
                contents=types.Content(role="user", parts=[turn("Zed", "hi")]),
                config=audio_config(sc),
            )


@pytest.mark.parametrize(
    ("model", "config", "code", "needle"),
    [
        (
            TTS,
            audio_config(speech(speakers={"A": "Kore", "B": "Puck", "C": "Leda"})),
            400,
            "2 speakers",
        ),
        (TTS, audio_config(speech("Nobody")), 400, "Nobody"),
        (TTS, None, 400, "AUDIO"),
        ("gemini-3.8-live", None, 404, "not found"),
        ("gemini-3.8-flash", audio_config(speech("Kore")), 400, "AUDIO"),
    ],
)
async def test_rest_errors(model: str, config: Any, code: int, needle: str) -> None:
    async with SimServer(Scenario(voice="tone")) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        with pytest.raises(errors.ClientError) as info:
            await client.aio.models.generate_content(model=model, contents="hi", config=config)
        rec = sim.rest_requests[-1]
    assert info.value.code == code and needle in str(info.value.message)
    assert info.value.status in ("INVALID_ARGUMENT", "NOT_FOUND")
    assert rec.status == code


async def test_rest_bad_key() -> None:
    async with SimServer(Scenario(voice="tone"), api_key="right") as sim:
        client = sdk_client(sim.base_url, sim.ca_path, api_key="wrong")
        with pytest.raises(errors.ClientError) as info:
            await client.aio.models.generate_content(model="gemini-3.8-flash", contents="hi")
    assert info.value.code == 400 and "API key not valid" in str(info.value.message)


async def test_tts_streaming_sse() -> None:
    text = "This sentence is long enough to need several streamed chunks of audio."
    async with SimServer(Scenario(voice="tone")) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        stream = await client.aio.models.generate_content_stream(
            model=TTS, contents=text, config=audio_config(speech("Zephyr"))
        )
        parts = [pcm_of(chunk)[1] async for chunk in stream]
        rec = sim.rest_requests[-1]
    assert len(parts) >= 3
    assert sum(map(len, parts)) == round(text_duration(text) * 24000) * 2
    assert rec.path.endswith(":streamGenerateContent?alt=sse")


async def test_text_model_reply_and_stream() -> None:
    async with SimServer(Scenario(voice="tone", text_reply="fixed answer")) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        resp = await client.aio.models.generate_content(model="gemini-3.8-flash", contents="hi")
    assert resp.text == "fixed answer"
    prompt = (
        "Write a two-host podcast script with hosts Mia and Leo.\n"
        "Cats sleep a lot. They also purr. Nobody knows exactly why."
    )
    async with SimServer(Scenario(voice="tone")) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        stream = await client.aio.models.generate_content_stream(
            model="gemini-3.8-flash", contents=prompt
        )
        text = "".join([c.text or "" async for c in stream])
    assert text == ("Mia: Cats sleep a lot.\nLeo: They also purr.\nMia: Nobody knows exactly why.")


def test_sync_sdk_against_threaded_sim() -> None:
    with SimServer(Scenario(voice="tone")) as sim:
        client = sdk_client(sim.base_url, sim.ca_path)
        resp = client.models.generate_content(
            model=TTS, contents="hello", config=audio_config(speech("Kore"))
        )
    mime, pcm = pcm_of(resp)
    assert mime.startswith("audio/L16") and len(pcm) == round(text_duration("hello") * 24000) * 2
    assert base64.b64encode(pcm)  # real bytes, decoded by the SDK


def test_two_host_script_defaults() -> None:
    assert two_host_script("Make a script for two hosts.") == (
        "Alex: Welcome to the show.\nSam: Thanks, it is great to be here."
    )
