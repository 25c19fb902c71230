"""Events as JSON-ready dicts: one schema for ``--json`` output and ``--transcript`` files.

Every record has ``type`` and ``t`` (seconds since the session started). Audio bytes are
never serialized (an ``audio`` record carries only its duration).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from voicecli.live import events as ev

_NAMES: dict[type, str] = {
    ev.SetupDone: "session_start",
    ev.AudioChunk: "audio",
    ev.InputTranscript: "user_partial",
    ev.InterimInputTranscript: "user_interim",
    ev.OutputTranscript: "model_partial",
    ev.ModelText: "model_text",
    ev.Interrupted: "interrupted",
    ev.GenerationComplete: "generation_complete",
    ev.TurnComplete: "turn_complete",
    ev.ToolCall: "tool_call",
    ev.ToolCallCancellation: "tool_cancel",
    ev.Usage: "usage",
    ev.GoAway: "go_away",
    ev.ResumptionUpdate: "resumption",
    ev.VoiceActivity: "voice_activity",
    ev.UserSpeechStarted: "user_speech_start",
    ev.UserSpeechEnded: "user_speech_end",
    ev.UserText: "user_text",
    ev.TurnEnded: "turn",
    ev.ToolResults: "tool_result",
    ev.Notice: "notice",
    ev.MuteChanged: "mute",
    ev.TurnHold: "turn_hold",
    ev.Reconnect: "reconnect",
    ev.ContextChange: "context_update",
    ev.Continued: "continued",
    ev.Stall: "stall",
    ev.Sources: "sources",
}

# Kinds a transcript file keeps (partials and audio are for live views only).
TRANSCRIPT_KINDS = frozenset(
    {
        "session_start",
        "interrupted",
        "tool_call",
        "tool_cancel",
        "tool_result",
        "usage",
        "go_away",
        "user_speech_start",
        "user_speech_end",
        "user_text",
        "turn",
        "notice",
        "mute",
        "reconnect",
        "context_update",
        "continued",
        "stall",
        "sources",
        "session_end",
    }
)


def kind(event: object) -> str:
    return _NAMES.get(type(event), type(event).__name__.lower())


def to_record(event: object, t_rel: float | None = None) -> dict[str, Any]:
    """A JSON-ready dict for one event; ``t_rel`` replaces a monotonic ``t`` when given."""
    rec: dict[str, Any] = {"type": kind(event)}
    if isinstance(event, ev.AudioChunk):
        rec["seconds"] = round(len(event.pcm) / 2 / event.rate, 4)
        rec["rate"] = event.rate
    elif isinstance(event, ev.ToolCall):
        rec["calls"] = [{"id": c.id, "name": c.name, "args": c.args} for c in event.calls]
    elif isinstance(event, ev.ToolResults):
        rec["results"] = [
            {
                "id": r.id,
                "name": r.name,
                "status": r.status,
                "duration_s": r.duration_s,
                "response": r.response,
            }
            for r in event.results
        ]
    elif isinstance(event, ev.ToolCallCancellation):
        rec["ids"] = list(event.ids)
    elif isinstance(event, ev.Sources):
        rec["kind"] = event.kind
        rec["sources"] = [{"title": s.title, "uri": s.uri} for s in event.items]
        rec["queries"] = list(event.queries)
    elif dataclasses.is_dataclass(event):
        for f in dataclasses.fields(event):
            if f.name not in ("t", "span"):  # span: the recording's timeline, for history
                rec[f.name] = getattr(event, f.name)
    t = getattr(event, "t", None) if t_rel is None else t_rel
    if t is not None:
        rec["t"] = round(float(t), 3)
    return rec


def dumps(record: dict[str, Any]) -> str:
    """One record as one line (newlines inside strings are escaped by JSON itself)."""
    return json.dumps(record, ensure_ascii=False, default=str, separators=(",", ":"))
