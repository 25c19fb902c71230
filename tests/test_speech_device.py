"""`voicecli say` through the (virtual) speaker: played in full, then the command ends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voicecli.cli import main
from voicecli.sim import Scenario
from voicecli.sim.testing import dominant_frequency
from voicecli.sim.voice import text_duration, voice_frequency

pytestmark = [
    pytest.mark.devices,
    pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession:DeprecationWarning"),
]


def test_say_plays_on_the_speaker(
    vaudio: object, sim_factory: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = sim_factory(Scenario(voice="tone"))  # type: ignore[operator]
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", sim.base_url)
    monkeypatch.setenv("SSL_CERT_FILE", str(sim.ca_path))
    monkeypatch.setenv("GEMINI_API_KEY", "device-key")
    text = "Played on the speaker. Then the command ends."
    rec = tmp_path / "speaker.wav"
    with vaudio.record_speaker(rec):  # type: ignore[attr-defined]
        assert main(["say", text, "--voice", "Puck", "--max-chars", "25"]) == 0
    data, rate = sf.read(str(rec), dtype="int16")
    loud = np.flatnonzero(np.abs(data.astype(np.int32)) > 1000)
    assert loud.size, "nothing reached the speaker"
    heard_s = (loud[-1] - loud[0]) / rate
    parts = [text_duration("Played on the speaker."), text_duration("Then the command ends.")]
    assert heard_s == pytest.approx(sum(parts) - 0.01, abs=0.15)  # played to the end
    mid = data[loud[0] + rate // 4 : loud[0] + rate // 2]
    assert dominant_frequency(mid.tobytes(), rate) == pytest.approx(voice_frequency("Puck"), abs=3)
