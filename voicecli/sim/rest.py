"""REST on the simulator's port: ``models/{model}:generateContent`` and its SSE stream.

TTS models (``capabilities.TTS_MODELS``) return PCM16 24 kHz audio for one prebuilt voice
or a two-speaker ``multiSpeakerVoiceConfig`` (tones per voice, or espeak-ng). Any other
``gemini-*`` model returns text: the scenario's ``text_reply``, or a deterministic reply
built from the prompt (a ``Name: line`` script when the prompt asks for two hosts).
Errors use Google's JSON shape: ``{"error": {"code", "message", "status"}}``.
"""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from voicecli.live import capabilities
from voicecli.sim import fidelity
from voicecli.sim.protocol import get, get_path
from voicecli.sim.records import RestRecord
from voicecli.sim.voice import OUTPUT_RATE, PREBUILT_VOICES, synthesize, voice_frequency

if TYPE_CHECKING:
    from voicecli.sim.server import SimServer

TTS_MIME = "audio/L16;codec=pcm;rate=24000"
STREAM_CHUNK_S = 0.5
SCRIPT_WORDS = ("script", "host", "podcast", "dialogue", "dialog", "conversation", "speaker")
DEFAULT_HOSTS = ("Alex", "Sam")


class RestError(Exception):
    def __init__(self, code: int, status: str, message: str) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message

    def response(self) -> web.Response:
        body = {"error": {"code": self.code, "message": self.message, "status": self.status}}
        return web.json_response(body, status=self.code)


