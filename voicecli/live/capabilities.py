"""What each model can do, in one table, checked before connecting.

Facts from ``shared/LIVE_FACTS.md`` (late 2026). A combination the model cannot take is
refused here with a clear message instead of a websocket close later.

The table also says where each model is reached: the Developer API serves the Live
WebSocket only on ``v1beta`` (``v1alpha`` for preview features such as ephemeral tokens),
while google-genai 3.x defaults the Developer API to ``v1``, so every Developer model names
its version here; Vertex models name none (the SDK's default, ``v1beta1``). The TTS table
says which request form a speech model takes (the words verbatim with directions in
``speech_metadata``, or a natural-language prompt).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from voicecli.errors import ModelError, UsageError

# The Developer API serves Live only on v1beta (LIVE_FACTS "Connecting"; the public Live API
# reference; google-genai's own Live tests pin it). Ephemeral tokens need v1alpha.
LIVE_API_VERSION = "v1beta"
EPHEMERAL_API_VERSION = "v1alpha"
# REST generateContent for TTS and text models: the speech-generation and text-generation
# docs give v1beta (the preview TTS models are not served on v1).
REST_API_VERSION = "v1beta"


class Support(Enum):
    NO = "no"  # must not be sent
    ALWAYS = "always"  # always on; sending false is an error
    CONFIGURABLE = "configurable"
    DEFAULT_ON = "default-on"  # on unless turned off


class Thinking(Enum):
    NONE = "none"
    LEVEL = "level"  # thinking_level
    BUDGET = "budget"  # thinking_budget (tokens)


@dataclass(frozen=True)
class ModelCaps:
    name: str
    api: str  # "developer" | "vertex"
    proactive_audio: Support
    affective_dialog: Support
    thinking: Thinking
    honours_stream_end: bool  # False: needs trailing audio for its own turn detection
    stable: bool = True
    note: str = ""
    non_blocking_tools: bool = True  # takes NON_BLOCKING declarations and response scheduling
    # sends interactionStatus (IN_PROGRESS while reasoning in the background, then IDLE)
    interaction_status: bool = False
    # API version of the Live WebSocket path; None: the SDK's default (Vertex)
    api_version: str | None = LIVE_API_VERSION
    # takes contextUpdate (instructions, tools) mid-session. LIVE_FACTS lists
    # send_context_update with the google-genai >= 3.4 fields without naming models: the
    # less forgiving reading is that the 2.5 generation does not take it.
    context_update: bool = True
    media_resolution: bool = True  # takes generationConfig.mediaResolution (video and images)
    # takes realtimeInput.audio while a function call is pending; False: the session is
    # closed with 1008 (2.5 native audio: adk-python #4679, js-genai #1236, livekit #4545),
    # so the microphone is held until the call is answered
    audio_during_call: bool = True
    # takes clientContent after the initial history; False: 1007 (3.1 at launch; adk-python
    # #5018, livekit #5251/#5262): text goes as realtimeInput.text
    client_content: bool = True
    voice_activity: bool = True  # sends voiceActivity (3.8 does not: python-genai #2981)


DEFAULT_MODEL = "gemini-3.8-live"

_MODELS: tuple[ModelCaps, ...] = (
    ModelCaps(
        "gemini-3.8-live",
        "developer",
        Support.ALWAYS,
        Support.NO,
        Thinking.NONE,
        honours_stream_end=False,
        note="stable; proactive audio always on",
        voice_activity=False,
    ),
    ModelCaps(
        "gemini-3.8-live-extended-thinking",
        "developer",
        Support.ALWAYS,
        Support.NO,
        Thinking.LEVEL,
        honours_stream_end=False,
        interaction_status=True,
        voice_activity=False,
    ),
    ModelCaps(
        "gemini-3.1-flash-live-preview",
        "developer",
        Support.NO,
        Support.NO,
        Thinking.LEVEL,
        honours_stream_end=True,
        stable=False,
        note="no proactive audio; synchronous tool calls only",
        non_blocking_tools=False,
        media_resolution=False,  # not documented for this preview: not sent (strict reading)
        client_content=False,
        # only blocking calls, the kind the 1008 was reported for on 2.5; no source says 3.1
        # takes audio during one: the strict reading
        audio_during_call=False,
    ),
    ModelCaps(
        "gemini-2.5-flash-native-audio-preview-12-2025",
        "developer",
        Support.CONFIGURABLE,
        Support.CONFIGURABLE,
        Thinking.BUDGET,
        honours_stream_end=True,
        stable=False,
        context_update=False,
        audio_during_call=False,
    ),
    ModelCaps(
        "gemini-2.5-flash-native-audio-preview-09-2025",
        "developer",
        Support.CONFIGURABLE,
        Support.CONFIGURABLE,
        Thinking.BUDGET,
        honours_stream_end=True,
        stable=False,
        context_update=False,
        audio_during_call=False,
    ),
    ModelCaps(
        "gemini-live-2.5-flash-native-audio",
        "vertex",
        Support.CONFIGURABLE,
        Support.CONFIGURABLE,
        Thinking.BUDGET,
        honours_stream_end=True,
        note="Vertex AI regional endpoints only",
        api_version=None,
        context_update=False,
        audio_during_call=False,
    ),
)

_VERTEX_38 = ModelCaps(
    "gemini-3.8-live",
    "vertex",
    Support.DEFAULT_ON,
    Support.DEFAULT_ON,
    Thinking.NONE,
    honours_stream_end=False,
    api_version=None,
    voice_activity=False,
)


class TtsForm(Enum):
    VERBATIM = "verbatim"  # the text is read as a transcript; directions in speech_metadata
    PROMPT = "prompt"  # a natural-language prompt ("Say cheerfully: ...")


@dataclass(frozen=True)
class TtsCaps:
    name: str
    form: TtsForm
    max_speakers: int = 2
    api_version: str = REST_API_VERSION


# LIVE_FACTS "Models": the 3.8 TTS models read the text as a verbatim transcript (style in
# Part.speech_metadata.style, one part per turn with speech_metadata.speaker); the 2.5 models
# take the natural-language prompt form.
TTS_CAPS: tuple[TtsCaps, ...] = (
    TtsCaps("gemini-3.8-flash-tts", TtsForm.VERBATIM),
    TtsCaps("gemini-3.8-flash-lite-tts", TtsForm.VERBATIM),
    TtsCaps("gemini-2.5-flash-preview-tts", TtsForm.PROMPT),
    TtsCaps("gemini-2.5-pro-preview-tts", TtsForm.PROMPT),
)
TTS_MODELS = tuple(t.name for t in TTS_CAPS)


def tts_lookup(model: str) -> TtsCaps | None:
    """The TTS model's request form, or None for a model that is not a TTS model."""
    name = model.removeprefix("models/")
    return next((t for t in TTS_CAPS if t.name == name), None)


