"""A local Live API simulator that the unmodified google-genai SDK talks to over TLS."""

from voicecli.sim.records import RestRecord, SessionRecord, UserTurn
from voicecli.sim.scenario import Scenario, ToolCallSpec, Turn, bundled_scenarios, load_scenario
from voicecli.sim.server import SimServer, run_sim
from voicecli.sim.voice import PREBUILT_VOICES, TONE_FREQS_HZ

__all__ = [
    "PREBUILT_VOICES",
    "TONE_FREQS_HZ",
    "RestRecord",
    "Scenario",
    "SessionRecord",
    "SimServer",
    "ToolCallSpec",
    "Turn",
    "UserTurn",
    "bundled_scenarios",
    "load_scenario",
    "run_sim",
]
