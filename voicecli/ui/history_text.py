"""``voicecli history`` output: the session list, one session, search hits, md/json export.

Pure functions over what ``history.HistoryStore`` returns, so tests check exact text.
"""

from __future__ import annotations

import json
import time
from typing import Any

from voicecli.pricing import Tokens, money
from voicecli.safe_text import visible
from voicecli.ui.status import clock


def _when(unix: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(unix)) if unix else "-"


def session_list(rows: list[dict[str, Any]], width: int | None = None) -> list[str]:
    """One line per session; ids and models are never cut. With ``width`` (a terminal's),
    the less useful columns go first and the first words are shortened to fit."""
    if not rows:
        return ["no conversations stored yet"]
    from voicecli.ui.tables import plain_columns

    headers = ("id", "started", "what", "via", "outcome", "model", "turns", "duration")
    table = [
        (
            r["id"], _when(r["started_at"]), r.get("command") or "talk", via(r), outcome(r),
            r["model"] or "-", r["turns"], clock(r["duration_s"] or 0),
            " ".join((r["first_words"] or "").split()),
        )
        for r in rows
    ]  # fmt: skip
    return plain_columns(
        (*headers, "first words"),
        table,
        right=(0, 6, 7),
        width=width,
        drop=(3, 2, 7, 6, 1),
        squeeze_last=True,
    )


def via(row: dict[str, Any]) -> str:
    """``sim`` (the built-in simulator) or ``real`` (any other endpoint)."""
    return "sim" if row.get("sim") else "real"


def outcome(row: dict[str, Any]) -> str:
    """``ok``, ``error:KIND`` (auth, network ...) or ``running`` (no end recorded)."""
    if row.get("outcome") == "error":
        return f"{row.get('error_kind') or 'error'}!"
    return row.get("outcome") or "running"


def timeline(data: dict[str, Any]) -> list[tuple[float, str, dict[str, Any]]]:
    """(t, kind, row) in the order things happened: typed lines, tool calls, your side of a
    turn (``you``, at the utterance's start) and the model's (``turn``, at the reply's first
    sound), so the stamps agree with the live view and the subtitles (issue 31)."""
    items: list[tuple[float, int, str, dict[str, Any]]] = []
    for row in data["transcripts"]:
        if row["role"] == "typed":
            items.append((row["t"], 0, "typed", row))
    for row in data["tool_calls"]:
        items.append((row["t_call"], 1, "tool", row))
    ends = sorted(data["turns"], key=lambda row: row["t"])
    grounds: dict[int, list[dict[str, Any]]] = {}  # a turn's idx -> the sources under it
    for row in data.get("controls", []):
        grounded = next((turn for turn in ends if turn["t"] >= row["t"]), None)
        if row["kind"] in ("source", "read") and grounded is not None:
            grounds.setdefault(grounded["idx"], []).append(row)  # under the reply it grounds
        else:
            items.append((row["t"], 0, "control", row))
    for row in data["turns"]:
        if row["user_text"]:  # never after the reply it got (nor, unstored, its end)
            said = min(_start(row, "user_start"), _start(row, "model_start"))
            items.append((said, 2, "you", row))
        items.append((_start(row, "model_start"), 3, "turn", row))
    items.sort(key=lambda i: (i[0], i[1]))
    out: list[tuple[float, str, dict[str, Any]]] = []
    for t, _, kind, row in items:
        out.append((t, kind, row))
        if kind == "turn":
            out += [(t, "control", source) for source in grounds.get(row["idx"], [])]
    return out


def _start(row: dict[str, Any], key: str) -> float:
    """When one side of a turn began (the turn's end when no span was stored)."""
    value = row.get(key)
    return float(row["t"] if value is None else value)


def _model_line(turn: dict[str, Any]) -> str:
    if turn["outcome"] == "silent":
        return "(chose not to answer)"
    text = turn["model_text"] or f"({turn['audio_s'] or 0:.1f} s of audio)"
    if turn["outcome"] != "interrupted":
        return text
    return text + (" [cut off]" if turn.get("reason") == "stopped" else " [interrupted]")


def _latency(turn: dict[str, Any]) -> str:
    return f" ({turn['latency_s'] * 1000:.0f} ms)" if turn["latency_s"] is not None else ""


def _tool(row: dict[str, Any]) -> str:
    args = json.dumps(row["args"] or {}, ensure_ascii=False)
    resp = json.dumps(row["response"], ensure_ascii=False) if row["response"] else "-"
    took = f", {(row['t_done'] - row['t_call']) * 1000:.0f} ms" if row["t_done"] else ""
    return f"{row['name']}({args}) -> {resp} [{row['status']}{took}]"