def live_api_version(model: str, *, vertex: bool = False, api_key: str | None = None) -> str | None:
    """The API version a Live session on ``model`` connects with (None: the SDK default)."""
    if vertex:
        return None
    if api_key and api_key.startswith("auth_tokens/"):
        return EPHEMERAL_API_VERSION
    try:
        return lookup(model, "developer").api_version
    except ModelError:  # an unknown model is refused elsewhere; connect where Live lives
        return LIVE_API_VERSION


def all_models(api: str | None = None) -> list[ModelCaps]:
    models = [*_MODELS, _VERTEX_38]
    return [m for m in models if api is None or m.api == api]


def lookup(model: str, api: str = "developer") -> ModelCaps:
    """Capabilities of ``model`` on ``api``; ModelError for a model we do not know."""
    name = model.removeprefix("models/")
    if api == "vertex" and name == _VERTEX_38.name:
        return _VERTEX_38
    for caps in _MODELS:
        if caps.name == name:
            if caps.api != api:
                raise ModelError(
                    f"model {name} is only available on the "
                    f"{'Vertex AI' if caps.api == 'vertex' else 'Gemini Developer'} API",
                    "pick a model with `voicecli models` or switch API",
                )
            return caps
    known = ", ".join(m.name for m in all_models(api))
    raise ModelError(f"unknown Live model {name!r}", f"known models: {known}")


@dataclass(frozen=True)
class Resolved:
    """What the setup should carry for the requested features (None: leave it out)."""

    proactive_audio: bool | None
    affective_dialog: bool | None
    thinking_level: str | None
    thinking_budget: int | None


def resolve(
    caps: ModelCaps,
    *,
    proactive: bool | None = None,
    affective: bool | None = None,
    thinking: str | None = None,
) -> Resolved:
    """Decide the setup fields, refusing impossible combinations before connecting.

    ``proactive``: None means "on wherever the model allows it" (voicecli's default),
    True demands it, False turns it off. ``thinking`` is a level ("minimal", "low", "medium", "high"), a token budget as digits,
    or None for the model's default.
    """
    pa: bool | None
    if caps.proactive_audio is Support.ALWAYS:
        if proactive is False:
            raise UsageError(
                f"{caps.name} always uses proactive audio; it cannot be turned off",
                "drop --no-proactive or choose a model where it is configurable",
            )
        pa = True  # always on; sending true is accepted and makes it explicit
    elif caps.proactive_audio is Support.NO:
        if proactive:
            raise UsageError(
                f"{caps.name} does not support proactive audio",
                f"use {DEFAULT_MODEL}, where it is always on",
            )
        pa = None
    elif caps.proactive_audio is Support.DEFAULT_ON:
        pa = proactive is not False
    else:
        pa = proactive is not False

    ad: bool | None = None
    if affective:
        if caps.affective_dialog is Support.NO:
            raise UsageError(
                f"{caps.name} does not support affective dialog",
                "drop --affective or use gemini-2.5-flash-native-audio-preview-12-2025",
            )
        ad = True
    elif affective is False and caps.affective_dialog is not Support.NO:
        ad = False

    level: str | None = None
    budget: int | None = None
    if thinking:
        if caps.thinking is Thinking.NONE:
            raise UsageError(
                f"{caps.name} takes no thinking configuration",
                "drop --thinking or use gemini-3.8-live-extended-thinking",
            )
        if caps.thinking is Thinking.LEVEL:
            if thinking.isdigit():
                raise UsageError(
                    f"{caps.name} takes a thinking level, not a budget",
                    "use --thinking minimal|low|medium|high",
                )
            if thinking.lower() not in ("minimal", "low", "medium", "high"):
                raise UsageError(
                    f"unknown thinking level {thinking!r}", "use minimal, low, medium or high"
                )
            level = thinking.lower()
        else:
            if not thinking.isdigit():
                raise UsageError(
                    f"{caps.name} takes a thinking budget in tokens, not a level",
                    "use --thinking 1024 (0 turns thinking off)",
                )
            budget = int(thinking)
    return Resolved(pa, ad, level, budget)
