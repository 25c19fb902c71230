"""What the sharing layer tells observers (views, transcript, history).

Kept apart from ``live.events`` (server events) so the video code stays in its package;
observers that do not know these types simply ignore them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sharing:
    """What is shared now, and what has been sent so far (sent on every change of either)."""

    shared: tuple[str, ...]  # e.g. ("screen 1", "watch `pytest -x`"); empty: nothing
    frames_sent: int = 0
    frames_unchanged: int = 0  # looks skipped because the picture had not changed
    video_bytes: int = 0
    images_sent: int = 0
    watched_lines: int = 0
    t: float | None = None  # time.monotonic() (one clock with live.events)

    def short(self) -> str:
        """For the status line: what is shared, and what went out."""
        what = ", ".join(self.shared) if self.shared else "nothing shared"
        sent = []
        if self.frames_sent or self.images_sent:
            sent.append(f"{self.frames_sent + self.images_sent} pictures")
            sent.append(f"{self.video_bytes / 1024:.0f} KB")
        if self.watched_lines:
            sent.append(f"{self.watched_lines} lines")
        return what + (f" ({', '.join(sent)} sent)" if sent else "")

    def stats(self) -> str:
        """For /stats."""
        return (
            f"sharing: {', '.join(self.shared) or 'nothing'}; {self.frames_sent} frames sent, "
            f"{self.frames_unchanged} unchanged not sent, {self.images_sent} images, "
            f"{self.video_bytes / 1024:.0f} KB, {self.watched_lines} watched lines"
        )


@dataclass(frozen=True)
class WatchExit:
    """A watched command ended (announced to the model as well)."""

    command: str
    status: int  # exit status; negative: killed by that signal
    t: float | None = None  # time.monotonic() (one clock with live.events)
