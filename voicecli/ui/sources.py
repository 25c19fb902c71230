"""The sources a reply is grounded on (``--search``: Google Search; URL context), as lines
under the reply. Titles and URLs are text from the service: made terminal-safe here."""

from __future__ import annotations

from voicecli.live import events as ev
from voicecli.safe_text import visible


def source_line(source: ev.Source) -> str:
    """``Title — https://...`` (control characters escaped)."""
    title = " ".join(visible(source.title).split())
    uri = visible(source.uri)
    return f"{title} — {uri}" if title else uri


def source_lines(held: list[ev.Sources]) -> list[str]:
    """One line per distinct source of the reply, in the order they came."""
    seen: set[str] = set()
    lines = []
    for sources in held:
        label = "source" if sources.kind == "search" else "read"
        for s in sources.items:
            if s.uri not in seen:
                seen.add(s.uri)
                lines.append(f"{label}: {source_line(s)}")
    return lines