class RestHandler:
    def __init__(self, sim: SimServer) -> None:
        self.sim = sim

    async def handle(self, request: web.Request) -> web.StreamResponse:
        version = request.match_info["version"]
        model, _, action = request.match_info["target"].partition(":")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        rec = RestRecord(
            method=request.method,
            path=request.path_qs,
            model=model,
            action=action,
            api_key=request.headers.get("x-goog-api-key"),
            body=body,
        )
        self.sim.rest_requests.append(rec)
        try:
            chunks = await self._generate(version, model, action, rec)
        except RestError as e:
            rec.status, rec.error = e.code, e.message
            return e.response()
        if action == "generateContent":
            return web.json_response(chunks[0])
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for chunk in chunks:
            await resp.write(b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n")
        await resp.write_eof()
        return resp

    async def _generate(
        self, version: str, model: str, action: str, rec: RestRecord
    ) -> list[dict[str, Any]]:
        key, expected = rec.api_key, self.sim.scenario.api_key
        if not key or (expected is not None and key != expected):
            raise RestError(
                400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key."
            )
        if not fidelity.version_allowed(version, self.sim.scenario):  # fidelity rule 1
            raise RestError(
                404, "NOT_FOUND", f"models/{model} is not found for API version {version}."
            )
        if action not in ("generateContent", "streamGenerateContent"):
            raise RestError(404, "NOT_FOUND", f"Method {action} is not found.")
        if not isinstance(rec.body, dict):
            raise RestError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        live = {m.name for m in capabilities.all_models()}
        if not model.startswith("gemini-") or model in live:
            raise RestError(
                404,
                "NOT_FOUND",
                f"models/{model} is not found for API version {version}, or is not supported "
                f"for {action}. Call ListModels to see the list of available models and their "
                "supported methods.",
            )
        prompt = _prompt_text(rec.body)
        gen = get(rec.body, "generation_config") or {}
        modalities = [str(m).upper() for m in get(gen, "response_modalities") or ["TEXT"]]
        tts = capabilities.tts_lookup(model)
        if tts is not None:
            if modalities != ["AUDIO"]:
                raise RestError(
                    400, "INVALID_ARGUMENT", f"models/{model} only supports AUDIO output."
                )
            speech = get(gen, "speech_config")
            if tts.form is capabilities.TtsForm.VERBATIM:
                for name in fidelity.TTS_SAMPLING_FIELDS:  # fidelity rule 5
                    if get(gen, name) is not None:
                        raise RestError(
                            400, "INVALID_ARGUMENT", f"{name} is not supported for models/{model}."
                        )
                lines = _verbatim_lines(rec.body, speech)
            else:
                lines = _voice_lines(prompt, speech)
            rec.spoken = lines
            return await self._speech(lines, action, prompt)
        if "AUDIO" in modalities:
            raise RestError(
                400, "INVALID_ARGUMENT", f"models/{model} does not support AUDIO output."
            )
        text = self.sim.scenario.text_reply or text_reply(prompt)
        if action == "generateContent":
            return [
                _candidate({"text": text}, final=True, prompt=prompt, out_tokens=len(text) // 4)
            ]
        pieces = text.splitlines(keepends=True) or [text]
        return [
            _candidate({"text": line}, i == len(pieces) - 1, prompt, len(line) // 4)
            for i, line in enumerate(pieces)
        ]

    async def _speech(
        self, lines: list[tuple[str, str]], action: str, prompt: str
    ) -> list[dict[str, Any]]:
        pcm = b""
        for voice_name, line in lines:
            pcm += await synthesize(
                line, 0, None, self.sim.scenario.voice, freq_hz=voice_frequency(voice_name)
            )
        step = round(STREAM_CHUNK_S * OUTPUT_RATE) * 2
        pieces = (
            [pcm]
            if action == "generateContent"
            else [pcm[i : i + step] for i in range(0, len(pcm), step)]
        )
        out = []
        for i, piece in enumerate(pieces):
            part = {"inlineData": {"mimeType": TTS_MIME, "data": base64.b64encode(piece).decode()}}
            tokens = round(len(piece) / 2 / OUTPUT_RATE * 25)
            out.append(_candidate(part, i == len(pieces) - 1, prompt, tokens))
        return out


def _verbatim_lines(body: dict[str, Any], speech: Any) -> list[tuple[str, str]]:
    """Fidelity rule 5 (3.8 TTS): every text part is spoken as it is, directions written
    into the text included; ``speechMetadata.speaker`` picks the part's voice (it must name
    a configured speaker); ``speechMetadata.style`` is how, never what, is said."""
    voices = _speaker_voices(speech)
    single = get_path(speech, "voice_config", "prebuilt_voice_config", "voice_name")
    default = next(iter(voices.values()), None) or (_check_voice(str(single)) if single else "Kore")
    out = []
    for content in get(body, "contents") or []:
        for part in get(content, "parts") or []:
            text = get(part, "text")
            if not isinstance(text, str) or not text.strip():
                continue
            speaker = get_path(part, "speech_metadata", "speaker")
            if speaker is not None and str(speaker) not in voices:
                raise RestError(
                    400,
                    "INVALID_ARGUMENT",
                    f"speech_metadata.speaker {speaker!r} is not in multi_speaker_voice_config.",
                )
            out.append((voices[str(speaker)] if speaker is not None else default, text.strip()))
    if not out:
        raise RestError(400, "INVALID_ARGUMENT", "There is no text to synthesize.")
    return out


def _speaker_voices(speech: Any) -> dict[str, str]:
    """Speaker name -> voice of a multiSpeakerVoiceConfig; 400 for unknown voices or > 2."""
    multi = get(speech, "multi_speaker_voice_config")
    if multi is None:
        return {}
    configs = get(multi, "speaker_voice_configs") or []
    if len(configs) > 2:
        raise RestError(
            400,
            "INVALID_ARGUMENT",
            f"multi_speaker_voice_config supports at most 2 speakers; got {len(configs)}.",
        )
    voices: dict[str, str] = {}
    for cfg in configs:
        name = str(get_path(cfg, "voice_config", "prebuilt_voice_config", "voice_name") or "")
        voices[str(get(cfg, "speaker") or "")] = _check_voice(name)
    return voices


def _voice_lines(prompt: str, speech: Any) -> list[tuple[str, str]]:
    """(voice name, text) per spoken line; 400 for unknown voices or > 2 speakers."""
    if get(speech, "multi_speaker_voice_config") is not None:
        voices = _speaker_voices(speech)
        first = next(iter(voices.values()), "Kore")
        out = []
        for raw in prompt.splitlines():
            speaker, sep, text = raw.partition(":")
            if sep and speaker.strip() in voices and text.strip():
                out.append((voices[speaker.strip()], text.strip()))
            elif raw.strip():
                out.append((first, raw.strip()))
        return out or [(first, prompt)]
    name = get_path(speech, "voice_config", "prebuilt_voice_config", "voice_name")
    return [(_check_voice(str(name)) if name else "Kore", prompt)]


def _check_voice(name: str) -> str:
    if name not in PREBUILT_VOICES:
        raise RestError(
            400, "INVALID_ARGUMENT", f"Voice name {name or '(empty)'} is not supported."
        )
    return name


def _prompt_text(body: dict[str, Any]) -> str:
    texts = []
    for content in get(body, "contents") or []:
        for part in get(content, "parts") or []:
            if isinstance(get(part, "text"), str):
                texts.append(get(part, "text"))
    return "\n".join(texts)


def text_reply(prompt: str) -> str:
    """Deterministic text for a prompt: a two-host script when asked for one."""
    lower = prompt.lower()
    two = re.search(r"\b(two|2)[\s-]+(hosts?|speakers?|people|persons?|voices?)\b", lower)
    if two and any(w in lower for w in SCRIPT_WORDS):
        return two_host_script(prompt)
    first = re.split(r"(?<=[.!?])\s+", prompt.strip(), maxsplit=1)[0][:200]
    return f"This is a simulated answer to: {first}"


def two_host_script(prompt: str) -> str:
    m = re.search(r"\b(?:named|called|hosts?|between)\s+([A-Z]\w+)\s+and\s+([A-Z]\w+)", prompt)
    hosts = (m.group(1), m.group(2)) if m else DEFAULT_HOSTS
    sentences = [
        s.strip()
        for s in re.split(r"(?<=[.!?])\s+|\n+", prompt)
        if s.strip() and not any(w in s.lower() for w in SCRIPT_WORDS)
    ][:12]
    if not sentences:
        sentences = ["Welcome to the show.", "Thanks, it is great to be here."]
    return "\n".join(f"{hosts[i % 2]}: {s}" for i, s in enumerate(sentences))


def _candidate(part: dict[str, Any], final: bool, prompt: str, out_tokens: int) -> dict[str, Any]:
    cand: dict[str, Any] = {"content": {"role": "model", "parts": [part]}, "index": 0}
    if final:
        cand["finishReason"] = "STOP"
    prompt_tokens = len(prompt) // 4 + 1
    return {
        "candidates": [cand],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": out_tokens,
            "totalTokenCount": prompt_tokens + out_tokens,
        },
        "modelVersion": "voicecli-sim",
    }