def _header(data: dict[str, Any]) -> list[tuple[str, str]]:
    latencies = [t["latency_s"] for t in data["turns"] if t["latency_s"] is not None]
    fields = [
        ("started", _when(data["started_at"])),
        ("command", f"{data.get('command') or 'talk'} via {via(data)}"),
        ("outcome", _outcome_text(data)),
        ("model", data["model"] or "-"),
        ("voice", data["voice"] or "-"),
        ("endpoint", data["endpoint"] or "-"),
        ("input", data["input"] or "-"),
        ("duration", clock(data["duration_s"] or 0)),
        ("turns", str(len(data["turns"]))),
        ("tokens", _tokens(data)),
    ]
    if data.get("cost_usd") is not None:
        fields.append(("cost", f"about {money(data['cost_usd'])} (estimate)"))
    if data.get("continued_from"):
        how = data.get("continued_how") or "not connected"
        seeded = f", {data['seeded_turns']} turns seeded" if data.get("seeded_turns") else ""
        fields.append(("continues", f"session {data['continued_from']} ({how}{seeded})"))
    if data.get("audio_path"):
        fields.append(
            ("recording", f"{data['audio_path']} ({(data['audio_bytes'] or 0) // 1000} kB)")
        )
    if latencies:
        mid = sorted(latencies)[len(latencies) // 2]
        fields.append(("latency", f"median {mid * 1000:.0f} ms"))
    return fields


def _outcome_text(data: dict[str, Any]) -> str:
    if data.get("outcome") == "error":
        return f"failed ({data.get('error_kind')}): {data.get('error_message') or '-'}"
    return data.get("outcome") or "running (no end recorded)"


def _tokens(data: dict[str, Any]) -> str:
    t = Tokens(
        prompt=data.get("prompt_tokens") or 0,
        response=data.get("response_tokens") or 0,
        total=data.get("total_tokens") or 0,
        prompt_audio=data.get("prompt_audio_tokens") or 0,
        prompt_text=data.get("prompt_text_tokens") or 0,
        response_audio=data.get("response_audio_tokens") or 0,
        response_text=data.get("response_text_tokens") or 0,
    )
    return t.line()


def turn_tokens(data: dict[str, Any]) -> dict[int, int]:
    """Tokens reported per turn (usage rows carry the index of the turn they followed)."""
    out: dict[int, int] = {}
    for u in data.get("usage", []):
        if u.get("turn_idx") is not None:
            out[u["turn_idx"]] = out.get(u["turn_idx"], 0) + (u["total_tokens"] or 0)
    return out


def control_line(row: dict[str, Any]) -> str:
    return f"· {row['kind'].replace('_', ' ')}: {visible(str(row['value']))}"


def show(data: dict[str, Any]) -> list[str]:
    """One session as terminal lines (``voicecli history show ID``)."""
    lines = [f"session {data['id']}"]
    lines += [f"  {k}: {v}" for k, v in _header(data)]
    lines.append("")
    per_turn = turn_tokens(data)
    for t, kind, row in timeline(data):
        stamp = f"[{clock(t)}]"
        if kind == "typed":
            lines.append(f"{stamp} you (typed): {row['text']}")
        elif kind == "control":
            lines.append(f"{stamp} {control_line(row)}")
        elif kind == "tool":
            lines.append(f"{stamp} tool {_tool(row)}")
        elif kind == "you":
            lines.append(f"{stamp} you: {row['user_text']}")
        else:
            used = per_turn.get(row["idx"])
            tokens = f" [{used} tokens]" if used else ""
            lines.append(f"{stamp} gemini: {_model_line(row)}{_latency(row)}{tokens}")
    return lines


def markdown(data: dict[str, Any]) -> str:
    out = [f"# voicecli session {data['id']}", ""]
    out += [f"- **{k}**: {v}" for k, v in _header(data)]
    out.append("")
    for t, kind, row in timeline(data):
        stamp = f"`{clock(t)}`"
        if kind == "typed":
            out.append(f"{stamp} **you** (typed): {row['text']}  ")
        elif kind == "control":
            out.append(f"{stamp} _{control_line(row)}_  ")
        elif kind == "tool":
            out.append(f"{stamp} 🛠 `{_tool(row)}`  ")
        elif kind == "you":
            out.append(f"{stamp} **you**: {row['user_text']}  ")
        else:
            line = _model_line(row)
            if row["outcome"] != "spoken":
                line = f"_{line}_"
            out.append(f"{stamp} **gemini**: {line}{_latency(row)}  ")
    return "\n".join(out).rstrip() + "\n"


def as_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def search_hits(rows: list[dict[str, Any]]) -> list[str]:
    who = {"user": "you", "typed": "you (typed)", "model": "gemini"}
    return [
        f"session {r['session_id']:>4}  {_when(r['started_at'])}  [{clock(r['t'])}] "
        f"{who.get(r['role'], r['role'])}: {r['snippet']}"
        for r in rows
    ]
