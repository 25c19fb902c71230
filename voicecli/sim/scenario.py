"""Scenario files: what the simulated model hears, says and does, turn by turn.

A scenario is TOML or JSON. Global settings come first, then an ordered ``[[turns]]``
list consumed one entry per user turn; when it runs out, ``default_reply`` is spoken.
See ``voicecli/sim/scenarios/default.toml`` for a commented example.
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from voicecli.errors import ConfigError

# silent stalls (fidelity rule 13): no reply at all, the reply stops mid-way, an empty turnComplete, a tone
# instead of speech, transcription without audio
STALL_FAULTS = (
    "stall_no_reply",
    "stall_mid_reply",
    "stall_empty_turn",
    "stall_tone",
    "stall_text_only",
)
TURN_FAULTS = ("close_1011", "close_1007", "drop", "goaway", "garbage", *STALL_FAULTS)
STALL_SCOPES = ("turn", "connection", "handle")
GLOBAL_FAULTS = ("no_setup_reply",)
VOICES = ("auto", "espeak", "tone")


@dataclass
class ToolCallSpec:
    name: str
    args: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass
class Turn:
    heard: str | None = None  # input transcription; else "(speech 1.2 s)"
    reply: str | None = None  # spoken reply; {result}/{result.key} after tool calls
    duration_s: float | None = None  # reply audio length; else from the text length
    silent: bool = False  # proactive audio: the model chooses not to answer
    level_dbfs: float | None = None  # reply audio scaled to this RMS level (-60: near silence)
    tool_calls: list[ToolCallSpec] = field(default_factory=list)
    cancel_tool_after_ms: int | None = None  # send toolCallCancellation instead of waiting
    duplicate_tool_call: bool = False  # send the same toolCall message twice
    fault: str | None = None  # one of TURN_FAULTS, injected during this turn's reply
    # sent as groundingMetadata ({title, uri} each) when the setup declared googleSearch
    sources: list[dict[str, Any]] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)  # urlContextMetadata, with urlContext


@dataclass
class Scenario:
    name: str = "custom"
    voice: str = "auto"  # auto: espeak-ng when installed, else tones
    # fidelity rules (voicecli/sim/fidelity.py); the defaults are the strict profile
    end_silence_ms: int = 800  # trailing non-speech audio that ends a user turn (>= 800 strict)
    honour_silence_duration: bool = False  # relax: obey the client's silenceDurationMs
    api_versions: list[str] = field(default_factory=lambda: ["v1beta", "v1alpha"])
    speech_threshold_dbfs: float = -42.0  # input frames quieter than this are not speech
    latency_ms: int = 300  # from end of user turn to first reply message
    realtime: float = 1.0  # reply pacing: 1.0 real time, 2.0 twice as fast, 0 no pacing
    chunk_ms: int = 80  # reply audio chunk length (40..100 ms like the real service)
    api_key: str | None = None  # None: any non-empty key is valid
    goaway_after_s: float | None = None  # send goAway this long after setup
    goaway_time_left_s: float = 1.0  # timeLeft in goAway; then close 1011 "Deadline expired"
    max_connection_s: float | None = None  # hard connection limit (goAway before it)
    tool_timeout_s: float = 10.0  # how long to wait for a toolResponse
    default_reply: str = "You said: {heard}"
    text_reply: str | None = None  # REST text models: fixed reply (else built from prompt)
    fault: str | None = None  # one of GLOBAL_FAULTS
    handshake_status: int | None = None  # fault: answer the Live handshake with this HTTP status
    repeat_faults: bool = False  # False: a turn's fault fires once (not again after a resume)
    honour_resumption: bool = True  # False: handles are issued but every resume is refused
    refused_handle_code: int = 1008  # close code for an unknown handle (fidelity rule 10)
    resume_delay_ms: int = 0  # a resumed connection waits this long before setupComplete
    handle_ttl_s: float | None = None  # handles older than this are forgotten (None: kept)
    video_session_limit_s: float = 120.0  # session length with video, without compression
    # fidelity rule 12: after interrupted, this many chunks of the cut reply (with their
    # transcript) still come, then a turnComplete closes it (false: nothing follows)
    late_chunks: int = 2
    turn_complete_after_interrupt: bool = True
    # fidelity rule 13: after a stall fault, what stays stuck: "turn" (only that reply; the
    # next input is answered), "connection" (nothing more is answered on that connection),
    # "handle" (a resumed connection stays stuck too: only a new session answers)
    stall_scope: str = "connection"
    stall_tone_s: float = 20.0  # stall_tone: how long the tone goes on
    turns: list[Turn] = field(default_factory=list)

    def turn(self, index: int) -> Turn:
        """The scenario entry for conversation turn ``index`` (0-based)."""
        if index < len(self.turns):
            return self.turns[index]
        return Turn(reply=self.default_reply)

    @classmethod
    def from_dict(cls, data: dict[str, Any], name: str = "custom") -> Scenario:
        data = dict(data)
        turns_raw = data.pop("turns", [])
        _check_keys(data, cls, "scenario")
        if not isinstance(turns_raw, list):
            raise ConfigError("scenario: 'turns' must be a list of tables")
        turns = [_turn_from_dict(t, i) for i, t in enumerate(turns_raw)]
        data.setdefault("name", name)
        scen = cls(**data, turns=turns)
        _check_types(scen, "scenario")
        if scen.voice not in VOICES:
            raise ConfigError(f"scenario: voice must be one of {', '.join(VOICES)}")
        if scen.fault is not None and scen.fault not in GLOBAL_FAULTS:
            raise ConfigError(
                f"scenario: unknown global fault {scen.fault!r}",
                f"known: {', '.join(GLOBAL_FAULTS)}",
            )
        _check_ranges(scen, "scenario")
        if scen.stall_scope not in STALL_SCOPES:
            raise ConfigError(f"scenario: stall_scope must be one of {', '.join(STALL_SCOPES)}")
        return scen


# the values a scenario may hold (inclusive): a chunk of 0 ms, a negative duration or a
# latency of years is a mistake in the file, refused like one in a config file
_DAY = 86_400.0
_RANGES: dict[str, tuple[float, float]] = {
    "end_silence_ms": (0, 60_000),
    "speech_threshold_dbfs": (-120, 0),
    "latency_ms": (0, 60_000),
    "realtime": (0, 1000),
    "chunk_ms": (10, 1000),
    "goaway_after_s": (0, _DAY),
    "goaway_time_left_s": (0, 3600),
    "max_connection_s": (0, _DAY),
    "tool_timeout_s": (0, 3600),
    "handshake_status": (100, 599),
    "resume_delay_ms": (0, 60_000),
    "handle_ttl_s": (0, 30 * _DAY),
    "video_session_limit_s": (0, _DAY),
    "duration_s": (0, 3600),  # a turn's
    "level_dbfs": (-120, 0),
    "cancel_tool_after_ms": (0, 3_600_000),
    "late_chunks": (0, 1000),
    "stall_tone_s": (0, 3600),
    "refused_handle_code": (1000, 4999),
}


def _check_ranges(obj: Any, where: str) -> None:
    for f in fields(obj):
        bounds = _RANGES.get(f.name)
        value = getattr(obj, f.name)
        if bounds is None or value is None:
            continue
        low, high = bounds
        if not low <= value <= high:
            raise ConfigError(
                f"{where}: {f.name} must be between {low:g} and {high:g}, not {value!r}",
                "fix the scenario file (see voicecli/sim/scenarios/default.toml)",
            )


_KINDS: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "dict[str, Any]": (dict,),
}


def _check_types(obj: Any, where: str) -> None:
    """Every field has the type the dataclass declares (as a config file is checked), so a
    wrong one is refused with a line instead of leaving a turn silently unanswered."""
    for f in fields(obj):
        value = getattr(obj, f.name)
        kind = str(f.type)
        if kind.startswith("list"):
            continue  # turns and tool calls are checked one by one
        optional = kind.endswith("| None")
        base = kind.removesuffix("| None").strip()
        if value is None and optional:
            continue
        allowed = _KINDS.get(base)
        if allowed is None:
            continue
        ok = isinstance(value, allowed) and (base == "bool" or not isinstance(value, bool))
        if base == "float" and ok and not math.isfinite(value):
            ok = False
        if not ok:
            want = {"str": "a string", "int": "an integer", "float": "a number"}.get(
                base, f"a {base.split('[')[0]}"
            )
            raise ConfigError(
                f"{where}: {f.name} must be {want}, not {value!r}",
                "fix the scenario file (see voicecli/sim/scenarios/default.toml)",
            )


def _check_keys(data: dict[str, Any], cls: type, where: str) -> None:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}",
            f"known keys: {', '.join(sorted(known))}",
        )


def _turn_from_dict(raw: Any, index: int) -> Turn:
    where = f"scenario turn {index + 1}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table")
    raw = dict(raw)
    calls_raw = raw.pop("tool_calls", [])
    _check_keys(raw, Turn, where)
    calls = []
    for c in calls_raw:
        if not isinstance(c, dict) or "name" not in c:
            raise ConfigError(f"{where}: each tool call needs a name")
        _check_keys(c, ToolCallSpec, f"{where} tool call")
        call = ToolCallSpec(**c)
        _check_types(call, f"{where} tool call")
        calls.append(call)
    turn = Turn(**raw, tool_calls=calls)
    _check_types(turn, where)
    _check_ranges(turn, where)
    if turn.fault is not None and turn.fault not in TURN_FAULTS:
        raise ConfigError(
            f"{where}: unknown fault {turn.fault!r}", f"known: {', '.join(TURN_FAULTS)}"
        )
    return turn


def bundled_scenarios() -> list[str]:
    """Names of the scenarios shipped in ``voicecli/sim/scenarios``."""
    folder = resources.files("voicecli.sim") / "scenarios"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def load_scenario(source: str | Path | None = None) -> Scenario:
    """Load a scenario from a path, a bundled name ("default", "tools", ...) or None."""
    if source is None:
        source = "default"
    path = Path(source)
    if not path.exists() and str(source) in bundled_scenarios():
        text = (resources.files("voicecli.sim") / "scenarios" / f"{source}.toml").read_text()
        return Scenario.from_dict(_parse(text, "toml", str(source)), name=str(source))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(
            f"cannot read scenario {source}: {e.strerror}",
            f"bundled scenarios: {', '.join(bundled_scenarios())}",
        ) from e
    except UnicodeDecodeError:
        raise ConfigError(f"scenario {source} is not UTF-8 text", "save it as UTF-8") from None
    kind = "json" if path.suffix.lower() == ".json" else "toml"
    return Scenario.from_dict(_parse(text, kind, str(path)), name=path.stem)


def _parse(text: str, kind: str, where: str) -> dict[str, Any]:
    try:
        data = json.loads(text) if kind == "json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"scenario {where} is not valid {kind.upper()}: {e}") from e
    except RecursionError:
        raise ConfigError(f"scenario {where} is nested too deeply to read") from None
    except ValueError:  # an integer of thousands of digits (Python's limit is 4300)
        raise ConfigError(f"scenario {where} holds a number too long to read") from None
    if not isinstance(data, dict):
        raise ConfigError(f"scenario {where} must be a table/object at the top level")
    return data
