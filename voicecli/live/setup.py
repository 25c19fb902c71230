"""Build the session's LiveConnectConfig from our Settings and the model's capabilities.

This and ``transport.py`` are the only modules that import google-genai types.
"""

from __future__ import annotations

from typing import Any

from google.genai import types

from voicecli.config import Settings
from voicecli.live.capabilities import ModelCaps, resolve


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


def build_config(
    settings: Settings,
    caps: ModelCaps,
    *,
    extra_instructions: str | None = None,
    tools: list[Any] | None = None,
    resumption_handle: str | None = None,
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
    realtime = None
    if settings.turn_detection == "manual":
        realtime = types.RealtimeInputConfig(
            automatic_activity_detection=types.AutomaticActivityDetection(disabled=True)
        )
    text = instructions(settings, extra_instructions)
    return types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        speech_config=speech,
        system_instruction=types.Content(parts=[types.Part(text=text)]) if text else None,
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
        proactivity=(
            types.ProactivityConfig(proactive_audio=feats.proactive_audio)
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
    )
