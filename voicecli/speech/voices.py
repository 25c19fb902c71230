"""The prebuilt voices and a check that a name is one of them (before anything is sent).

The table is ``voicecli.speech.voice_table.PREBUILT_VOICES``; the simulator uses the same one,
so both agree.
"""

from __future__ import annotations

import difflib

from voicecli.errors import UsageError
from voicecli.speech.voice_table import PREBUILT_VOICES

DEFAULT_VOICE = "Kore"
DEFAULT_HOSTS = (("Alex", "Puck"), ("Sam", "Kore"))  # overview speakers when none are given


def voices() -> dict[str, str]:
    """Voice name -> one-line description, in Google's order."""
    return dict(PREBUILT_VOICES)


def canonical_voice(name: str) -> str:
    """The voice's proper spelling; UsageError (with suggestions) for an unknown name."""
    table = voices()
    for known in table:
        if known.lower() == name.strip().lower():
            return known
    close = difflib.get_close_matches(name.strip().capitalize(), list(table), n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise UsageError(f"unknown voice {name!r}", f"{hint}`voicecli voices` lists them")
