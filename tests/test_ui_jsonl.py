"""``--json``: every event kind is exactly one JSON object per line with ``type`` and ``t``."""

from __future__ import annotations

import io
import json
import typing

from google.genai import types

from voicecli.errors import AuthError
from voicecli.live import events as ev
from voicecli.live.transport import convert
from voicecli.ui.jsonl import JsonLinesView

SAMPLES: list[object] = [
    ev.SetupDone("s-1"),
    ev.AudioChunk(bytes(960)),
    ev.InputTranscript("Hello,\ncan you", final=False),
    ev.InterimInputTranscript("Hello"),
    ev.OutputTranscript('Hi "there"'),
    ev.ModelText("thinking about it", thought=True),
    ev.Interrupted(),
    ev.GenerationComplete(),
    ev.TurnComplete("NEED_MORE_INPUT", waiting_for_input=True),
    ev.ToolCall((ev.FunctionCall("c1", "get_time", {"tz": "UTC", "nested": {"a": [1, 2]}}),)),
    ev.ToolCallCancellation(("c1",)),
    ev.Usage(10, 20, 30),
    ev.GoAway(12.5),
    ev.ResumptionUpdate("h-1", True),
    *convert(  # as a real session delivers it (kind "start")
        types.LiveServerMessage(
            voice_activity=types.VoiceActivity(
                voice_activity_type=types.VoiceActivityType.ACTIVITY_START
            )
        )
    ),
    ev.UserSpeechStarted(),
    ev.UserSpeechEnded(),
    ev.UserText("typed ✓"),
    ev.TurnEnded(1, "interrupted", "hi", "hel", 0.5, 0.3, None),
    ev.ToolResults((ev.FunctionResult("c1", "get_time", {"result": b"bytes are stringified"}),)),
    ev.Notice("muted", "warning"),
    ev.MuteChanged(True),
    ev.TurnHold("waiting"),
    ev.Reconnect("reconnecting", "GoAway", 1),
    ev.Stall("mid_reply", "resume", 2),
    ev.Sources((ev.Source("https://example.org", "Example"),), ("q",)),
    ev.ContextChange("system", "be brief", "system instructions changed"),
    ev.Continued(3, "seeded", "continuing session 3", seeded_turns=4),
]


def all_event_types() -> set[type]:
    return set(typing.get_args(ev.LiveEvent)) | set(typing.get_args(ev.LocalEvent))


def test_samples_cover_every_event_kind() -> None:
    assert {type(s) for s in SAMPLES} == all_event_types()


def test_every_event_is_one_json_object_with_type_and_t() -> None:
    out, err = io.StringIO(), io.StringIO()
    view = JsonLinesView(out, err)
    for i, event in enumerate(SAMPLES):
        view.on_event(event, i * 0.5)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(SAMPLES)  # no latency record: no audio came after a user turn end
    types = set()
    for i, line in enumerate(lines):
        rec = json.loads(line)
        assert isinstance(rec, dict)
        assert isinstance(rec["type"], str) and rec["t"] == i * 0.5
        types.add(rec["type"])
    assert len(types) == len(SAMPLES)  # every kind has its own type name
    audio = json.loads(lines[1])
    assert audio == {"type": "audio", "seconds": 0.02, "rate": 24000, "t": 0.5}  # no bytes
    assert json.loads(lines[2])["text"] == "Hello,\ncan you"
    assert err.getvalue() == ""


def test_latency_session_end_error_and_status_split() -> None:
    out, err = io.StringIO(), io.StringIO()
    view = JsonLinesView(out, err)
    view.status("voicecli: connecting")
    view.on_event(ev.UserSpeechEnded(), 1.0)
    view.on_event(ev.AudioChunk(bytes(960)), 1.42)
    view.on_event(ev.AudioChunk(bytes(960)), 1.44)
    view.on_session_end({"type": "session_end", "t": 2.0, "turns": 1})
    view.error(AuthError("API key not valid: sk-secret", "check the key"), key="sk-secret")
    recs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["type"] for r in recs] == [
        "user_speech_end",
        "audio",
        "latency",
        "audio",
        "session_end",
        "error",
    ]
    assert recs[2] == {"type": "latency", "seconds": 0.42, "t": 1.42}
    assert recs[-1] == {
        "type": "error",
        "message": "API key not valid: ***",
        "hint": "check the key",
        "exit_code": 3,
        "t": 1.44,
    }
    assert err.getvalue() == "voicecli: connecting\n"


class ClosedPipe(io.StringIO):
    def write(self, s: str) -> int:
        raise BrokenPipeError

    def fileno(self) -> int:
        raise OSError("no fd")


def test_a_closed_pipe_stops_output_quietly() -> None:
    view = JsonLinesView(ClosedPipe(), io.StringIO())
    view.on_event(ev.Notice("x"), 0.0)
    view.on_event(ev.Notice("y"), 0.1)
    assert view.closed
