"""Ctrl-C during a session: the first press ends it cleanly (files finalized, summary
written); the second stops waiting for that and interrupts the run (exit 0, as any end the
user asked for)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from typing import Any


def ctrl_c_stops(status: Callable[[str], None]) -> Callable[[Any], None]:
    """A ``TalkRequest.on_start`` hook that installs the Ctrl-C handler on the running loop."""

    def on_start(conv: Any) -> None:
        loop = asyncio.get_running_loop()
        presses = 0

        def on_sigint() -> None:
            nonlocal presses
            presses += 1
            if presses == 1:
                status("stopping... (Ctrl-C again to force)")
                conv.request_stop()
                return
            from voicecli.ui.prompt import restore_terminal

            loop.remove_signal_handler(signal.SIGINT)  # a third press interrupts the clean-up
            restore_terminal()  # typed input may have the terminal in cbreak mode
            raise KeyboardInterrupt  # leaves the event loop; the CLI prints "stopped."

        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, on_sigint)

    return on_start
