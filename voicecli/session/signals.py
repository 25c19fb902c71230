"""Ending a session from outside: Ctrl-C (SIGINT), SIGTERM and SIGHUP all end it the same
way. The first one ends it cleanly (files finalized and renamed, history written, the
summary on stderr, exit 0 as for any end the user asked for); a second one stops waiting
for that and interrupts the run. Before the conversation runs (devices opening, connecting),
SIGTERM and SIGHUP interrupt like Ctrl-C does, so the clean-up still runs."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
_NAMES: dict[int, str] = {signal.SIGINT: "Ctrl-C"}


def ctrl_c_stops(status: Callable[[str], None]) -> Callable[[Any], None]:
    """A ``TalkRequest.on_start`` hook that installs the stop handlers on the running loop."""

    def on_start(conv: Any) -> None:
        loop = asyncio.get_running_loop()
        presses = 0

        def on_signal(sig: int) -> None:
            nonlocal presses
            presses += 1
            if presses == 1:
                conv.request_stop()  # first: after a hangup the terminal may be gone
                what = _NAMES.get(sig) or signal.Signals(sig).name
                again = "Ctrl-C" if sig == signal.SIGINT else "again"
                with contextlib.suppress(OSError, ValueError):
                    status(f"stopping ({what})... ({again} to force)")
                return
            from voicecli.ui.prompt import restore_terminal

            for s in STOP_SIGNALS:  # a third one interrupts the clean-up
                loop.remove_signal_handler(s)
            restore_terminal()  # typed input may have the terminal in cbreak mode
            raise KeyboardInterrupt  # leaves the event loop; the CLI prints "stopped."

        for sig in STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, on_signal, sig)
        if _early_stop:  # a SIGTERM/SIGHUP whose KeyboardInterrupt was swallowed (it may
            conv.request_stop()  # land in a callback that Python ignores): stop now

    return on_start


_early_stop: int | None = None  # the signal that asked for a stop before the conversation ran


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM or SIGHUP before the conversation runs. Inside ``asyncio.run`` (connecting),
    asyncio's own Ctrl-C handler is used: it cancels the main task, which cleans up and
    ends in KeyboardInterrupt, instead of an exception raised in whatever callback runs."""
    global _early_stop
    _early_stop = signum
    on_sigint = signal.getsignal(signal.SIGINT)
    if _loop_running() and callable(on_sigint) and on_sigint is not signal.default_int_handler:
        on_sigint(signal.SIGINT, frame)  # asyncio.Runner's: a second one raises
        return
    raise KeyboardInterrupt


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP raise KeyboardInterrupt (as Ctrl-C does)
    instead of killing the process, so outputs are finalized on the way out."""
    global _early_stop
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _early_stop = None
    saved = {}
    for sig in STOP_SIGNALS:
        if sig != signal.SIGINT:
            with contextlib.suppress(ValueError, OSError):
                saved[sig] = signal.signal(sig, _interrupt)
    try:
        yield
    finally:
        for sig, old in saved.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, old)
