"""Wire format helpers: read client messages in either spelling, build server messages.

The SDK mixes snake_case and camelCase (``realtime_input`` with ``audioStreamEnd`` inside,
``proactivity: {proactive_audio: true}``) and sends base64 in the URL-safe alphabet, so
every lookup here accepts both spellings and both alphabets. Server messages are built in
the camelCase the service uses.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import Any

from voicecli.audio.format import mime_rate as mime_rate  # one parser, shared with live/

INPUT_RATE = 16000
OUTPUT_MIME = "audio/pcm;rate=24000"
TOKENS_PER_AUDIO_S = 25  # the service bills audio at 25 tokens per second


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def get(obj: Any, name: str, default: Any = None) -> Any:
    """``obj[name]`` where ``name`` is snake_case; the camelCase spelling also matches."""
    if not isinstance(obj, Mapping):
        return default
    if name in obj:
        return obj[name]
    return obj.get(camel(name), default)


def has(obj: Any, name: str) -> bool:
    return isinstance(obj, Mapping) and (name in obj or camel(name) in obj)


def get_path(obj: Any, *names: str) -> Any:
    for n in names:
        obj = get(obj, n)
        if obj is None:
            return None
    return obj


def b64decode(data: str) -> bytes:
    """Decode base64 in the standard or URL-safe alphabet, padded or not."""
    s = data.strip().replace("-", "+").replace("_", "/")
    s += "=" * (-len(s) % 4)
    try:
        return base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError(f"invalid base64 data: {e}") from e


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def close_reason(text: str, limit: int = 123) -> str:
    """A websocket close reason cut to ``limit`` UTF-8 bytes."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[:limit].decode("utf-8", errors="ignore")


def message_kind(msg: Mapping[str, Any]) -> str:
    for k in ("setup", "realtime_input", "client_content", "tool_response", "context_update"):
        if has(msg, k):
            return k
    return "unknown:" + ",".join(sorted(msg))[:40]


def encode(msg: Mapping[str, Any]) -> bytes:
    return json.dumps(msg, separators=(",", ":")).encode("utf-8")


# ---- server messages -------------------------------------------------------------------


def setup_complete() -> dict[str, Any]:
    return {"setupComplete": {}}


def server_content(**fields: Any) -> dict[str, Any]:
    return {"serverContent": {camel(k): v for k, v in fields.items() if v is not None}}


def audio_chunk(pcm: bytes) -> dict[str, Any]:
    part = {"inlineData": {"mimeType": OUTPUT_MIME, "data": b64encode(pcm)}}
    return server_content(model_turn={"parts": [part]})


def text_part(text: str) -> dict[str, Any]:
    return server_content(model_turn={"parts": [{"text": text}]})


def input_transcription(text: str, finished: bool = True) -> dict[str, Any]:
    return server_content(input_transcription={"text": text, "finished": finished})


def output_transcription(text: str) -> dict[str, Any]:
    return server_content(output_transcription={"text": text})


def interim_input_transcription(text: str) -> dict[str, Any]:
    return server_content(interim_input_transcription={"text": text})


def voice_activity(kind: str, audio_offset_s: float) -> dict[str, Any]:
    """``kind``: ACTIVITY_START | ACTIVITY_END (server-side detection saw it). On the wire
    the field is ``type`` (google-genai's ``_VoiceActivity_from_mldev``)."""
    return {"voiceActivity": {"type": kind, "audioOffset": duration(audio_offset_s)}}


def interrupted() -> dict[str, Any]:
    return server_content(interrupted=True)


def grounding(sources: list[dict[str, Any]], queries: list[str]) -> dict[str, Any]:
    """``serverContent.groundingMetadata`` of a search-grounded reply (google-genai
    ``GroundingMetadata``: ``groundingChunks[].web.{uri,title}``, ``webSearchQueries``)."""
    chunks = [
        {"web": {"uri": str(x.get("uri", "")), "title": str(x.get("title", ""))}} for x in sources
    ]
    return server_content(
        grounding_metadata={"groundingChunks": chunks, "webSearchQueries": queries}
    )


def url_context(urls: list[str]) -> dict[str, Any]:
    """``serverContent.urlContextMetadata`` (google-genai ``UrlContextMetadata``)."""
    meta = [{"retrievedUrl": u, "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_SUCCESS"} for u in urls]
    return server_content(url_context_metadata={"urlMetadata": meta})


def generation_complete() -> dict[str, Any]:
    return server_content(generation_complete=True)


def usage(prompt_audio_s: float, prompt_text_tokens: int, response_audio_s: float) -> dict:
    audio_in = round(prompt_audio_s * TOKENS_PER_AUDIO_S)
    audio_out = round(response_audio_s * TOKENS_PER_AUDIO_S)
    prompt = audio_in + prompt_text_tokens
    details = []
    if audio_in:
        details.append({"modality": "AUDIO", "tokenCount": audio_in})
    if prompt_text_tokens:
        details.append({"modality": "TEXT", "tokenCount": prompt_text_tokens})
    return {
        "promptTokenCount": prompt,
        "responseTokenCount": audio_out,
        "totalTokenCount": prompt + audio_out,
        "promptTokensDetails": details,
        "responseTokensDetails": [{"modality": "AUDIO", "tokenCount": audio_out}],
    }


def turn_complete(
    usage_metadata: dict[str, Any] | None = None,
    reason: str | None = None,
    waiting_for_input: bool | None = None,
    interaction_status: str | None = None,
) -> dict[str, Any]:
    msg = server_content(
        turn_complete=True,
        turn_complete_reason=reason,
        waiting_for_input=waiting_for_input,
        interaction_status=interaction_status,
    )
    if usage_metadata is not None:
        msg["usageMetadata"] = usage_metadata
    return msg


def tool_call(calls: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "toolCall": {
            "functionCalls": [
                {"id": c["id"], "name": c["name"], "args": dict(c.get("args") or {})} for c in calls
            ]
        }
    }


def tool_call_cancellation(ids: Sequence[str]) -> dict[str, Any]:
    return {"toolCallCancellation": {"ids": list(ids)}}


def duration(seconds: float) -> str:
    """A protobuf Duration string: 5 -> "5s", 0.5 -> "0.500s"."""
    if float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{seconds:.3f}s"


def go_away(time_left_s: float) -> dict[str, Any]:
    return {"goAway": {"timeLeft": duration(time_left_s)}}


def resumption_update(handle: str | None, resumable: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"resumable": resumable}
    if handle is not None:
        body["newHandle"] = handle
    return {"sessionResumptionUpdate": body}
