"""``voicecli history export ID --format srt``: one subtitle cue per utterance, user and model.

Times are those of the kept recording (seconds since the session started): your speech from
its onset to its end, a typed line for two seconds, the model's reply from its first audio
for as long as its audio lasts. Sessions stored before utterance times were kept fall back
to what the turn row has (its end, its audio length, its latency).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import srt

TYPED_S = 2.0  # how long a typed line stays up
USER_FALLBACK_S = 2.0  # an utterance with no stored times: shown this long before the reply


def cues(data: dict[str, Any]) -> list[tuple[float, float, str, str]]:
    """(start, end, who, text) for every utterance, in time order."""
    out: list[tuple[float, float, str, str]] = []
    for row in data["transcripts"]:
        if row["role"] == "typed":
            out.append((row["t"], row["t"] + TYPED_S, "you (typed)", row["text"]))
    for turn in data["turns"]:
        end = float(turn["t"])
        audio = float(turn["audio_s"] or 0.0)
        model_start = turn.get("model_start")
        if model_start is None:
            model_start = max(0.0, end - audio)
        model_end = max(model_start + audio, model_start + 0.5)
        if turn["user_text"]:
            u0, u1 = turn.get("user_start"), turn.get("user_end")
            if u1 is None:
                u1 = max(0.0, model_start - float(turn["latency_s"] or 0.0))
            if turn["model_text"] and turn["outcome"] != "silent":
                u1 = min(u1, model_start)  # cues never overlap: the reply starts after it
            if u0 is None or u0 >= u1:
                u0 = max(0.0, u1 - USER_FALLBACK_S)
            out.append((u0, u1, "you", turn["user_text"]))
        if turn["model_text"] and turn["outcome"] != "silent":
            out.append((model_start, model_end, "gemini", turn["model_text"]))
    out.sort(key=lambda c: (c[0], c[1]))
    return out


def to_srt(data: dict[str, Any]) -> str:
    subs = [
        srt.Subtitle(
            index=i,
            start=dt.timedelta(seconds=start),
            end=dt.timedelta(seconds=max(end, start + 0.001)),
            content=f"{who}: {text}",
        )
        for i, (start, end, who, text) in enumerate(cues(data), 1)
    ]
    return srt.compose(subs, reindex=False)
