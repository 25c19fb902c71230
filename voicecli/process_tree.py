"""Find and stop everything a child program started, not only its process group.

A command can leave its process group (``setsid sleep 97 &``, a daemon that double-forks);
killing the group then leaves that process running after voicecli has said the command was
stopped. Every child voicecli starts carries a marker variable unique to its run
(``child_env.MARKER``), which its descendants inherit; they are found by scanning
``/proc/*/environ`` (processes of the same user are readable) together with the parent links
in ``/proc/*/stat`` (a descendant that cleared its environment is still found while its
parent lives). What is found is killed, the scan repeated (a process may fork while it is
killed), and whatever is still alive after that is returned so that it can be reported.

Without ``/proc`` (not Linux) only the process group is killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from voicecli.child_env import MARKER

PROC = Path("/proc")
ROUNDS = 4


def _pids() -> list[int]:
    try:
        return [int(e.name) for e in os.scandir(PROC) if e.name.isdigit()]
    except OSError:
        return []


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None if it is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()  # the name may hold spaces and parentheses
    return fields[0], int(fields[1])


def _marked(pid: int, needle: bytes) -> bool:
    try:
        data = (PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return False
    return needle in data.split(b"\0")


def started_by(root: int, marker: str | None) -> set[int]:
    """Live processes (not zombies) carrying ``marker`` and their descendants. Without a
    marker: ``root`` and its descendants. (With one, ``root`` counts only if it carries it:
    a pid that was reaped and reused by another program is never taken for the child.)"""
    needle = f"{MARKER}={marker}".encode() if marker else b""
    parents: dict[int, int] = {}
    found: set[int] = set()
    me = os.getpid()
    for pid in _pids():
        st = _stat(pid)
        if st is None or st[0] in ("Z", "X") or pid == me:
            continue
        parents[pid] = st[1]
        if _marked(pid, needle) if needle else pid == root:
            found.add(pid)
    grew = True
    while grew:  # descendants of what was found
        more = {pid for pid, parent in parents.items() if parent in found} - found
        grew = bool(more)
        found |= more
    return found


def stop_tree(root: int, marker: str | None) -> list[int]:
    """SIGKILL ``root``'s process group, its descendants and every process carrying
    ``marker``; the pids still alive afterwards (not stopped: report them)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(root, signal.SIGKILL)
    if not PROC.is_dir():
        return []
    targets = started_by(root, marker)
    for _ in range(ROUNDS):
        if not targets:
            return []
        _signal(targets, signal.SIGKILL)
        time.sleep(0.02)
        targets = started_by(root, marker)
    return sorted(targets)


def _signal(pids: set[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
