"""A Live transport that survives: resumes after goAway, reconnects after drops.

It wraps one ``LiveTransport`` at a time and looks like one to the conversation:

* keeps the latest session resumption handle;
* on ``goAway`` moves to a new connection with that handle at the next turn boundary, or
  when the time left is nearly up, by a timer independent of the receive loop;
* on an abnormal close (1011, 1006, network loss) reconnects with backoff and jitter,
  bounded; a rejected key or unknown model while resuming stops with that error;
* a handle refused at setup (any close code) falls back to a fresh session (said so), seeded with
  the conversation so far as initial history (as ``--continue`` does): the earlier
  conversation's seed and this session's finished turns (their transcripts), the newest that
  fit in ``seed_budget`` tokens;
* every client message sent since the last handle (audio, stream ends, activity, text) is
  journaled,
  bounded, and sent again after the resume, so speech said while reconnecting, or not yet
  answered when the connection broke, is not lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from voicecli.continuation import merge_turns, within_budget
from voicecli.errors import NetworkError, ServerError, VoicecliError
from voicecli.live import events as ev
from voicecli.live import messages as m
from voicecli.live.reconnect import ReconnectPolicy, is_retryable, is_unknown_handle

log = logging.getLogger(__name__)

ConfigFactory = Callable[..., Any]  # (handle, *, seed=False) -> LiveConnectConfig

_TURN_ACTIVITY = (ev.AudioChunk, ev.OutputTranscript, ev.InputTranscript, ev.ToolCall)


class ResilientTransport:
    """``connect`` opens one connection for a config (``transport.live_connect`` for the
    SDK, a fake in tests); ``make_config`` builds that config for a resumption handle."""

    def __init__(
        self,
        connect: m.Connect,
        make_config: ConfigFactory,
        *,
        policy: ReconnectPolicy | None = None,
        resume: bool = True,
        journal_limit_s: float = 60.0,
        goaway_margin_s: float = 0.5,
        handle_grace_s: float = 0.5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        initial_handle: str | None = None,
        seed: list[tuple[str, str]] | None = None,
        seed_budget: int = 8000,
    ) -> None:
        self.connect = connect
        self.make_config = make_config
        self.policy = policy or ReconnectPolicy()
        self.resume = resume
        self.journal_limit_s = journal_limit_s
        self.goaway_margin_s = goaway_margin_s
        self.handle_grace_s = handle_grace_s
        self._sleep = sleep
        self.handle: str | None = None
        self.reconnects = 0
        self._journal: deque[tuple[int, m.ClientMessage]] = deque()  # (seq, message)
        self._seq = 0
        self._boundary_seq = 0  # last entry sent before the latest turn boundary
        self._journal_s = 0.0
        self._conn: m.Connection | None = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._closed_malformed = 0
        self._closing = False
        self._switch_pending = False
        self._recovering: str | None = None  # a stall recovery asked for a new connection
        self._in_turn = False
        self._timer: asyncio.Task[None] | None = None
        self._attempts = 0  # consecutive reconnects without a completed turn
        self._call_ids: set[str] = set()  # tool calls made on the current connection
        # --continue: resume the stored handle, else a new session seeded with ``seed``
        self.initial_handle = initial_handle
        self.seed = seed
        self.opened_as = "new"  # new | resumed | seeded
        self.refused_handle: str | None = None  # why the stored handle was not taken
        # the conversation so far, to seed a new session when a reconnect cannot resume:
        # turns the server holds (their input is out of the journal), turns finished but not
        # yet confirmed by a handle (their input is still journaled: sent again, not seeded),
        # and the turn in progress
        self.seed_budget = seed_budget
        self._held: list[tuple[str, str]] = []
        self._finished: list[tuple[str, str]] = []
        self._turn: list[tuple[str, str]] = []

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> ResilientTransport:
        if self.initial_handle and self.resume:
            try:
                await self._connect(self.initial_handle)
            except VoicecliError as e:
                if not is_unknown_handle(e):
                    raise
                self.refused_handle = f"the server refused its handle, close {e.close_code}"
            else:
                self.handle, self.opened_as = self.initial_handle, "resumed"
                return self
        if self.seed:
            await self._connect(None, seed=True)
            assert self._conn is not None
            await self._conn.send(m.HistoryIn(tuple(self.seed)))
            self.opened_as = "seeded"
        else:
            await self._connect(None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closing = True
        if self._timer is not None:
            self._timer.cancel()
        await self._disconnect()

    @property
    def malformed(self) -> int:
        return self._closed_malformed + (self._conn.malformed if self._conn else 0)

    @property
    def session_id(self) -> str | None:
        return self._conn.session_id if self._conn else None

    async def _connect(self, handle: str | None, seed: bool = False) -> None:
        stack = contextlib.AsyncExitStack()
        h = handle if self.resume else None
        config = self.make_config(h, seed=True) if seed else self.make_config(h)
        try:
            conn = await stack.enter_async_context(self.connect(config))
        except BaseException:
            await stack.aclose()
            raise
        self._stack, self._conn = stack, conn
        self._call_ids = set()

    async def _disconnect(self) -> None:
        conn, stack = self._conn, self._stack
        self._conn = self._stack = None
        if conn is not None:
            self._closed_malformed += conn.malformed
        if stack is not None:
            try:
                await stack.aclose()
            except Exception as e:  # the old socket may be long dead
                log.debug("closing the old connection: %s", e)

    # ------------------------------------------------------------------ sending
    async def send(self, msg: m.ClientMessage) -> None:
        if isinstance(msg, m.ToolResults):
            await self._send_tool_results(msg)
            return
        if isinstance(msg, m.ContextUpdate | m.HistoryIn):
            # Not journaled: a later connection's setup already carries the new context (the
            # config factory reads it), and the history is only for the first connection.
            if self._conn is not None:
                await self._conn.send(msg)
            return
        if isinstance(msg, m.VideoIn):  # not journaled: a stale picture is worth nothing
            await self._send_now(msg)
            return
        if isinstance(msg, m.TextIn):
            self._said("user", " " + msg.text)
        self._journal_add(msg)
        conn = self._conn
        if conn is None:
            return  # journaled: sent after the reconnect
        try:
            await conn.send(msg)
        except Exception as e:  # the receive side notices the close and reconnects
            log.debug("send failed (%s); will be sent again after reconnecting", e)

    async def _send_now(self, msg: m.ClientMessage) -> None:
        conn = self._conn
        if conn is None:
            return
        try:
            await conn.send(msg)
        except Exception as e:  # the receive side notices the close and reconnects
            log.debug("send failed (%s)", e)

    async def _send_tool_results(self, msg: m.ToolResults) -> None:
        """Answers go only to the connection that made the calls; after a reconnect the
        server no longer waits for them (it asks again if it still needs the tool)."""
        conn = self._conn
        live = tuple(r for r in msg.results if r.id in self._call_ids)
        if conn is None or not live:
            return
        with contextlib.suppress(Exception):
            await conn.send(m.ToolResults(live))

    async def nudge(self, msg: m.ClientMessage) -> None:
        """Sent on this connection only, never again after a reconnect (the stall
        watchdog's nudge: a resume sends the stalled utterance itself again)."""
        await self._send_now(msg)

    async def recover(self, *, fresh: bool = False) -> None:
        """The stall watchdog: move to a new connection now, resuming with the latest handle,
        or (``fresh``) a new session seeded with the conversation so far. What the server did
        not confirm with a handle (the stalled utterance) is sent again."""
        conn = self._conn
        if conn is None:
            return
        self._recovering = "the model went quiet"
        if fresh:
            self.handle = None
        with contextlib.suppress(Exception):
            await conn.close()

    def _journal_add(self, msg: m.ClientMessage) -> None:
        self._seq += 1
        self._journal.append((self._seq, msg))
        self._journal_s += m.seconds_of(msg)
        while self._journal_s > self.journal_limit_s and self._journal:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        _seq, msg = self._journal.popleft()
        self._journal_s -= m.seconds_of(msg)

    def _journal_commit(self) -> None:
        """The server holds what was sent before the latest turn boundary: forget it.
        What was sent after it (an utterance in progress) stays, to be sent again."""
        while self._journal and self._journal[0][0] <= self._boundary_seq:
            self._drop_oldest()
        self._held += self._finished
        self._finished = []

    # ------------------------------------------------------------------ the conversation so far
    def _said(self, role: str, text: str) -> None:
        """A piece of the turn in progress (transcripts arrive in pieces)."""
        if self._turn and self._turn[-1][0] == role:
            self._turn[-1] = (role, self._turn[-1][1] + text)
        else:
            self._turn.append((role, text))

    def _turn_done(self) -> None:
        self._finished += [(role, " ".join(text.split())) for role, text in self._turn]
        self._turn = []

    def reseed(self) -> list[tuple[str, str]]:
        """The initial history for a new session that replaces this one: the earlier
        conversation and what the server held of this one, newest first within the budget
        (lines of one speaker in a row are one turn; it opens with the user)."""
        turns = merge_turns([*(self.seed or ()), *self._held])
        kept, _left, _tokens = within_budget(turns, self.seed_budget)
        return [(t.role, t.text) for t in kept]

    async def _replay(self) -> None:
        conn = self._conn
        if conn is None:
            return
        for _seq, msg in list(self._journal):
            await conn.send(msg)

    # ------------------------------------------------------------------ receiving
    def _observe(self, event: ev.LiveEvent) -> bool:
        """Track handles, goAway and turn boundaries; True when it is time to switch.

        After a goAway the switch waits for a turn boundary and the handle that follows it
        (so the new connection resumes after the finished turn); a timer moves anyway when
        the time left is nearly up.
        """
        if isinstance(event, ev.ResumptionUpdate):
            if event.resumable and event.handle:
                self.handle = event.handle
                self._journal_commit()
            return self._switch_pending and not self._in_turn
        if isinstance(event, ev.GoAway):
            self._switch_pending = True
            left = event.time_left_s if event.time_left_s is not None else 5.0
            self._arm_timer(max(0.0, left - self.goaway_margin_s))
            return not self._in_turn and (not self.resume or self.handle is not None)
        if isinstance(event, ev.ToolCall):
            self._call_ids.update(c.id for c in event.calls)
        elif isinstance(event, ev.InputTranscript):
            self._said("user", event.text)
        elif isinstance(event, ev.OutputTranscript):
            self._said("model", event.text)
        if isinstance(event, _TURN_ACTIVITY):
            self._in_turn = True
        elif isinstance(event, (ev.TurnComplete, ev.Interrupted)):
            self._in_turn = False
            self._boundary_seq = self._seq
            self._turn_done()
            if not self.resume:
                self._journal_commit()
                return self._switch_pending
            if self._switch_pending:  # wait briefly for the handle after this turn
                self._arm_timer(self.handle_grace_s)
        return False

    def _arm_timer(self, seconds: float) -> None:
        if self._timer is not None and not self._timer.done():
            self._timer.cancel()
        self._timer = asyncio.create_task(self._deadline(self._conn, seconds))

    async def _deadline(self, conn: m.Connection | None, seconds: float) -> None:
        """goAway timer: if no turn boundary (or handle) came in time, switch anyway."""
        await self._sleep(seconds)
        if conn is not None and conn is self._conn and self._switch_pending:
            log.debug("goAway deadline reached mid-turn: switching now")
            await conn.close()

    async def events(self) -> AsyncIterator[ev.LiveEvent | ev.Reconnect]:
        """Server events across connections. Reconnect attempts count until a turn completes
        on the new connection, so a fault that repeats after every resume ends in an error."""
        while not self._closing:
            conn = self._conn
            error: VoicecliError | None = None
            if conn is not None:
                stream = conn.events()
                try:
                    async for event in stream:
                        if isinstance(event, ev.TurnComplete):
                            self._attempts = 0  # progress: the new connection works
                        switch = self._observe(event)
                        yield event
                        if switch:
                            break
                except VoicecliError as e:
                    if not is_retryable(e):
                        raise
                    error = e
                finally:
                    await stream.aclose()  # type: ignore[attr-defined]
            if self._closing:
                return
            planned = error is None and self._switch_pending
            reason = "server asked to move (goAway)" if planned else _reason(error)
            if self._recovering is not None:
                planned, reason, self._recovering = True, self._recovering, None
            self._switch_pending = self._in_turn = False
            # what the server did not confirm with a handle is in the journal, sent again
            # on the new connection: its turns will be told again, not seeded
            self._finished, self._turn = [], []
            if self._timer is not None:
                self._timer.cancel()
            await self._disconnect()
            async for note in self._reconnect(reason, planned, error):
                yield note

    async def _reconnect(
        self, reason: str, planned: bool, error: VoicecliError | None = None
    ) -> AsyncIterator[ev.Reconnect]:
        while True:
            self._attempts += 1
            attempt = self._attempts
            if self.policy.gives_up(attempt):
                raise _gave_up(self.policy.max_attempts, reason, error)
            yield ev.Reconnect("reconnecting", reason, attempt)
            if not planned or attempt > 1:
                await self._sleep(self.policy.delay(attempt))
            resuming = self.resume and self.handle is not None
            seed = [] if resuming else self.reseed()
            try:
                await self._connect(self.handle, seed=bool(seed))
            except VoicecliError as e:
                if resuming and is_unknown_handle(e):
                    self.handle = None
                    yield ev.Reconnect(
                        "reconnecting",
                        f"the server refused to resume (close {e.close_code}): a new session "
                        "follows, seeded with the conversation so far",
                        attempt,
                    )
                    self._attempts -= 1  # not a failure of the network
                    continue
                if not is_retryable(e):
                    raise
                reason, error = _reason(e), e
                continue
            break
        self.reconnects += 1
        if seed:  # the history first: the server takes nothing else until it has ended
            assert self._conn is not None
            await self._conn.send(m.HistoryIn(tuple(seed)))
        await self._replay()
        yield ev.Reconnect(
            "resumed" if resuming else "new_session", reason, attempt, seeded=len(seed)
        )


def _gave_up(attempts: int, reason: str, last: VoicecliError | None) -> VoicecliError:
    """The error after the last attempt: a server that kept ending the session (1011) is
    the server's doing (exit 6), anything else a lost connection (exit 7)."""
    if isinstance(last, ServerError):
        return ServerError(
            f"the server kept ending the session ({reason}); gave up after {attempts} "
            "reconnect attempts",
            "try again later",
            close_code=last.close_code,
        )
    return NetworkError(
        f"lost the session and could not reconnect after {attempts} attempts ({reason})",
        "check the network and run `voicecli doctor`",
    )


def _reason(error: BaseException | None) -> str:
    if error is None:
        return "the server closed the connection"
    return getattr(error, "message", None) or str(error)
