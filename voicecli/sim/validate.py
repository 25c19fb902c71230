"""Setup checks with the close codes and reasons the Live service uses.

1007 (invalid argument): bad or missing API key, a field the model does not take, an
unknown setup field. 1008 (policy): unknown model or one not served by bidiGenerateContent.
An unknown resumption handle is refused in ``session.py`` (fidelity rule 10). Reasons are
at most 123 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from voicecli.errors import ModelError
from voicecli.live import capabilities as caps_table
from voicecli.live.capabilities import ModelCaps, Support, Thinking
from voicecli.sim.protocol import camel, close_reason, get, get_path, has

MEDIA_RESOLUTIONS = ("MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_MEDIUM", "MEDIA_RESOLUTION_HIGH")

BAD_KEY_REASON = "API key not valid. Please pass a valid API key."

SETUP_FIELDS = (
    "model",
    "generation_config",
    "system_instruction",
    "tools",
    "session_resumption",
    "input_audio_transcription",
    "output_audio_transcription",
    "realtime_input_config",
    "context_window_compression",
    "proactivity",
    "history_config",
    "avatar_config",
    "safety_settings",
)


@dataclass(frozen=True)
class Rejection:
    code: int
    reason: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", close_reason(self.reason))


@dataclass(frozen=True)
class SetupInfo:
    model: str  # without "models/"
    caps: ModelCaps
    automatic_activity: bool  # False: turns are bounded by activityStart/activityEnd
    silence_ms: int | None  # realtimeInputConfig.automaticActivityDetection.silenceDurationMs
    interrupts: bool  # activityHandling != NO_INTERRUPTION
    input_transcription: bool
    output_transcription: bool
    resumption: bool
    resume_handle: str | None
    # history_config.initial_history_in_client_content: clientContent is seeded history
    # until one has turnComplete (HistoryConfig in google-genai types.py; LIVE_FACTS)
    initial_history: bool = False
    system_text: str = ""  # the setup's systemInstruction text (contextUpdate replaces it)
    compression: bool = False  # contextWindowCompression was set up
    proactive_video: bool = False  # a generation may follow each received picture
    # fidelity rule 7: tools declared with parametersJsonSchema (called with empty args)
    json_schema_tools: frozenset[str] = frozenset()
    search: bool = False  # a googleSearch tool: replies with sources are grounded
    url_context: bool = False  # a urlContext tool

    @property
    def honours_stream_end(self) -> bool:
        return self.caps.honours_stream_end


def check_key(key: str | None, expected: str | None) -> Rejection | None:
    ok = bool(key) and (expected is None or key == expected)
    return None if ok else Rejection(1007, BAD_KEY_REASON)


def parse_setup(setup: Any, version: str) -> SetupInfo | Rejection:
    if not isinstance(setup, dict):
        return Rejection(1007, "Invalid JSON payload received. 'setup' must be an object.")
    known = set(SETUP_FIELDS) | {camel(f) for f in SETUP_FIELDS}
    for key in setup:
        if key not in known:
            return Rejection(
                1007,
                f"Invalid JSON payload received. Unknown name \"{key}\" at 'setup': "
                "Cannot find field.",
            )
    full = str(get(setup, "model") or "")
    name = full.removeprefix("models/")
    try:
        caps = caps_table.lookup(name, "developer")
    except ModelError:
        return Rejection(
            1008,
            f"models/{name} is not found for API version {version}, or is not supported "
            "for bidiGenerateContent",
        )
    bad = _capability_problem(setup, caps)
    if bad is not None:
        return Rejection(1007, bad)

    ric = get(setup, "realtime_input_config") or {}
    aad = get(ric, "automatic_activity_detection") or {}
    silence = get(aad, "silence_duration_ms")
    handling = str(get(ric, "activity_handling") or "")
    resumption = get(setup, "session_resumption")
    return SetupInfo(
        model=name,
        caps=caps,
        automatic_activity=not bool(get(aad, "disabled")),
        silence_ms=int(silence) if silence is not None else None,
        interrupts=handling.upper() != "NO_INTERRUPTION",
        input_transcription=has(setup, "input_audio_transcription"),
        output_transcription=has(setup, "output_audio_transcription"),
        resumption=resumption is not None,
        resume_handle=get(resumption, "handle") or None,
        initial_history=bool(
            get_path(setup, "history_config", "initial_history_in_client_content")
        ),
        system_text=content_text(get(setup, "system_instruction")),
        compression=get(setup, "context_window_compression") is not None,
        proactive_video=bool(get(get(setup, "proactivity") or {}, "proactive_video")),
        json_schema_tools=json_schema_tools(get(setup, "tools")),
        search=_has_tool(setup, "google_search"),
        url_context=_has_tool(setup, "url_context"),
    )


def json_schema_tools(tools: Any) -> frozenset[str]:
    """Names of the functions declared with ``parametersJsonSchema`` (fidelity rule 7)."""
    names = set()
    for tool in tools if isinstance(tools, list) else []:
        for decl in get(tool, "function_declarations") or []:
            if has(decl, "parameters_json_schema") and not has(decl, "parameters"):
                names.add(str(get(decl, "name") or ""))
    return frozenset(names)


def _has_tool(setup: dict[str, Any], kind: str) -> bool:
    """A ``tools[]`` entry of this kind (``googleSearch``, ``urlContext``; either spelling)."""
    tools = get(setup, "tools") or []
    return any(isinstance(t, dict) and has(t, kind) for t in tools)


def content_text(content: Any) -> str:
    """The text parts of a ``Content`` (a plain string is taken as it is)."""
    if isinstance(content, str):
        return content
    parts = get(content, "parts") or []
    return " ".join(str(get(p, "text")) for p in parts if get(p, "text") is not None)


def _capability_problem(setup: dict[str, Any], caps: ModelCaps) -> str | None:
    model = f"models/{caps.name}"
    gen = get(setup, "generation_config") or {}
    modalities = [str(m).upper() for m in get(gen, "response_modalities") or []]
    if any(m != "AUDIO" for m in modalities):
        return f"{model} is a native-audio model: response_modalities must be [AUDIO]"
    proactivity = get(setup, "proactivity")
    if proactivity is not None:
        pa = get(proactivity, "proactive_audio")
        if caps.proactive_audio is Support.ALWAYS and pa is False:
            return f"proactive_audio cannot be disabled for {model}: it is always on"
        if caps.proactive_audio is Support.NO:
            return f"proactivity is not supported for {model}"
        # ProactivityConfig.proactive_video (google-genai types.py): "This requires that
        # proactive_audio is enabled"
        if get(proactivity, "proactive_video") and not pa:
            return "proactive_video requires proactive_audio to be enabled"
    if has(gen, "enable_affective_dialog") and caps.affective_dialog is Support.NO:
        return f"enable_affective_dialog is not supported for {model}"
    thinking = get(gen, "thinking_config")
    if thinking is not None:
        if caps.thinking is Thinking.NONE:
            return f"thinking_config is not supported for {model}"
        if caps.thinking is Thinking.LEVEL and get(thinking, "thinking_budget") is not None:
            return f"{model} takes thinking_level, not thinking_budget"
        if caps.thinking is Thinking.BUDGET and get(thinking, "thinking_level") is not None:
            return f"{model} takes thinking_budget, not thinking_level"
    resolution = get(gen, "media_resolution")
    if resolution is not None:
        # the capability table says which models take it (strict: unknown -> refused)
        if not caps.media_resolution:
            return f"media_resolution is not supported for {model}"
        if str(resolution).upper() not in MEDIA_RESOLUTIONS:
            return f"Invalid value at 'setup.generation_config.media_resolution' ({resolution})"
    if get_path(setup, "realtime_input_config", "automatic_activity_detection") is not None:
        aad = get_path(setup, "realtime_input_config", "automatic_activity_detection")
        if not isinstance(aad, dict):
            return "realtime_input_config.automatic_activity_detection must be an object"
    return None
