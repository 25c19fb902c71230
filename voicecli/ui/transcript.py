"""``--transcript FILE.jsonl``: one JSON object per line for every conversation event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from voicecli.errors import OutputError
from voicecli.paths import PartialFile
from voicecli.ui.serialize import TRANSCRIPT_KINDS, dumps, kind, to_record


class TranscriptWriter:
    """Observer writing transcript records as they happen (line-buffered, so a killed run
    leaves every finished line in the partial file), renamed to ``path`` when closed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = 0
        self.error: OSError | None = None
        try:
            self._part = PartialFile(path)
            self._f = self._part.path.open("w", encoding="utf-8", buffering=1)
        except OSError as e:
            raise OutputError(
                f"cannot write transcript {path}: {(e.strerror or str(e)).lower()}",
                "check the folder's permissions and free space",
            ) from None

    @property
    def has_content(self) -> bool:
        return self.lines > 0

    def on_event(self, event: object, t: float) -> None:
        if kind(event) in TRANSCRIPT_KINDS:
            self.write(to_record(event, t))

    def write(self, record: dict[str, Any]) -> None:
        if self._f.closed or self.error is not None:
            return
        try:
            self._f.write(dumps(record) + "\n")
            self.lines += 1
        except OSError as e:  # a full disk: reported once, by close (the run's one line)
            self.error = e

    on_session_end = write  # the closing summary record

    def close(self, keep: bool = True) -> None:
        if self._f.closed:
            return
        try:
            try:
                self._f.close()
            except OSError as e:
                self.error = self.error or e  # the first failure is the one reported
            if self.error is not None:
                raise self.error
            if keep:
                self._part.commit()
        except OSError as e:
            raise OutputError(
                f"writing transcript {self.path} failed: {(e.strerror or str(e)).lower()}",
                "check the folder's permissions and free space",
            ) from None
        finally:
            self._part.discard()  # no-op after a commit
