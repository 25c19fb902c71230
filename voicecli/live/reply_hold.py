"""The conversation's side of holding a reply (``turn_policy.TurnPolicy``): a timer that
releases the held events when the commit window is over, and the ``TurnHold`` notices."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from voicecli.live.turn_policy import TurnPolicy


class ReplyHold:
    """``deliver(events)`` handles released events (stamped when heard); ``announce(state)``
    tells the observers (``TurnHold``)."""

    def __init__(
        self,
        policy: TurnPolicy,
        deliver: Callable[[list[Any]], None],
        announce: Callable[[str], None],
    ) -> None:
        self.policy = policy
        self._deliver = deliver
        self._announce = announce
        self._timer: asyncio.TimerHandle | None = None
        self._waiting = False  # a held reply was announced

    def changed(self) -> None:
        """After anything that may hold, drop or release: announce and (re)arm the timer."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.policy.holding:
            self._waiting = False
            return
        if not self._waiting:
            self._waiting = True
            self._announce("waiting")
        due = self.policy.due()
        if due is not None:
            delay = max(0.0, due - time.monotonic())
            self._timer = asyncio.get_running_loop().call_later(delay, self._release)

    def _release(self) -> None:
        self._timer = None
        held = self.policy.release(time.monotonic())
        if held:
            self._announce("released")
            self._deliver(held)
        self.changed()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
