"""``--json``: exactly one JSON object per line on stdout for every event.

Records use the schema of ``ui.serialize`` (``type`` and ``t`` on every record), plus:

* ``{"type": "latency", "seconds": ..}`` when the first reply audio after the user's turn
  arrives (end of speech, or a typed line, to first audio);
* ``{"type": "session_end", ..}`` with the run's summary;
* ``{"type": "error", "message": .., "hint": .., "exit_code": ..}`` when the run fails.

Status lines (startup, summary) go to stderr, so ``voicecli talk --json | jq`` sees only
JSON. A closed pipe (``| head``) stops the output quietly; the session is not disturbed.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, TextIO

from voicecli.config import redact
from voicecli.errors import VoicecliError
from voicecli.live.stats import SessionStats
from voicecli.ui.serialize import dumps, to_record
from voicecli.ui.status import SessionStatus


class JsonLinesView:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.tracker = SessionStatus()
        self.closed = False
        self.last_t = 0.0

    def write(self, record: dict[str, Any]) -> None:
        if self.closed:
            return
        try:
            self.out.write(dumps(record) + "\n")
            self.out.flush()
        except BrokenPipeError:  # the reader went away: stop writing, keep the session
            self.closed = True
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self.out.fileno())
        except ValueError:  # stdout closed under us
            self.closed = True

    def on_event(self, event: object, t: float) -> None:
        self.last_t = max(self.last_t, t)
        latency = self.tracker.on_event(event, t)
        self.write(to_record(event, t))
        if latency is not None:
            self.write({"type": "latency", "seconds": round(latency, 3), "t": round(t, 3)})

    def attach_stats(self, stats: SessionStats) -> None:
        """Take the conversation's counts (one set of counts: the conversation's)."""
        self.tracker.attach(stats)

    def on_session_end(self, record: dict[str, Any]) -> None:
        self.write(record)

    def error(self, e: BaseException, key: str | None = None) -> None:
        """The record for an error that ends the run (the CLI still prints its one line)."""
        rec: dict[str, Any] = {"type": "error"}
        if isinstance(e, VoicecliError):
            hint = redact(e.hint, key) if e.hint else None
            rec.update(message=redact(e.message, key), hint=hint, exit_code=int(e.exit_code))
        else:
            rec.update(message=redact(f"{type(e).__name__}: {e}", key), hint=None, exit_code=1)
        rec["t"] = round(self.last_t, 3)
        self.write(rec)

    def status(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.err.write(text + "\n")  # one write: lines from threads never interleave
            self.err.flush()
