"""Idle sessions (issue 35): after ``timeout_s`` with no speech from either side (and no
typed line), the session is ended cleanly, or the microphone is muted, so a forgotten
session does not run up a bill. Pure: fed with times, asked ``due(now)``."""

from __future__ import annotations

from dataclasses import dataclass

ACTIONS = ("end", "mute")


@dataclass
class IdleTimer:
    timeout_s: float | None = None  # None or 0: off
    last: float = 0.0  # the latest speech (either side) or typed line
    fired: bool = False  # once per idle stretch

    def activity(self, t: float) -> None:
        self.last = max(self.last, t)
        self.fired = False

    def due(self, now: float) -> bool:
        """True once when the session has been idle for ``timeout_s``."""
        if not self.timeout_s or self.fired or now - self.last < self.timeout_s:
            return False
        self.fired = True
        return True


def idle_text(timeout_s: float, action: str) -> str:
    what = "microphone muted (/unmute to go on)" if action == "mute" else "ending the session"
    return f"no speech for {timeout_s:.0f} s: {what}"
