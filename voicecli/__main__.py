"""The ``voicecli`` command (and ``python -m voicecli``).

Importing the CLI takes a moment (typer, rich, numpy): a Ctrl-C, SIGTERM or SIGHUP in that
time ends the run like one a moment later ("stopped.", exit 0), without a traceback. The
handlers for SIGTERM and SIGHUP are installed first and given back once the CLI is loaded;
the session installs its own.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

_EARLY = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run() -> None:
    saved = {sig: signal.signal(sig, _interrupt) for sig in _EARLY}
    try:
        from voicecli.cli import main

        for sig, old in saved.items():
            signal.signal(sig, old)
    except KeyboardInterrupt:
        print("stopped.", file=sys.stderr, flush=True)
        # os._exit: an interrupt inside an extension's import leaves CPython set to kill
        # itself with SIGINT at exit, even once caught; nothing is open yet
        os._exit(0)
    sys.exit(main())


if __name__ == "__main__":
    run()
