"""The model table decides what goes into the setup; impossible combinations are refused."""

from __future__ import annotations

import pytest

from voicecli.config import Settings
from voicecli.errors import ModelError, UsageError
from voicecli.live import capabilities as caps
from voicecli.live.setup import build_config


def test_default_model_is_stable_and_known() -> None:
    m = caps.lookup(caps.DEFAULT_MODEL)
    assert m.stable and m.proactive_audio is caps.Support.ALWAYS


def test_unknown_model() -> None:
    with pytest.raises(ModelError, match="unknown Live model"):
        caps.lookup("gemini-0.1-nope")


def test_vertex_only_model_on_developer_api() -> None:
    with pytest.raises(ModelError, match="Vertex"):
        caps.lookup("gemini-live-2.5-flash-native-audio")
    assert caps.lookup("gemini-live-2.5-flash-native-audio", "vertex").api == "vertex"


@pytest.mark.parametrize(
    ("model", "kwargs", "match"),
    [
        ("gemini-3.8-live", {"proactive": False}, "cannot be turned off"),
        ("gemini-3.8-live", {"affective": True}, "affective"),
        ("gemini-3.8-live", {"thinking": "high"}, "no thinking"),
        ("gemini-3.1-flash-live-preview", {"proactive": True}, "does not support proactive"),
        ("gemini-3.8-live-extended-thinking", {"thinking": "1024"}, "level"),
        ("gemini-2.5-flash-native-audio-preview-12-2025", {"thinking": "high"}, "budget"),
    ],
)
def test_impossible_combinations(model: str, kwargs: dict, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        caps.resolve(caps.lookup(model), **kwargs)


def test_setup_for_default_model_has_proactive_audio_and_transcription() -> None:
    s = Settings(voice="Kore", language="en-US", system="Be brief.", style="warm")
    c = build_config(s, caps.lookup(s.model))
    assert c.proactivity is not None and c.proactivity.proactive_audio is True
    assert c.enable_affective_dialog is None and c.thinking_config is None
    assert c.input_audio_transcription is not None and c.output_audio_transcription is not None
    assert c.speech_config.voice_config.prebuilt_voice_config.voice_name == "Kore"
    text = c.system_instruction.parts[0].text
    assert "Be brief." in text and "warm" in text


def test_setup_for_configurable_model() -> None:
    s = Settings(
        model="gemini-2.5-flash-native-audio-preview-12-2025",
        affective=True,
        proactive=False,
        thinking="512",
    )
    c = build_config(s, caps.lookup(s.model))
    assert c.enable_affective_dialog is True
    assert c.proactivity.proactive_audio is False
    assert c.thinking_config.thinking_budget == 512


def test_manual_turn_detection_disables_server_vad() -> None:
    s = Settings(turn_detection="manual")
    c = build_config(s, caps.lookup(s.model))
    assert c.realtime_input_config.automatic_activity_detection.disabled is True


def test_what_each_model_refuses_mid_session() -> None:
    """Issue 27 (LIVE_FACTS "Tools and mid-session input"): audio during a pending call on
    2.5 (and 3.1, blocking calls only: the strict reading), clientContent after the initial
    history on 3.1, no voiceActivity from 3.8."""
    for m in caps.all_models():
        blocking_only = "2.5" in m.name or m.name == "gemini-3.1-flash-live-preview"
        assert m.audio_during_call is not blocking_only, m.name
        assert m.client_content is (m.name != "gemini-3.1-flash-live-preview"), m.name
        assert m.voice_activity is ("3.8" not in m.name), m.name
