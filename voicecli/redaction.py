"""What reaches the terminal when something goes wrong: never the key.

Tracebacks (``--debug``, uncaught errors in threads, "exception ignored" reports) are
formatted and then redacted; a user-facing error found inside an exception group (anyio and
asyncio task groups wrap them) is treated as that error, one line and its exit code.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import traceback
from typing import Any

from voicecli.errors import VoicecliError
from voicecli.keys import redact

# libraries that log their own tracebacks for failures voicecli reports in one line
# (e.g. an MCP server printing something that is not JSON-RPC)
_CHATTY = ("mcp",)


def user_error(e: BaseException) -> VoicecliError | None:
    """``e`` itself, or the first VoicecliError inside (nested) exception groups."""
    if isinstance(e, VoicecliError):
        return e
    if isinstance(e, BaseExceptionGroup):
        for inner in e.exceptions:
            found = user_error(inner)
            if found is not None:
                return found
    return None


def only_interrupts(e: BaseException) -> bool:
    """An exception group made only of Ctrl-C / cancellation."""
    if isinstance(e, BaseExceptionGroup):
        return all(only_interrupts(inner) for inner in e.exceptions)
    return isinstance(e, (KeyboardInterrupt, asyncio.CancelledError))


def print_traceback(e: BaseException) -> None:
    sys.stderr.write(redact("".join(traceback.format_exception(e))))
    sys.stderr.flush()


def _excepthook(exc_type: Any, exc: BaseException | None, tb: Any) -> None:
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    sys.stderr.write(redact(text))


def _thread_hook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "a thread"
    sys.stderr.write(f"Exception in thread {name}:\\n")
    _excepthook(args.exc_type, args.exc_value, args.exc_traceback)


def _unraisable_hook(args: Any) -> None:
    if args.exc_type is KeyboardInterrupt:  # a signal landed in a callback: handled elsewhere
        return
    where = f"Exception ignored in: {args.object!r}\\n" if args.object is not None else ""
    text = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
    sys.stderr.write(redact(where + text))


def redacting_hooks() -> None:
    """Every traceback Python prints by itself goes through ``redact`` too."""
    sys.excepthook = _excepthook
    threading.excepthook = _thread_hook
    sys.unraisablehook = _unraisable_hook


def quiet_libraries(debug: bool) -> None:
    """Without --debug their records stop at their own logger (where voicecli may collect
    them for its one line) instead of reaching the terminal."""
    for name in _CHATTY:
        logging.getLogger(name).propagate = debug
