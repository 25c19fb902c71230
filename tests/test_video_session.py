"""Issue 15: sharing across the session's life (new sessions after a reconnect, looks when
the user speaks) and what the views show about it."""

from __future__ import annotations

from pathlib import Path

from conftest import make_scenario
from rich.console import Console
from video_helpers import make_image

from voicecli.audio import synth
from voicecli.config import Settings
from voicecli.session.engine import TalkRequest, run_talk
from voicecli.ui.live_view import LiveView
from voicecli.video.events import Sharing
from voicecli.video.share import IDLE_LOOK_S, look_interval
from voicecli.video.spec import build_spec

DROP_THEN_NEW = """
voice = "tone"
latency_ms = 50
realtime = 0
honour_resumption = false
default_reply = "frames {frames} colour {colour}"
[[turns]]
reply = "this reply is cut by a dropped connection"
duration_s = 1.0
fault = "drop"
"""


async def test_a_new_session_gets_the_pictures_again(sim_factory, tmp_path: Path) -> None:
    sim = sim_factory(make_scenario(DROP_THEN_NEW, tmp_path))
    wav = tmp_path / "in.wav"
    synth.make_utterances_wav(wav, [(0.4, 0.6), (0.4, 0.6)])
    red = make_image(tmp_path / "red.png", (220, 20, 20))
    settings = Settings(base_url=sim.base_url, ca_file=str(sim.ca_path), api_key="k", history=False)
    summary = await run_talk(settings, TalkRequest(input=wav, share=build_spec(images=[red])))
    assert summary.reconnects >= 1
    assert len(sim.sessions) >= 2
    assert sim.sessions[-1].resumed_from is None  # a new session, not resumed
    assert sim.sessions[-1].vision.colours == ["red"]  # the image was sent again
    assert summary.images_sent == 2


def test_static_pictures_are_looked_at_less_often() -> None:
    assert look_interval(1.0, 0) == 1.0
    assert look_interval(1.0, 5) == 2.0
    assert look_interval(1.0, 50) == IDLE_LOOK_S
    assert look_interval(0.25, 50) == 0.75
    assert look_interval(5.0, 50) == 5.0  # never faster than asked for


def test_status_line_says_what_is_shared() -> None:
    view = LiveView(console=Console(width=200, file=open("/dev/null", "w")))  # noqa: SIM115
    line = view.status_line(0.0).plain
    assert "▣" not in line  # nothing asked: nothing said
    view.on_event(Sharing(("screen 1", "watch `make`"), 3, 40, 300 * 1024, 1, 12), 1.0)
    line = view.status_line(1.0).plain
    assert "screen 1, watch `make`" in line
    assert "4 pictures, 300 KB, 12 lines sent" in line
    view.on_event(Sharing((), 3, 40, 300 * 1024, 1, 12), 2.0)
    assert "nothing shared" in view.status_line(2.0).plain  # after /unshare


async def test_proactive_video_lets_a_picture_start_a_turn(sim_factory, tmp_path: Path) -> None:
    scen = make_scenario('voice = "tone"\nlatency_ms = 50\nrealtime = 0\n', tmp_path)
    sim = sim_factory(scen)
    wav = tmp_path / "in.wav"
    synth.make_utterances_wav(wav, [(0.4, 1.0)])
    red = make_image(tmp_path / "red.png", (220, 20, 20))
    settings = Settings(
        base_url=sim.base_url,
        ca_file=str(sim.ca_path),
        api_key="k",
        history=False,
        proactive_video=True,
    )
    await run_talk(settings, TalkRequest(input=wav, share=build_spec(images=[red])))
    rec = sim.sessions[0]
    pro = rec.setup["proactivity"]  # nested config passes through in snake_case (LIVE_FACTS)
    assert pro.get("proactive_video", pro.get("proactiveVideo")) is True
    assert [t.source for t in rec.turns][0] == "video" and len(rec.turns) == 2


def test_proactive_video_needs_proactive_audio() -> None:
    import pytest

    from voicecli.errors import UsageError
    from voicecli.live import capabilities
    from voicecli.live.setup import build_config

    model = "gemini-2.5-flash-native-audio-preview-12-2025"
    caps = capabilities.lookup(model, "developer")
    with pytest.raises(UsageError, match="needs proactive audio"):
        build_config(Settings(model=model, proactive=False, proactive_video=True), caps)
    config = build_config(Settings(model=model, proactive_video=True), caps)
    assert config.proactivity is not None and config.proactivity.proactive_video is True
