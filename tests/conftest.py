"""Shared fixtures. The simulator runs in a background thread; the real google-genai SDK
talks to it over real TLS websockets (nothing mocks the SDK)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from voicecli.sim.scenario import Scenario, load_scenario
from voicecli.sim.server import SimServer


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test gets its own $VOICECLI_HOME and no real key or endpoint from the user."""
    monkeypatch.setenv("VOICECLI_HOME", str(tmp_path_factory.mktemp("home")))
    for var in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL", "SSL_CERT_FILE"):
        monkeypatch.delenv(var, raising=False)
    for var in list(os.environ):
        if var.startswith("VOICECLI_") and var != "VOICECLI_HOME":
            monkeypatch.delenv(var, raising=False)


def make_scenario(text: str, tmp_path: Path) -> Scenario:
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    return load_scenario(path)


@pytest.fixture
def sim_factory() -> Iterator:
    """Start simulators for a test (in a thread); all are stopped at the end."""
    started: list[SimServer] = []

    def start(scenario: Scenario | str | Path | None = None, **kw: object) -> SimServer:
        sim = SimServer(scenario=scenario, **kw)  # type: ignore[arg-type]
        sim.start_in_thread()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop_thread()
