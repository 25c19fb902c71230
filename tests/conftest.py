"""Shared fixtures. The simulator runs in a background thread; the real google-genai SDK
talks to it over real TLS websockets (nothing mocks the SDK)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from voicecli.sim.scenario import Scenario, load_scenario
from voicecli.sim.server import SimServer


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``-n`` (pytest-xdist, ``--dist loadgroup``): each worker is a session of its own,
    with its own private virtual PulseAudio (``vaudio``), so device tests may run on any
    worker; the cases of one test share a worker (they run one after the other, as the
    same test's real-time runs should). With $VAUDIO_DIR (one shared daemon) all of them
    share one worker. They are put first, so the longest start at once instead of ending
    the run."""
    devices = [item for item in items if item.get_closest_marker("devices")]
    if not devices or not config.getoption("loadgroup", False):
        return
    shared = bool(os.environ.get("VAUDIO_DIR"))
    for item in devices:
        group = "devices" if shared else "devices-" + item.nodeid.split("[")[0]
        item.add_marker(pytest.mark.xdist_group(group))
    chosen = set(map(id, devices))
    items[:] = devices + [item for item in items if id(item) not in chosen]


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
    from voicecli.keys import forget_secrets

    forget_secrets()  # keys registered by one test must not redact the next one's text


def make_scenario(text: str, tmp_path: Path) -> Scenario:
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    return load_scenario(path)


def read_live(path: Path) -> str:
    """The text of an output being written: while the run lasts it is a partial file next
    to its target (``NAME.XXXXXX.partial.EXT``), renamed to ``path`` at the end."""
    for candidate in [path, *sorted(path.parent.glob(f"{path.stem}.*.partial{path.suffix}"))]:
        with contextlib.suppress(FileNotFoundError):
            return candidate.read_text()
    return ""


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


# ------------------------------------------------------------------ virtual audio devices
VAUDIO = Path(__file__).resolve().parent.parent / "scripts" / "vaudio.sh"


class VirtualAudio:
    """The virtual mic and speaker of ``scripts/vaudio.sh`` (a private PulseAudio server)."""

    def __init__(self, script: Path, state_dir: str) -> None:
        self.script = str(script)
        self.env = {**os.environ, "VAUDIO_DIR": state_dir}

    def run(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.script, *args],
            env=self.env,
            check=True,
            timeout=timeout,
            capture_output=True,
            text=True,
        )

    def running(self) -> bool:
        cmd = [self.script, "status"]
        return subprocess.run(cmd, env=self.env, capture_output=True, check=False).returncode == 0

    def play_into_mic(self, path: Path) -> None:
        self.run("play-into-mic", str(path))

    def play_into_mic_async(self, path: Path) -> subprocess.Popen[bytes]:
        return subprocess.Popen([self.script, "play-into-mic", str(path)], env=self.env)

    def wait_mic_open(self, timeout: float = 10) -> None:
        self.run("wait-mic-open", str(int(timeout)), timeout=timeout + 5)

    def loopback(self, on: bool, latency_ms: int = 40) -> None:
        self.run("loopback", "on", str(latency_ms)) if on else self.run("loopback", "off")

    @contextlib.contextmanager
    def record_speaker(self, path: Path) -> Iterator[Path]:
        """Records the speaker into ``path`` (48 kHz mono WAV) until the block ends."""
        proc = subprocess.Popen([self.script, "record-speaker", str(path)], env=self.env)
        time.sleep(0.3)  # let parecord connect
        try:
            yield path
        finally:
            proc.send_signal(signal.SIGINT)  # parecord finishes the WAV header
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def vaudio() -> Iterator[VirtualAudio]:
    """Virtual devices for the session: in $VAUDIO_DIR if set (left running if it was),
    else in a private directory (so parallel test runs do not share a microphone).
    PULSE_SERVER is set for this process (sounddevice re-scans) and every child (the CLI)."""
    if not all(shutil.which(t) for t in ("pulseaudio", "pactl", "paplay", "parecord")):
        pytest.skip("virtual audio needs pulseaudio and pulseaudio-utils (make testdeps)")
    state_dir = os.environ.get("VAUDIO_DIR") or tempfile.mkdtemp(prefix="voicecli-vaudio-")
    va = VirtualAudio(VAUDIO, state_dir)
    was_running = va.running()
    server = va.run("start").stdout.strip().removeprefix("export PULSE_SERVER=")
    old = os.environ.get("PULSE_SERVER")
    os.environ["PULSE_SERVER"] = server
    va.env["PULSE_SERVER"] = server
    from voicecli.audio.devices import rescan

    rescan()
    va.loopback(False)
    try:
        yield va
    finally:
        va.loopback(False)
        if not was_running:
            subprocess.run([va.script, "stop"], env=va.env, capture_output=True, check=False)
        if "VAUDIO_DIR" not in os.environ:  # our private directory: leave nothing behind
            shutil.rmtree(state_dir, ignore_errors=True)
        if old is None:
            os.environ.pop("PULSE_SERVER", None)
        else:
            os.environ["PULSE_SERVER"] = old
