"""Sessions: one spec in, one conversation run, one summary out.

``run_session(settings, SessionSpec(...))`` assembles everything a ``talk`` or ``listen``
needs (devices, view, history, simulator, signals); ``run_talk(settings, TalkRequest(...))``
is the engine below it (gate, outputs, transport, conversation) for callers that bring
their own source and observers.

Names are imported on first use: ``voicecli.session.simulator`` (what ``doctor`` and ``say``
need) must not pull in the engine and google-genai, which ``--help`` never needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "run_session": "voicecli.session.assemble",
    "TalkRequest": "voicecli.session.engine",
    "run_talk": "voicecli.session.engine",
    "simulator": "voicecli.session.simulator",
    "SessionSpec": "voicecli.session.spec",
}
__all__ = ["SessionSpec", "TalkRequest", "run_session", "run_talk", "simulator"]

if TYPE_CHECKING:
    from voicecli.session.assemble import run_session
    from voicecli.session.engine import TalkRequest, run_talk
    from voicecli.session.simulator import simulator
    from voicecli.session.spec import SessionSpec


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'voicecli.session' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
