"""The one-line summary printed when a session ends."""

from __future__ import annotations

import statistics

from voicecli.live.stats import Summary, summary_tokens
from voicecli.pricing import money
from voicecli.ui.status import plural


def format_summary(s: Summary) -> str:
    lat = (
        f", latency median {statistics.median(s.latencies_s) * 1000:.0f} ms"
        if s.latencies_s
        else ""
    )
    sent = (
        f"{s.seconds_sent:.1f} s of {s.seconds_in:.1f} s audio sent"
        if s.seconds_in
        else "no audio sent"
    )
    extra = f", {s.unanswered} of {s.utterances} utterances got no reply" if s.unanswered else ""
    extra += f", {plural(s.malformed, 'malformed message')} skipped" if s.malformed else ""
    extra += f", {plural(s.reconnects, 'reconnect')}" if s.reconnects else ""
    if s.stalls:
        extra += (
            f", {plural(s.stalls, 'stall')} ({s.stalls_recovered} recovered, "
            f"{plural(s.stall_steps, 'recovery step')})"
        )
    extra += ", ended idle (no speech)" if s.ended_idle else ""
    extra += f", {plural(s.held_back, 'false start')} held back" if s.held_back else ""
    extra += f", {plural(s.noise_ignored, 'noise')} ignored" if s.noise_ignored else ""
    extra += f", {plural(s.barge_ins, 'interruption')} confirmed" if s.barge_ins else ""
    extra += f", {s.resumed} resumed (false alarms)" if s.resumed else ""
    cost = f", about {money(s.cost_usd)}" if s.cost_usd is not None else ""
    return (
        f"done: {plural(s.turns, 'turn')} ({s.spoken} spoken, {s.silent} silent by choice, "
        f"{s.interrupted} interrupted{extra}){lat}; {sent}; {summary_tokens(s).line()}{cost}; "
        f"{s.duration_s:.1f} s{media_summary(s)}"
    )


def media_summary(s: Summary) -> str:
    """What was shared, for the summary line (empty when nothing was)."""
    parts = []
    if s.frames_sent or s.frames_unchanged:
        parts.append(
            f"{plural(s.frames_sent, 'frame')} sent ({s.video_bytes / 1024:.0f} KB), "
            f"{s.frames_unchanged} unchanged not sent"
        )
    if s.images_sent:
        parts.append(plural(s.images_sent, "image"))
    if s.watched_lines:
        parts.append(plural(s.watched_lines, "watched line"))
    return "; " + ", ".join(parts) if parts else ""
