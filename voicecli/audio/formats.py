"""Which audio format an output file gets: the one its extension names.

``.wav`` (or no extension) is 16-bit WAV; ``.flac``, ``.ogg``/``.oga`` (Vorbis) and ``.mp3``
are written where the installed libsndfile can (soundfile reports what it has); any other
extension is refused before anything is opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from voicecli.errors import UsageError


@dataclass(frozen=True)
class OutputFormat:
    format: str  # libsndfile major format
    subtype: str

    @property
    def is_wav(self) -> bool:
        return self.format == "WAV"


_BY_SUFFIX = {
    "": OutputFormat("WAV", "PCM_16"),
    ".wav": OutputFormat("WAV", "PCM_16"),
    ".flac": OutputFormat("FLAC", "PCM_16"),
    ".ogg": OutputFormat("OGG", "VORBIS"),
    ".oga": OutputFormat("OGG", "VORBIS"),
    ".mp3": OutputFormat("MP3", "MPEG_LAYER_III"),
}


def _available(fmt: OutputFormat) -> bool:
    try:
        return fmt.format in sf.available_formats() and fmt.subtype in sf.available_subtypes(
            fmt.format
        )
    except Exception:  # an odd libsndfile build: treat the format as missing
        return False


def writable_suffixes() -> list[str]:
    return [s for s, f in _BY_SUFFIX.items() if s and _available(f)]


def output_format(path: Path) -> OutputFormat:
    """The format for ``path``, or a UsageError naming the extensions that work here."""
    suffix = path.suffix.lower()
    fmt = _BY_SUFFIX.get(suffix)
    if fmt is None or not _available(fmt):
        have = ", ".join(writable_suffixes())
        why = "this libsndfile cannot write it" if fmt else "unknown audio extension"
        raise UsageError(f"cannot write {path.name}: {why}", f"use one of {have}")
    return fmt
