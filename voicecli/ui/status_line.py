"""The live view's status line: the state, the mic meter, latency, session time, time left,
tokens and what is shared, in one row. On a narrow window whole parts are left out, least
useful first, instead of the row being cut in the middle of a number."""

from __future__ import annotations

from rich.text import Text

from voicecli.ui.status import (
    HEARING,
    LISTENING,
    MUTED,
    RECONNECTING,
    RECOVERING,
    SPEAKING,
    THINKING,
    WAITING,
    SessionStatus,
    clock,
    ms,
)

STATE_STYLE = {
    LISTENING: "green",
    HEARING: "bold cyan",
    THINKING: "yellow",
    SPEAKING: "bold magenta",
    RECONNECTING: "bold red",
    RECOVERING: "bold yellow",
    WAITING: "cyan",
    MUTED: "red",
}
METER_STEPS = 8
# parts left out first when the window is narrow (the state always stays)
STATUS_DROP_ORDER = ("tokens", "latency", "sharing", "mic", "left", "clock")


def status_line(s: SessionStatus, now: float, width: int) -> Text:
    """One row: the state, then the parts that fit the width whole (a part that does
    not fit is left out, least useful first, instead of cutting the line mid-number)."""
    state = s.shown_state
    head = Text.assemble(("● ", STATE_STYLE.get(state, "")), (state, STATE_STYLE.get(state, "")))
    parts: dict[str, Text] = {}
    if s.muted:
        parts["mic"] = Text.assemble((" │ mic ", "dim"), ("off", "red"))
    elif s.level_known:  # a microphone is metering (a file being streamed has no mic)
        filled = s.level_bucket(METER_STEPS)
        parts["mic"] = Text.assemble(
            (" │ mic ", "dim"),
            ("▮" * filled, "green" if filled < METER_STEPS - 1 else "red"),
            ("▯" * (METER_STEPS - filled), "dim"),
            (f" {max(-90.0, s.level_dbfs):.0f} dB", "dim"),
        )
    parts["latency"] = Text(f" │ latency {ms(s.last_latency_s)}", style="dim")
    parts["clock"] = Text(f" │ {clock(now)}", style="dim")
    left = s.time_left(now)
    if left is not None:
        parts["left"] = Text.assemble(
            (" │ ", "dim"), (f"{clock(left)} left", "bold red" if left < 60 else "dim")
        )
    parts["tokens"] = Text(f" │ {s.total_tokens:,} tokens", style="dim")
    if s.sharing is not None:
        style = "yellow" if s.sharing.shared else "dim"
        parts["sharing"] = Text.assemble((" │ ", "dim"), (f"▣ {s.sharing.short()}", style))
    for name in STATUS_DROP_ORDER:
        if head.cell_len + sum(p.cell_len for p in parts.values()) <= width:
            break
        parts.pop(name, None)
    line = Text.assemble(head, *parts.values())
    line.no_wrap, line.overflow = True, "ellipsis"  # always one row, whatever the width
    return line
