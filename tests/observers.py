"""An observer for the session's events, shared by the tests: it keeps every event (and its
time) in order."""

from __future__ import annotations


class Events:
    """Pass as the observer; ``events`` and ``times`` hold what it was told, in order."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self.times: list[float] = []

    def on_event(self, event: object, t: float) -> None:
        self.events.append(event)
        self.times.append(t)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def when(self, kind: type, n: int = 0, phase: str | None = None) -> float:
        """The time of the ``n``th event of ``kind`` (of that ``phase``, if given)."""
        hits = [
            t
            for e, t in zip(self.events, self.times, strict=True)
            if isinstance(e, kind) and (phase is None or getattr(e, "phase", None) == phase)
        ]
        return hits[n]
