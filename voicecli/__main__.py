"""The ``voicecli`` command (and ``python -m voicecli``).

Importing the CLI takes a moment (typer, rich, numpy): a Ctrl-C, SIGTERM or SIGHUP in that
time ends the run like one a moment later ("stopped.", exit 0), without a traceback. SIGTERM
and SIGHUP raise KeyboardInterrupt from the first line on, as Ctrl-C does, so every command
ends the same clean way (``cli.main`` prints "stopped."); a session installs its own
handlers while it runs (``voicecli.session.signals``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import Any

_EARLY = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run() -> None:
    for sig in _EARLY:
        signal.signal(sig, _interrupt)
    try:
        from voicecli.cli import main
    except KeyboardInterrupt:
        print("stopped.", file=sys.stderr, flush=True)
        # os._exit: an interrupt inside an extension's import leaves CPython set to kill
        # itself with SIGINT at exit, even once caught; nothing is open yet
        os._exit(0)
    code, interrupted = 0, False
    try:
        try:
            code = main()
        finally:
            _ignore_signals()
    except KeyboardInterrupt:  # a signal handled as the run was ending, outside main's reach
        print("stopped.", file=sys.stderr, flush=True)
        code, interrupted = 0, True
    if interrupted or _stopped_by_interrupt():
        # an interrupt that went through code run by an extension module (its import, say)
        # leaves CPython set to kill itself with SIGINT at exit even though it was caught:
        # the run is over and its outputs are closed, so leave now
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a reader already gone
                stream.flush()
        os._exit(code)
    sys.exit(code)


def _stopped_by_interrupt() -> bool:
    from voicecli.cli import STOPPED

    return STOPPED["by_interrupt"]


def _ignore_signals() -> None:
    """The run is over: a signal now (one a session's handler passed on as it closed, or a
    late one) must not turn the clean exit into a death by SIGINT."""
    for sig in (signal.SIGINT, *_EARLY):
        signal.signal(sig, signal.SIG_IGN)


if __name__ == "__main__":
    run()
