"""Run voicecli in a pseudo-terminal of a given width, as a new user's terminal would be
(the same way ``test_confirm_pty.py`` does): ``Term(args, columns=80).run()``."""

from __future__ import annotations

import codecs
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path


class Term:
    """voicecli (or ``argv`` given whole) on a pseudo-terminal; stdin, stdout and stderr."""

    def __init__(
        self,
        args: list[str],
        *,
        columns: int = 100,
        rows: int = 30,
        env: dict[str, str] | None = None,
        argv: list[str] | None = None,
        stdout: Path | None = None,
    ) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        out = open(stdout, "w") if stdout else slave  # noqa: SIM115 (closed below)
        term_env = {"TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(rows)}
        self.proc = subprocess.Popen(
            argv or [sys.executable, "-m", "voicecli", *args],
            stdin=slave,
            stdout=out,
            stderr=slave,
            env={**(os.environ if env is None else env), **term_env},
            close_fds=True,
            start_new_session=True,
        )
        os.close(slave)
        if stdout:
            out.close()  # type: ignore[union-attr]
        self.seen = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")  # split characters

    def read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:  # the child closed the terminal
            return False
        self.seen += self._decoder.decode(data)
        return bool(data)

    def expect(self, text: str, within: float = 40.0) -> None:
        deadline = time.monotonic() + within
        while text not in self.seen:
            if time.monotonic() > deadline or (not self.read(0.2) and self.proc.poll() is not None):
                raise AssertionError(f"{text!r} never showed; screen so far:\n{self.seen[-3000:]}")

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def finish(self, within: float = 60.0) -> int:
        deadline = time.monotonic() + within
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.read(0.2)
        while self.read(0.05):
            pass
        if self.proc.poll() is None:
            self.proc.kill()
            raise AssertionError(f"voicecli did not end; screen:\n{self.seen[-3000:]}")
        os.close(self.master)
        return self.proc.returncode

    def run(self, within: float = 60.0) -> tuple[int, str]:
        """Until it ends: its exit code and the screen as plain text."""
        code = self.finish(within)
        return code, plain(self.seen)


def plain(screen: str) -> str:
    """The text on the terminal without colours and cursor moves."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07", "", screen).replace("\r", "")
