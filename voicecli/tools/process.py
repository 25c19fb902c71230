"""Run one argv as a child process, off the event loop, with hard limits.

No shell is involved: the argv goes straight to ``exec``, so quotes, ``;``, ``$()``, globs and
``$VARS`` in an argument are just characters. The child gets no stdin (it cannot steal the
terminal), runs in its own process group (a timeout or a cancelled call kills the whole
group, grandchildren included), and its output is capped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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
    def __init__(self, seconds: float, stdout: bytes, stderr: bytes) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds, self.stdout, self.stderr = seconds, stdout, stderr


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


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


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
        _kill_group(proc)
        await _reap(proc)
        raise ProcessTimeout(timeout_s, bytes(out.data), bytes(err.data)) from None
    except BaseException:  # cancelled (toolCallCancellation, session end): leave nothing
        _kill_group(proc)
        await _reap(proc)
        raise
    return Finished(
        status, bytes(out.data), out.truncated, bytes(err.data), time.monotonic() - start
    )
