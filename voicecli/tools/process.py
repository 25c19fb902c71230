"""Run one argv as a child process, off the event loop, with hard limits.

No shell is involved: the argv goes straight to ``exec``, so quotes, ``;``, ``$()``, globs and
``$VARS`` in an argument are just characters. The child gets no stdin (it cannot steal the
terminal), runs in its own process group, and its output is capped. A timeout or a cancelled
call kills the group and everything the child started, even what left the group (found by
the run's marker variable, see ``process_tree``); what could not be stopped is reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from voicecli.child_env import MARKER
from voicecli.process_tree import stop_tree

log = logging.getLogger(__name__)

READ_CHUNK = 65536
STDERR_CAP = 4096


@dataclass(frozen=True)
class Finished:
    exit_status: int  # negative: killed by that signal
    stdout: bytes
    stdout_truncated: bool
    stderr: bytes
    duration_s: float


class ProcessTimeout(Exception):
    def __init__(
        self, seconds: float, stdout: bytes, stderr: bytes, survivors: Sequence[int] = ()
    ) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds, self.stdout, self.stderr = seconds, stdout, stderr
        self.survivors = list(survivors)  # pids that could not be stopped


class _Capped:
    """Reads a stream to its end, keeping at most ``cap`` bytes (the rest is drained)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = bytearray()
        self.truncated = False

    async def drain(self, stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        while chunk := await stream.read(READ_CHUNK):
            room = self.cap - len(self.data)
            if room > 0:
                self.data += chunk[:room]
            if len(chunk) > room:
                self.truncated = True


def _kill_all(proc: asyncio.subprocess.Process, marker: str | None) -> list[int]:
    survivors = stop_tree(proc.pid, marker)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    if survivors:
        log.warning("could not stop processes started by a tool: %s", survivors)
    return survivors


async def _reap(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(TimeoutError, ProcessLookupError):
        await asyncio.wait_for(proc.wait(), 2.0)


async def run_argv(
    argv: Sequence[str],
    *,
    timeout_s: float,
    max_output: int,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Finished:
    """Run ``argv``; ProcessTimeout after ``timeout_s``; OSError if it cannot start."""
    start = time.monotonic()
    marker = None if env is None else env.get(MARKER)
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
        env=None if env is None else dict(env),
        start_new_session=True,
    )
    out, err = _Capped(max_output), _Capped(STDERR_CAP)
    try:
        async with asyncio.timeout(timeout_s):
            await asyncio.gather(out.drain(proc.stdout), err.drain(proc.stderr))
            status = await proc.wait()
    except TimeoutError:
        survivors = _kill_all(proc, marker)
        await _reap(proc)
        raise ProcessTimeout(timeout_s, bytes(out.data), bytes(err.data), survivors) from None
    except BaseException:  # cancelled (toolCallCancellation, session end): leave nothing
        _kill_all(proc, marker)
        await _reap(proc)
        raise
    return Finished(
        status, bytes(out.data), out.truncated, bytes(err.data), time.monotonic() - start
    )
