"""An in-memory Live session for fast unit tests of the conversation logic.

Only for unit tests: end-to-end tests go through the real google-genai SDK to the simulator
over TLS. ``FakeLive`` records every client message (``sent``) and delivers the server
events a test pushes, or those its ``reply`` function returns for each message (a scripted
server in a few lines). ``FakeLive.connect`` is a ``Connect`` for ``ResilientTransport``,
``TalkRequest.connect`` and ``SessionSpec.connect``; every connection is the same fake.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from voicecli.live import events as ev
from voicecli.live import messages as m

Reply = Callable[[m.ClientMessage], Iterable[ev.LiveEvent | BaseException]]


class FakeLive:
    def __init__(self, reply: Reply | None = None) -> None:
        self.reply = reply
        self.sent: list[m.ClientMessage] = []
        self.configs: list[Any] = []  # one per connection, in order
        self.malformed = 0
        self.session_id: str | None = "fake-session"
        self._queue: asyncio.Queue[ev.LiveEvent | BaseException | None] = asyncio.Queue()

    # -- the test's side
    def push(self, *events: ev.LiveEvent | BaseException) -> None:
        """Deliver server events; an exception ends the connection with that error."""
        for event in events:
            self._queue.put_nowait(event)

    def end(self) -> None:
        """The server closes the connection normally."""
        self._queue.put_nowait(None)

    def of(self, kind: type[Any]) -> list[Any]:
        return [msg for msg in self.sent if isinstance(msg, kind)]

    @property
    def audio_s(self) -> float:
        return sum(m.seconds_of(msg) for msg in self.sent)

    # -- the client's side (messages.Connection)
    def connect(self, config: Any) -> AbstractAsyncContextManager[m.Connection]:
        self.configs.append(config)
        return self._connection()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[FakeLive]:
        yield self

    async def send(self, msg: m.ClientMessage) -> None:
        self.sent.append(msg)
        if self.reply is not None:
            self.push(*self.reply(msg))

    async def events(self) -> AsyncIterator[ev.LiveEvent]:
        while True:
            event = await self._queue.get()
            if event is None:
                return
            if isinstance(event, BaseException):
                raise event
            yield event

    async def close(self) -> None:
        self.end()


def answer_each_utterance(
    *events: ev.LiveEvent, after: type[m.ClientMessage] = m.ActivityEnd
) -> Reply:
    """A ``reply`` that answers every ``after`` message (default: the activityEnd that
    closes each utterance with client-driven turns) with ``events`` and a ``TurnComplete``."""

    def reply(msg: m.ClientMessage) -> Iterator[ev.LiveEvent]:
        if isinstance(msg, after):
            yield from events
            yield ev.TurnComplete()

    return reply
