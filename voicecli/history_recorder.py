"""``HistoryRecorder``: the observer that stores a running session from a writer thread.

The event loop never waits for the disk: events go into a bounded queue, the writer thread
stores them in batches, one transaction each. See ``voicecli.history`` for the schema.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voicecli.errors import ExitCode
from voicecli.history import (
    NOT_STORED,
    HistoryStore,
    as_history_error,
    default_path,
    failure_kind,
)
from voicecli.live import events as ev

# Events stored; the first of the CREATING kinds (or a failure) creates the session row, so a
# run that never got that far leaves nothing behind.
_CREATING = (
    ev.TurnEnded,
    ev.UserText,
    ev.ToolCall,
    ev.ToolResults,
    ev.Usage,
    ev.ContextChange,
)
_STORED = (
    *_CREATING,
    ev.ToolCallCancellation,
    ev.ResumptionUpdate,
    ev.Continued,
    ev.Stall,
    ev.Sources,
)
_END = object()


class HistoryRecorder:
    """Observer storing a session from a writer thread; failures warn once and never raise.

    A failure in the writer is reported at the next event (on the notifying thread) or at
    ``close``: one warning line, never interleaved with the view's output. ``failed_with``
    records the error that ended the run (kind and message), or nothing for the errors in
    ``NOT_STORED`` when nothing else was stored. ``keep_audio`` names the session's kept
    recording; it is deleted when the session leaves no row, and recordings past the size
    cap are pruned, oldest first (``audio_history.prune``).

    Times are stored on the session recording's timeline: the conversation hands over its
    ``RecordingClock`` (``use_clock``), and each turn carries its ``TurnSpan``; with
    ``--fast`` that is not the wall clock, so subtitles and ``history play --turn`` match
    the kept recording.
    """

    def __init__(
        self,
        meta: dict[str, Any],
        path: Path | None = None,
        *,
        warn: Callable[[str], None] | None = None,
        maxsize: int = 10_000,
        timeout: float = 10.0,  # the writer thread may wait: the loop never does
        audio_cap_bytes: int | None = None,
    ) -> None:
        self.path = path or default_path()
        self.meta = meta
        self.session_id: int | None = None
        self.dropped = 0
        self.failed: str | None = None
        self.audio_path: Path | None = None
        self.audio_cap_bytes = audio_cap_bytes
        self._user_start: float | None = None  # a turn's times, for a turn with no span
        self._user_end: float | None = None
        self._model_start: float | None = None
        self._clock: Any = None  # live.timeline.RecordingClock, from the conversation
        self._unreported = False
        self._report_lock = threading.Lock()
        self._warn = warn or (lambda text: print(f"warning: {text}", file=sys.stderr))
        self._queue: queue.Queue[Any] = queue.Queue(maxsize)
        self._timeout = timeout
        self._started_at = time.time()
        self._thread = threading.Thread(target=self._run, name="voicecli-history", daemon=True)
        self._thread.start()

    def use_clock(self, clock: Any) -> None:
        """The conversation's recording clock: stored times are on its timeline."""
        self._clock = clock

    def on_event(self, event: object, t: float) -> None:
        if isinstance(event, ev.AudioChunk):  # the hot path: one time noted per turn
            if self._model_start is None:
                self._model_start = t
            return
        if self._unreported:
            self._report()
        if self._clock is not None:
            t = self._clock.now(t)
        if isinstance(event, ev.UserSpeechStarted):
            self._user_start, self._user_end = t, None
        elif isinstance(event, ev.UserSpeechEnded):
            self._user_end = t
        elif isinstance(event, ev.TurnEnded):
            spans = (self._user_start, self._user_end, self._model_start)
            self._user_start = self._user_end = self._model_start = None
            if event.span is not None:
                span = event.span
                spans, t = (span.user_start, span.user_end, span.model_start), span.end
            if self.failed is None:
                self._put((event, t, spans))
        elif isinstance(event, _STORED) and self.failed is None:
            self._put((event, t))

    def on_session_end(self, record: dict[str, Any]) -> None:
        self._put(("end", record))

    def failed_with(self, e: BaseException, message: str) -> None:
        """The run ended with ``e`` (``message``: its one line, the key already redacted)."""
        exit_code = getattr(e, "exit_code", ExitCode.FAILURE)
        self._put(("error", failure_kind(e), message, exit_code in NOT_STORED))

    def keep_audio(self, path: Path) -> None:
        self.audio_path = path

    def _put(self, item: Any) -> None:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1

    def close(self, timeout: float = 5.0) -> None:
        """Finish writing (waits at most ``timeout``; a stuck disk never holds the exit)."""
        if self._thread.is_alive():
            with contextlib.suppress(queue.Full):
                self._queue.put(("audio", self.audio_path), timeout=timeout)
                self._queue.put(_END, timeout=timeout)
            self._thread.join(timeout)
        self._report()

    def _fail(self, e: Exception) -> None:
        """In the writer thread: remember; the warning is given by the caller's thread."""
        self.failed = as_history_error(e, self.path).one_line()
        self._unreported = True

    def _report(self) -> None:
        """Warn once, from the thread that notifies (so lines never interleave)."""
        with self._report_lock:
            if not self._unreported:
                return
            self._unreported = False
        self._warn(f"history is off for this session: {self.failed}")

    def _run(self) -> None:
        try:
            store = HistoryStore(self.path, timeout=self._timeout)
        except Exception as e:
            self._fail(e)
            self._drop_audio()
            return
        try:
            _Writer(self, store).run()
        except Exception as e:
            self._fail(e)
        finally:
            store.close()

    def _drop_audio(self) -> None:
        if self.audio_path is not None and self.session_id is None:
            with contextlib.suppress(OSError):
                self.audio_path.unlink()


