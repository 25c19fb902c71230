"""The speech package's only contact with google-genai: requests out, audio pieces back.

``SpeechClient`` builds ``GenerateContentConfig`` for one voice or two speakers, calls
``generateContent`` or ``streamGenerateContent``, hands back our own ``AudioPiece`` objects
and turns every SDK, HTTP and network failure (and a model that refuses to speak) into a
``VoicecliError``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from voicecli.config import redact
from voicecli.errors import (
    AuthError,
    ModelError,
    NetworkError,
    ServerError,
    SessionTimeout,
    UsageError,
    VoicecliError,
)
from voicecli.speech.prompt import TtsRequest

log = logging.getLogger(__name__)

DEFAULT_RATE = 24000
# Finish reasons that mean "the model would not say this" rather than "done".
_REFUSALS = {
    "SAFETY",
    "RECITATION",
    "LANGUAGE",
    "OTHER",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
}


class SpeechRefused(ServerError):
    """The model answered without (all of) the audio: blocked, or text instead of speech."""


@dataclass(frozen=True)
class AudioPiece:
    pcm: bytes  # PCM16 LE mono
    rate: int


@dataclass
class _Outcome:
    """What a response (or a whole stream) said besides the audio."""

    audio_bytes: int = 0
    finish: str | None = None
    blocked: str | None = None
    text: list[str] = field(default_factory=list)

    def check(self, what: str, produced: int | None = None) -> None:
        """Raise SpeechRefused when the answer is not (complete) speech; ``produced`` is
        how much of the wanted output came (default: the audio bytes)."""
        produced = self.audio_bytes if produced is None else produced
        if self.blocked:
            raise SpeechRefused(
                f"the model refused {what} (prompt blocked: {self.blocked})",
                "rephrase the text",
            )
        if self.finish in _REFUSALS:
            done = "stopped part-way through" if produced else "refused"
            raise SpeechRefused(
                f"the model {done} {what} (finish reason {self.finish})",
                "rephrase the text or try another voice",
            )
        if not produced:
            said = " ".join(self.text).strip()
            detail = f"; it wrote: {said[:80]!r}" if said else ""
            raise SpeechRefused(
                f"the model returned no audio for {what}{detail}",
                "use a TTS model (`--model gemini-3.8-flash-tts`) and plain text to read",
            )


def rate_of(mime: str | None) -> int:
    """Sample rate from ``audio/L16;codec=pcm;rate=24000`` (24 kHz when not stated)."""
    m = re.search(r"rate=(\d+)", mime or "")
    return int(m.group(1)) if m else DEFAULT_RATE


def _voice(name: str) -> types.VoiceConfig:
    return types.VoiceConfig(prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=name))


def speech_config(req: TtsRequest) -> types.SpeechConfig:
    """One prebuilt voice, or a MultiSpeakerVoiceConfig naming every speaker."""
    if req.speakers:
        return types.SpeechConfig(
            multi_speaker_voice_config=types.MultiSpeakerVoiceConfig(
                speaker_voice_configs=[
                    types.SpeakerVoiceConfig(speaker=s.name, voice_config=_voice(s.voice))
                    for s in req.speakers
                ]
            )
        )
    return types.SpeechConfig(voice_config=_voice(req.voice) if req.voice else None)


def contents(req: TtsRequest) -> str | types.Content:
    """Verbatim form: one user content, a part per turn (or chunk) with its words and
    ``speech_metadata`` (style, speaker). Prompt form: the prompt text."""
    if not req.parts:
        return req.prompt
    parts = []
    for p in req.parts:
        meta = (
            types.SpeechMetadata(style=p.style, speaker=p.speaker) if p.style or p.speaker else None
        )
        parts.append(types.Part(text=p.text, speech_metadata=meta))
    return types.Content(role="user", parts=parts)


class SpeechClient:
    """Text in, audio (or a script) out, through one google-genai client."""

    def __init__(
        self,
        client: genai.Client,
        *,
        timeout_s: float = 120.0,
        attempts: int = 2,
        key: str | None = None,
    ) -> None:
        self._client = client
        self._key = key
        self._http = types.HttpOptions(
            timeout=int(timeout_s * 1000),
            retry_options=types.HttpRetryOptions(
                attempts=max(1, attempts), initial_delay=0.5, max_delay=4.0, jitter=0.2
            ),
        )
        self.timeout_s = timeout_s

    def _tts_config(self, req: TtsRequest) -> types.GenerateContentConfig:
        return types.GenerateContentConfig(
            response_modalities=["AUDIO"], speech_config=speech_config(req), http_options=self._http
        )

    async def stream(self, req: TtsRequest) -> AsyncIterator[AudioPiece]:
        """Audio pieces as ``streamGenerateContent`` delivers them."""
        outcome = _Outcome()
        async with self._errors():
            responses = await self._client.aio.models.generate_content_stream(
                model=req.model, contents=contents(req), config=self._tts_config(req)
            )
            async for resp in responses:
                for piece in _take(resp, outcome):
                    yield piece
        outcome.check("to speak the text")

    async def generate(self, req: TtsRequest) -> list[AudioPiece]:
        """All audio of one ``generateContent`` answer."""
        outcome = _Outcome()
        async with self._errors():
            resp = await self._client.aio.models.generate_content(
                model=req.model, contents=contents(req), config=self._tts_config(req)
            )
        pieces = list(_take(resp, outcome))
        outcome.check("to speak the text")
        return pieces

    async def write(self, model: str, prompt: str, system: str | None = None) -> str:
        """Text from a text model (for the overview script)."""
        config = types.GenerateContentConfig(
            system_instruction=system, response_modalities=["TEXT"], http_options=self._http
        )
        async with self._errors():
            resp = await self._client.aio.models.generate_content(
                model=model, contents=prompt, config=config
            )
        outcome = _Outcome()
        list(_take(resp, outcome))
        text = "".join(outcome.text).strip()
        if not text and not outcome.blocked and outcome.finish not in _REFUSALS:
            raise SpeechRefused("the text model returned an empty answer", "try again")
        outcome.check("to write the script", produced=len(text))
        return text

    async def aclose(self) -> None:
        try:
            await self._client.aio.aclose()
        except Exception as e:  # closing must not mask the real outcome
            log.debug("closing the client failed: %s", e)

    def _errors(self) -> _ErrorMap:
        return _ErrorMap(self._key, self.timeout_s)


def _take(resp: types.GenerateContentResponse, outcome: _Outcome) -> Iterable[AudioPiece]:
    feedback = resp.prompt_feedback
    if feedback is not None and feedback.block_reason:
        outcome.blocked = _name(feedback.block_reason)
    for cand in resp.candidates or ():
        if cand.finish_reason:
            outcome.finish = _name(cand.finish_reason)
        parts = cand.content.parts if cand.content and cand.content.parts else []
        for part in parts:
            blob = part.inline_data
            if blob is not None and blob.data and (blob.mime_type or "").startswith("audio/"):
                outcome.audio_bytes += len(blob.data)
                yield AudioPiece(blob.data, rate_of(blob.mime_type))
            elif part.text and not part.thought:
                outcome.text.append(part.text)
        break  # the first candidate only


def _name(value: Any) -> str:
    return str(getattr(value, "value", value))


class _ErrorMap:
    """``async with``: SDK, HTTP and network exceptions -> VoicecliError (one line)."""

    def __init__(self, key: str | None, timeout_s: float) -> None:
        self.key, self.timeout_s = key, timeout_s

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: Any
    ) -> bool:
        if e is None or isinstance(e, (VoicecliError, asyncio.CancelledError)):
            return False
        mapped = map_error(e, self.key, self.timeout_s)
        if mapped is None:
            return False
        raise mapped from e


def map_error(e: BaseException, key: str | None, timeout_s: float) -> VoicecliError | None:
    """Our error for a failure of a REST call; None for exceptions that are bugs."""
    if isinstance(e, genai_errors.APIError):
        return map_http(e.code, str(e.message or e.status or e), key)
    if isinstance(e, TimeoutError):
        return SessionTimeout(
            f"no answer from the server within {timeout_s:.0f} s", "try again or raise --timeout"
        )
    if isinstance(e, aiohttp.ClientConnectorCertificateError):
        return NetworkError(
            f"TLS certificate not trusted: {redact(str(e.certificate_error), key)}",
            "point SSL_CERT_FILE or ca_file at the server's CA",
        )
    if isinstance(e, ssl.SSLError):
        return NetworkError(f"TLS failure: {e}", "check the endpoint and its certificate")
    if isinstance(e, (aiohttp.ClientError, OSError)):
        detail = redact(str(e), key) or type(e).__name__
        return NetworkError(f"network error: {detail[:160]}", "check the network or --base-url")
    if isinstance(e, ValueError) and type(e).__module__.startswith(("pydantic", "google")):
        return UsageError(f"the request was refused before sending: {redact(str(e), key)[:160]}")
    return None


def map_http(code: int | None, message: str, key: str | None) -> VoicecliError:
    low = message.lower()  # decide on the server's words, show them redacted
    msg = " ".join(redact(message, key).split())[:200] or "no details"
    if code in (401, 403) or (code == 400 and "api key" in low):
        return AuthError(f"the server rejected the API key ({code}: {msg})", "check GEMINI_API_KEY")
    if code == 400 and "speaker" in low:
        return UsageError(
            f"the server refused the speakers ({msg})", "use two --speaker Name=Voice"
        )
    if code == 400 and "voice" in low:
        return UsageError(f"the server refused the voice ({msg})", "`voicecli voices` lists them")
    if code == 404:
        return ModelError(f"model not found ({msg})", "check --model / --text-model")
    if code == 429:
        return ServerError(f"rate limit or quota reached (429: {msg})", "wait a little, try again")
    if code == 400:
        return ServerError(f"the server refused the request (400: {msg})", "--debug shows more")
    return ServerError(f"the server failed ({code}: {msg})", "try again")
