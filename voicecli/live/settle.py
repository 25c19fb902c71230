"""The end of a run: wait until the model's turn is over (``Conversation._settle``)."""

from __future__ import annotations

import time
from typing import Any

from voicecli.errors import SessionTimeout


async def settle(conv: Any) -> None:
    """Until the model's turn is over; an utterance with no sign of a reply within
    ``reply_wait_s`` is a silent turn (the model chose not to answer), not an error. A reply
    under way, a running tool or background reasoning is waited for up to ``timeout_s``."""
    opt, book = conv.opt, conv.book
    deadline = time.monotonic() + opt.timeout_s
    while True:
        now = time.monotonic()
        held = conv._tool_tasks or conv.guard.holds_reply_wait()
        since = None if held else book.waiting_since()
        if since is not None:
            left = opt.reply_wait_s - (now - since)
            if left <= 0:
                conv._no_reply(now)
                return
            await conv._wait_change(left)
        elif book.awaiting_reply or conv._reasoning or conv._tool_tasks:
            # a reply is under way, or a tool runs (or waits for the user's yes): its
            # result is owed to the model before the run may end
            if now >= deadline:
                raise SessionTimeout(
                    f"the model's reply did not complete within {opt.timeout_s:.0f} s",
                    "raise --timeout, or check the server",
                )
            await conv._wait_change(deadline - now)
        else:
            return
