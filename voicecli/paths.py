"""The files a command reads and writes, checked before anything is opened.

Two rules keep a user's files safe:

- ``check_paths`` refuses an output that is the same file as an input or as another output
  (after resolving symbolic links; hard links are caught by comparing inodes), an output
  in a folder that does not exist, and an output format voicecli cannot write.
- ``PartialFile`` writes every output to a new file in the target's folder and renames it
  over the target only when it is complete, so an interrupted run never leaves a truncated
  file where a good one was. A run killed outright (``kill -9``) leaves the partial file
  next to the target (``NAME.XXXXXX.partial.wav``); WAV partials keep a valid header as they
  grow (see ``voicecli.audio.files``), so what was recorded is still readable.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from voicecli.errors import UsageError

PARTIAL_MARK = ".partial"


def resolved(path: Path) -> Path:
    """The file a path names once links are followed (the path itself if it is new)."""
    return Path(os.path.realpath(path))


def same_file(a: Path, b: Path) -> bool:
    if resolved(a) == resolved(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links, bind mounts
    except OSError:
        return False


def check_paths(
    inputs: Mapping[str, Path | None],
    outputs: Mapping[str, Path | None],
    *,
    audio_outputs: tuple[str, ...] = (),
) -> None:
    """Refuse overlapping, unwritable or unsupported outputs (a UsageError, exit 2).

    ``inputs`` and ``outputs`` map a flag name (``--input``) to its path or None;
    ``audio_outputs`` names the outputs whose extension picks an audio format.
    """
    ins = [(name, p) for name, p in inputs.items() if p is not None]
    outs = [(name, p) for name, p in outputs.items() if p is not None]
    for i, (name, out) in enumerate(outs):
        for in_name, inp in ins:
            if same_file(out, inp):
                raise UsageError(
                    f"{name} {out} is the same file as {in_name} {inp}; refusing to overwrite it",
                    f"write {name} to another file",
                )
        for other_name, other in outs[:i]:
            if same_file(out, other):
                raise UsageError(
                    f"{other_name} and {name} name the same file ({out})",
                    "give each output its own file",
                )
        _check_writable(name, out)
        if name in audio_outputs:
            from voicecli.audio.formats import output_format

            output_format(out)  # raises for an extension voicecli cannot write
            _check_seekable(name, out)


def _check_seekable(name: str, path: Path) -> None:
    """An audio file's header is rewritten as it grows: a pipe (``-o /dev/stdout | cat``)
    cannot take one."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        raise UsageError(
            f"cannot write {name} {path}: it is a pipe, and an audio file's header is "
            "rewritten as the audio grows",
            "write to a file, then read it from there",
        )


def _check_writable(name: str, path: Path) -> None:
    target = resolved(path)
    if target.is_dir():
        raise UsageError(f"cannot write {name} {path}: it is a folder", "name a file")
    if not target.parent.is_dir():
        raise UsageError(
            f"cannot write {name} {path}: folder {target.parent} does not exist",
            "create the folder or pick another path",
        )


class PartialFile:
    """A new file next to ``target`` that becomes ``target`` on ``commit``.

    The target is resolved first, so an output that is a link writes where the link
    points (as writing through it would) and the link stays a link. A target that is not
    a regular file (``/dev/null``, a named pipe) is written directly.
    """

    def __init__(self, target: Path) -> None:
        self.done = False
        with contextlib.suppress(OSError):
            if not stat.S_ISREG(os.stat(target).st_mode):
                # a device or a pipe, by the name given: /dev/stdout resolves to a name
                # (/proc/self/fd/pipe:[...]) that cannot be opened
                self.target = self.path = Path(target)
                return
        self.target = resolved(target)
        _check_writable("output", self.target)
        fd, name = tempfile.mkstemp(
            prefix=f"{self.target.stem}.",
            suffix=f"{PARTIAL_MARK}{self.target.suffix}",
            dir=self.target.parent,
        )
        os.close(fd)
        self.path = Path(name)

    def commit(self) -> Path:
        """Give the partial file the target's name (atomic: same folder)."""
        if not self.done:
            self.done = True
            if self.path != self.target:
                os.chmod(self.path, _mode_for(self.target))
                os.replace(self.path, self.target)
        return self.target

    def discard(self) -> None:
        """Forget the partial file; the target is left as it was."""
        if not self.done:
            self.done = True
            if self.path != self.target:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)


def _read_umask() -> int:
    mask = os.umask(0o022)  # read once, at import: umask is process-wide, threads come later
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _mode_for(target: Path) -> int:
    """Keep an existing file's permissions; a new file gets the usual 0666 & ~umask."""
    try:
        return os.stat(target).st_mode & 0o777
    except OSError:
        return 0o666 & ~_UMASK


def write_text_atomic(target: Path, text: str) -> Path:
    """Write a whole text file through a partial file (history export, and the like)."""
    part = PartialFile(target)
    try:
        part.path.write_text(text, encoding="utf-8")
    except BaseException:
        part.discard()
        raise
    return part.commit()
