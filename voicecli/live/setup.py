"""Build the session's LiveConnectConfig from our Settings and the model's capabilities.

This and ``transport.py`` are the only modules that import google-genai types.
"""

from __future__ import annotations

from typing import Any

from google.genai import types

from voicecli.config import Settings
from voicecli.errors import UsageError
from voicecli.live.capabilities import ModelCaps, resolve

# Server detection when the gate does not say how long its hangover is (``--vad off``).
DEFAULT_SILENCE_MS = 500


def turn_mode(settings: Settings) -> str:
    """``client``: voicecli's gate bounds each turn with activityStart/activityEnd (automatic
    activity detection disabled); ``server``: the server's detection ends turns. Without a
    gate (``--vad off``, everything streamed) only the server can end a turn."""
    if settings.vad == "off":
        return "server"
    return "server" if settings.turn_detection == "server" else "client"


def realtime_input_config(
    settings: Settings, silence_ms: int | None = None
) -> types.RealtimeInputConfig:
    """Client turns: automatic detection off. Server turns: on, with an explicit
    ``silenceDurationMs`` (the server default is undocumented; the client still streams
    until the server ends the turn, since the setting is reported as not honoured)."""
    if turn_mode(settings) == "client":
        return types.RealtimeInputConfig(
            automatic_activity_detection=types.AutomaticActivityDetection(disabled=True)
        )
    silence = silence_ms if silence_ms is not None else settings.hangover_ms
    return types.RealtimeInputConfig(
        automatic_activity_detection=types.AutomaticActivityDetection(
            disabled=False,
            silence_duration_ms=silence if silence is not None else DEFAULT_SILENCE_MS,
        )
    )


_MEDIA_RESOLUTION = {
    "low": types.MediaResolution.MEDIA_RESOLUTION_LOW,
    "medium": types.MediaResolution.MEDIA_RESOLUTION_MEDIUM,
    "high": types.MediaResolution.MEDIA_RESOLUTION_HIGH,
}


def media_resolution(settings: Settings, caps: ModelCaps) -> types.MediaResolution | None:
    """``--media-resolution`` for models that take it (the capability table); else refused."""
    if settings.media_resolution is None:
        return None
    if not caps.media_resolution:
        raise UsageError(
            f"{caps.name} does not take --media-resolution",
            "drop it, or use gemini-3.8-live",
        )
    return _MEDIA_RESOLUTION[settings.media_resolution]


def instructions(settings: Settings, extra: str | None = None) -> str | None:
    """System instructions: the user's text, then the delivery style, then mode extras."""
    parts = []
    if settings.system:
        parts.append(settings.system.strip())
    if extra:
        parts.append(extra.strip())
    if settings.style:
        parts.append(f"Speak in this style: {settings.style.strip()}.")
    return "\n\n".join(parts) or None


def proactive_video(settings: Settings, proactive_audio: bool | None) -> bool | None:
    """``--proactive-video``: a generation may follow any new picture; the SDK documents
    that it requires proactive audio, so it is refused without it."""
    if not settings.proactive_video:
        return None
    if not proactive_audio:
        raise UsageError(
            "--proactive-video needs proactive audio",
            "drop --no-proactive, or use a model with proactive audio (gemini-3.8-live)",
        )
    return True


def build_config(
    settings: Settings,
    caps: ModelCaps,
    *,
    extra_instructions: str | None = None,
    tools: list[Any] | None = None,
    resumption_handle: str | None = None,
    silence_ms: int | None = None,
    seed_history: bool = False,
) -> types.LiveConnectConfig:
    """The setup for one connection. Raises UsageError for impossible combinations."""
    feats = resolve(
        caps, proactive=settings.proactive, affective=settings.affective, thinking=settings.thinking
    )
    speech: types.SpeechConfig | None = None
    if settings.voice or settings.language:
        speech = types.SpeechConfig(
            voice_config=(
                types.VoiceConfig(
                    prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=settings.voice)
                )
                if settings.voice
                else None
            ),
            language_code=settings.language,
        )
    thinking = None
    if feats.thinking_level is not None:
        thinking = types.ThinkingConfig(thinking_level=feats.thinking_level.upper())  # type: ignore[arg-type]
    elif feats.thinking_budget is not None:
        thinking = types.ThinkingConfig(thinking_budget=feats.thinking_budget)
    realtime = realtime_input_config(settings, silence_ms)
    text = instructions(settings, extra_instructions)
    return types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        speech_config=speech,
        system_instruction=types.Content(parts=[types.Part(text=text)]) if text else None,
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
        proactivity=(
            types.ProactivityConfig(
                proactive_audio=feats.proactive_audio,
                proactive_video=proactive_video(settings, feats.proactive_audio),
            )
            if feats.proactive_audio is not None
            else None
        ),
        enable_affective_dialog=feats.affective_dialog,
        thinking_config=thinking,
        realtime_input_config=realtime,
        session_resumption=(
            types.SessionResumptionConfig(handle=resumption_handle) if settings.resume else None
        ),
        context_window_compression=(
            types.ContextWindowCompressionConfig(sliding_window=types.SlidingWindow())
            if settings.context_compression
            else None
        ),
        tools=tools or None,
        # --continue without a usable handle: the earlier turns go in as initial history
        history_config=(
            types.HistoryConfig(initial_history_in_client_content=True) if seed_history else None
        ),
        media_resolution=media_resolution(settings, caps),
    )


def history_turns(turns: list[tuple[str, str]]) -> list[types.Content]:
    """(role, text) pairs as the ``Content`` list of a ``clientContent`` message."""
    return [types.Content(role=role, parts=[types.Part(text=text)]) for role, text in turns]


def instruction_content(text: str | None) -> types.Content:
    """A system instruction for ``send_context_update`` (empty text: no instructions)."""
    return types.Content(parts=[types.Part(text=text or "")])
