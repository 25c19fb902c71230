"""Sessions: one spec in, one conversation run, one summary out.

``run_session(settings, SessionSpec(...))`` assembles everything a ``talk`` or ``listen``
needs (devices, view, history, simulator, signals); ``run_talk(settings, TalkRequest(...))``
is the engine below it (gate, outputs, transport, conversation) for callers that bring
their own source and observers.
"""

from voicecli.session.assemble import run_session
from voicecli.session.engine import TalkRequest, run_talk
from voicecli.session.simulator import simulator
from voicecli.session.spec import SessionSpec

__all__ = ["SessionSpec", "TalkRequest", "run_session", "run_talk", "simulator"]
