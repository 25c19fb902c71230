"""The simulator's fidelity profile: the service's least forgiving behaviour, rule by rule.

The simulator models the Gemini Developer API where it is strictest, so a client that
passes here also works against Google. Every rule below names the fact it follows
(``shared/LIVE_FACTS.md`` section, or a cited source); where a fact is uncertain, the rule
takes the less forgiving reading. The README's "Simulator fidelity" section lists the same
rules for users.

A scenario may relax one rule for one test (the scenario key is named with each rule); the
bundled scenarios and the default test path are strict.

1. Live WebSocket paths only on ``v1beta`` and ``v1alpha``; any other version is refused
   with HTTP 404 at the handshake (LIVE_FACTS "Connecting": the public Live API reference
   gives v1beta, the SDK's Live tests pin it, another version gets 404). REST
   ``generateContent`` likewise answers 404 outside those versions (the TTS and text docs
   give v1beta; whether v1 serves the preview models is uncertain, so: no).
   Relax: ``api_versions = ["v1", ...]``.
2. ``gemini-3.8-live`` (and its extended-thinking variant) ignores ``audioStreamEnd``
   (LIVE_FACTS "Audio": reported, needs trailing audio). Capability table:
   ``honours_stream_end``.
3. Server turn detection ends a turn only after >= 800 ms of trailing *audio* below the
   speech threshold, and does not honour the client's ``silenceDurationMs`` (LIVE_FACTS
   "Audio": default undocumented, ~1 s pauses close turns, python-genai issue #2580).
   Relax: ``end_silence_ms`` below 800, ``honour_silence_duration = true``.
4. No wall-clock idle end: when the audio stops, an open turn stays open (LIVE_FACTS
   "Audio": "A turn can stay open with no signal when the audio simply stops"). The turn
   detector counts audio positions only, never time.
5. The 3.8 TTS models speak the text verbatim: every text part is read aloud, direction
   words sent as text included (their transcript and audio length show it); directions go
   in ``speech_metadata.style``, speakers in ``speech_metadata.speaker`` (LIVE_FACTS
   "Models", Vertex TTS migration guide). Temperature/topP/topK fail with INVALID_ARGUMENT.
6. Messages the service sends that a client must handle: ``voiceActivity``
   (ACTIVITY_START/ACTIVITY_END with automatic detection), ``interimInputTranscription``
   while the user speaks, ``turnCompleteReason`` and ``waitingForInput`` on silent turns,
   ``interactionStatus`` (IN_PROGRESS, then IDLE) on extended-thinking models
   (LIVE_FACTS "Connecting", server message list; google-genai ``LiveServerContent``).
   Not on the 3.8 models: they send no ``voiceActivity`` (maintainers in python-genai
   #2981). Capability table: ``voice_activity``.
7. A function declared with ``parametersJsonSchema`` (and no ``parameters``) is called with
   empty arguments: Live has been reported to ignore that field (googleapis/python-genai
   #1147; livekit/agents #2940, PR #3135; gunpal5/Google_GenerativeAI #90).
8. Audio while a function call is pending (sent, not yet answered or cancelled) closes the
   session with 1008 "Operation is not implemented, or supported, or enabled." on the 2.5
   native-audio models (google/adk-python #4679, googleapis/js-genai #1236, livekit/agents
   #4545). Also on ``gemini-3.1-flash-live-preview``: it has only blocking calls (LIVE_FACTS
   "Tools"), the kind those reports are about, and no source says it takes audio during one
   (the strict reading). Capability table: ``audio_during_call``.
9. ``gemini-3.1-flash-live-preview`` takes ``clientContent`` only as initial history: any
   later ``clientContent`` closes with 1007 "Request contains an invalid argument." (live
   guide's model comparison at launch; google/adk-python #5018; livekit/agents #5251, #5262;
   later pages disagree: the strict reading). Capability table: ``client_content``.
10. A resumption handle the server does not know (never issued, expired, or from a session
   that is over) is refused at setup. The real close code is not documented: the simulator
   closes 1008 "Session not found." by default; the scenario's ``refused_handle_code`` picks
   another (LIVE_FACTS "Tools and mid-session input").
11. A 1008 or 1011 after ``setupComplete`` ends the session, not the model: the simulator
   sends them mid-session (rule 8, "Deadline expired" after a goAway) with the model known.
12. After ``interrupted`` the cut generation is closed with a ``turnComplete``, and content
    it already had in flight (the next audio chunks and their output transcription) comes
    between the two (LIVE_FACTS "Audio": clients report "interrupted -> turnComplete",
    AidenAI-IO/aiden-firmware PR #644; langwatch/scenario PR #907 drops late content until
    that ``turnComplete``). Whether it always follows is not documented: a scenario can send
    nothing after ``interrupted``. Keys: ``late_chunks`` (default 2, 0: none),
    ``turn_complete_after_interrupt = false``.
13. Silent stalls (LIVE_FACTS "Silent stalls": gemini-live-api-examples #54, #57;
    python-genai #2117; cookbook #1225; "Known user pain": poisoned handles, audio
    degenerating into a tone while output transcription stalls; issue 35). Turn faults:
    ``stall_no_reply`` (nothing at all), ``stall_mid_reply`` (the audio stops half-way, no ``turnComplete``), ``stall_empty_turn``
    (a ``turnComplete`` with no audio, text or reason), ``stall_tone`` (a steady 1 kHz tone
    with no transcript for ``stall_tone_s``), ``stall_text_only`` (output transcription, no
    audio, then a ``turnComplete``). Whether a stalled service answers anything afterwards is
    not documented; the strict reading: that connection answers nothing more (transcription
    runs, nothing is generated, no handle is issued). ``stall_scope``: ``connection``
    (default), ``turn`` (relaxed: the next input is answered), ``handle`` (stricter: resumed
    connections stay stuck; only a new session answers).
14. Search grounding: with a ``googleSearch`` tool in the setup, a turn's ``sources`` come as
    ``serverContent.groundingMetadata`` (``groundingChunks[].web.{uri,title}``,
    ``webSearchQueries``; google-genai ``types.py`` ``GroundingMetadata``), in their own
    message after the reply's audio and before ``generationComplete`` (when it comes is not
    documented: late, so a client must keep it for the turn); ``urls`` as
    ``urlContextMetadata`` with a ``urlContext`` tool. None without the tool.
"""