class _Writer:
    """The writer thread's loop: batches of events in one transaction each."""

    def __init__(self, rec: HistoryRecorder, store: HistoryStore) -> None:
        self.rec = rec
        self.store = store
        self.held: list[Any] = []  # events before the session row exists
        self.turn: int | None = None  # index of the last turn that ended

    def run(self) -> None:
        rec = self.rec
        done = False
        while not done:
            batch = [rec._queue.get()]
            with contextlib.suppress(queue.Empty):
                while len(batch) < 500:
                    batch.append(rec._queue.get_nowait())
            with self.store.transaction():
                for item in batch:
                    if item is _END:
                        done = True
                    else:
                        self.handle(item)

    def handle(self, item: Any) -> None:
        rec, store = self.rec, self.store
        kind = item[0]
        if kind == "audio":
            self.audio(item[1])
            return
        if rec.session_id is None:
            creating = (kind == "error" and not item[3]) or isinstance(kind, _CREATING)
            if not creating:
                self.held.append(item)
                return
            rec.session_id = store.new_session(rec.meta, rec._started_at)
            for held in self.held:
                self.store_item(held)
            self.held = []
        self.store_item(item)

    def store_item(self, item: Any) -> None:
        sid = self.rec.session_id
        assert sid is not None
        kind = item[0]
        if kind == "end":
            self.store.end_session(sid, item[1])
        elif kind == "error":
            self.store.fail_session(sid, item[1], item[2])
        else:
            if isinstance(kind, ev.TurnEnded):
                self.turn = kind.index
            spans = item[2] if len(item) > 2 else None
            self.store.apply(sid, kind, item[1], self.turn, spans)

    def audio(self, path: Path | None) -> None:
        """The kept recording: linked to the row, or deleted when there is none."""
        rec = self.rec
        if path is None:
            return
        if rec.session_id is None:
            rec._drop_audio()
            return
        try:
            size = path.stat().st_size
        except OSError:
            return
        self.store.set_audio(rec.session_id, str(path), size)
        if rec.audio_cap_bytes is not None:
            from voicecli.audio_history import prune

            prune(self.store, rec.audio_cap_bytes)
