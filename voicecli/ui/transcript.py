"""``--transcript FILE.jsonl``: one JSON object per line for every conversation event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from voicecli.errors import UsageError
from voicecli.ui.serialize import TRANSCRIPT_KINDS, dumps, kind, to_record


class TranscriptWriter:
    """Observer writing transcript records as they happen (line-buffered, crash-safe)."""

    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._f = path.open("w", encoding="utf-8", buffering=1)
        except OSError as e:
            raise UsageError(f"cannot write transcript {path}: {e.strerror}") from None

    def on_event(self, event: object, t: float) -> None:
        if kind(event) in TRANSCRIPT_KINDS:
            self.write(to_record(event, t))

    def write(self, record: dict[str, Any]) -> None:
        if not self._f.closed:
            self._f.write(dumps(record) + "\n")

    on_session_end = write  # the closing summary record

    def close(self) -> None:
        if not self._f.closed:
            self._f.close()