from __future__ import annotations

from typing import Any

LIVE_VERSIONS = ("v1beta", "v1alpha")  # rule 1
SERVER_END_SILENCE_MS = 800  # rule 3: the shortest trailing silence that ends a turn
TTS_SAMPLING_FIELDS = ("temperature", "top_p", "top_k")  # rule 5: refused by 3.8 TTS
AUDIO_DURING_CALL_REASON = "Operation is not implemented, or supported, or enabled."  # rule 8
CLIENT_CONTENT_REASON = "Request contains an invalid argument."  # rule 9
REFUSED_HANDLE_CODE = 1008  # rule 10: the default (the real code is not documented)
REFUSED_HANDLE_REASON = "Session not found."


def empty_args(name: str, info: Any) -> bool:
    """Rule 7: is ``name`` declared with parametersJsonSchema (its call gets no arguments)?"""
    return name in getattr(info, "json_schema_tools", frozenset())


def refused_handle(scenario: Any) -> tuple[int, str]:
    """Rule 10: the close for a resumption handle the server does not know."""
    code = int(getattr(scenario, "refused_handle_code", REFUSED_HANDLE_CODE))
    return code, REFUSED_HANDLE_REASON


def version_allowed(version: str, scenario: Any) -> bool:
    """Rule 1: is ``version`` served (the scenario may add versions for one test)?"""
    allowed = getattr(scenario, "api_versions", None) or LIVE_VERSIONS
    return version in allowed


def not_found_text(version: str) -> str:
    return (
        f"API version {version} has no Live API here; the Gemini Developer API serves "
        f"BidiGenerateContent on {' and '.join(LIVE_VERSIONS)}"
    )


def end_silence_ms(client_silence_ms: int | None, scenario: Any) -> int:
    """Rule 3: trailing silence that ends a server-detected turn.

    The scenario's ``end_silence_ms`` (default 800); the client's ``silenceDurationMs`` only
    when the scenario relaxes the rule with ``honour_silence_duration``."""
    base = int(getattr(scenario, "end_silence_ms", SERVER_END_SILENCE_MS))
    if client_silence_ms is not None and getattr(scenario, "honour_silence_duration", False):
        return int(client_silence_ms)
    return base
