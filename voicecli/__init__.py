"""voicecli: a terminal voice assistant for Gemini native-audio Live sessions.

The library API (the CLI is built on it)::

    from voicecli import SessionSpec, Settings, load_settings, run_session

    summary = run_session(load_settings(), SessionSpec(input=Path("question.wav"), sim=True))

Names are imported on first use, so ``import voicecli`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Settings": "voicecli.config",
    "load_settings": "voicecli.config:load",
    "SessionSpec": "voicecli.session.spec",
    "run_session": "voicecli.session.assemble",
    "TalkRequest": "voicecli.session.engine",
    "run_talk": "voicecli.session.engine",
    "Summary": "voicecli.live.stats",
    "events": "voicecli.live.events:",
    "VoicecliError": "voicecli.errors",
    "ExitCode": "voicecli.errors",
    "SimServer": "voicecli.sim.server",
    "ShareSpec": "voicecli.video.spec",
}
__all__ = [
    "ExitCode",
    "SessionSpec",
    "Settings",
    "ShareSpec",
    "SimServer",
    "Summary",
    "TalkRequest",
    "VoicecliError",
    "__version__",
    "events",
    "load_settings",
    "run_session",
    "run_talk",
]

if TYPE_CHECKING:
    from voicecli.config import Settings
    from voicecli.config import load as load_settings
    from voicecli.errors import ExitCode, VoicecliError
    from voicecli.live import events
    from voicecli.live.stats import Summary
    from voicecli.session.assemble import run_session
    from voicecli.session.engine import TalkRequest, run_talk
    from voicecli.session.spec import SessionSpec
    from voicecli.sim.server import SimServer
    from voicecli.video.spec import ShareSpec


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'voicecli' has no attribute {name!r}")
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    if target.endswith(":"):  # the module itself
        return module
    return getattr(module, attr or name)
