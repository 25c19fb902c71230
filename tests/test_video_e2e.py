"""Issue 15 end to end: pictures and watched output reach the simulated model through the
real google-genai SDK over TLS, and its scripted replies say what it saw."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import make_scenario
from observers import Events
from video_helpers import (
    ColourWindow,
    make_image,
    make_video,
    needs_cv2,
    needs_tk,
    needs_xvfb,
    xvfb,
)

from voicecli.audio import synth
from voicecli.config import Settings
from voicecli.errors import NetworkError, ServerError, UsageError
from voicecli.session.engine import TalkRequest, run_talk
from voicecli.video.spec import build_spec
from voicecli.video.watch import WatchParams

SAW = """
voice = "tone"
latency_ms = 50
realtime = 0
default_reply = "frames {frames} colour {colour} watched {watched}"
"""


def settings_for(sim, **kw) -> Settings:
    return Settings(
        base_url=sim.base_url, ca_file=str(sim.ca_path), api_key="test-key", history=False, **kw
    )


def replies(events: list) -> list[str]:
    return [e.model_text for e in events if type(e).__name__ == "TurnEnded"]


def wav(tmp_path: Path, pattern: list[tuple[float, float]]) -> Path:
    path = tmp_path / "in.wav"
    synth.make_utterances_wav(path, pattern, rate=16000, channels=1)
    return path


async def test_images_reach_the_model(sim_factory, tmp_path) -> None:
    sim = sim_factory(make_scenario(SAW, tmp_path))
    red = make_image(tmp_path / "red.png", (220, 20, 20))
    blue = make_image(tmp_path / "blue.jpg", (20, 20, 230), size=(2000, 1000))
    obs = Events()
    req = TalkRequest(
        input=wav(tmp_path, [(0.5, 1.0)]),
        fast=True,
        observers=[obs],
        share=build_spec(images=[red, blue]),
    )
    summary = await run_talk(settings_for(sim), req)
    assert summary.images_sent == 2
    assert replies(obs.events) == ["frames 2 colour blue watched nothing"]
    vision = sim.sessions[0].vision
    assert vision.colours == ["red", "blue"]
    assert vision.sizes[1] == (1024, 512)  # long side scaled to 1024
    assert set(vision.mimes) == {"image/jpeg"}


@needs_cv2
async def test_video_file_in_step_with_the_audio(sim_factory, tmp_path) -> None:
    """Fast mode sends the audio as fast as the model answers: the frames still go out at
    their place in the audio timeline, before the utterance they accompany."""
    sim = sim_factory(make_scenario(SAW, tmp_path))
    video = tmp_path / "clip.avi"
    make_video(video, [(230, 20, 20), (20, 200, 20), (20, 20, 230)], seconds_each=2.0)
    obs = Events()
    req = TalkRequest(
        input=wav(tmp_path, [(0.6, 0.8), (0.6, 1.4), (0.6, 1.4)]),  # ends at 0.8+1.4 s etc.
        fast=True,
        observers=[obs],
        share=build_spec(video=video, fps=1.0),
    )
    summary = await run_talk(settings_for(sim), req)
    said = replies(obs.events)
    assert [s.split(" colour ")[1].split()[0] for s in said] == ["red", "green", "blue"]
    assert summary.frames_sent == 3  # one per colour; the unchanged seconds are not sent
    assert summary.frames_unchanged >= 1


async def test_watch_a_command_that_prints_and_fails(sim_factory, tmp_path) -> None:
    sim = sim_factory(make_scenario(SAW, tmp_path))
    script = tmp_path / "job.py"
    script.write_text(
        "import sys\nprint('\\x1b[32mcollecting 3 items\\x1b[0m')\n"
        "print('FAILED test_x.py::test_one - assert 1 == 2')\nsys.exit(3)\n"
    )
    obs = Events()
    req = TalkRequest(
        input=wav(tmp_path, [(0.8, 0.3)]),
        observers=[obs],
        share=build_spec(watch=f"{sys.executable} {script}"),
    )
    summary = await run_talk(settings_for(sim), req)
    assert summary.watched_lines == 2
    exits = [e for e in obs.events if type(e).__name__ == "WatchExit"]
    assert [e.status for e in exits] == [3]
    rec = sim.sessions[0]
    context = rec.vision.contexts
    assert context and "collecting 3 items" in context[0] and "\x1b" not in context[0]
    assert all(not cc.get("turnComplete") for cc in rec.client_contents)
    assert any("exited with status 3" in t for t in rec.texts)  # the exit, as a short turn
    said = replies(obs.events)
    assert said and all("watched FAILED test_x.py::test_one - assert 1 == 2" in s for s in said)


async def test_watch_file_follows_appends(sim_factory, tmp_path) -> None:
    sim = sim_factory(make_scenario(SAW, tmp_path))
    log = tmp_path / "app.log"
    log.write_text("old line\n")

    async def append() -> None:
        await asyncio.sleep(0.3)
        with log.open("a") as f:
            f.write("\x1b[31mERROR disk full\x1b[0m\n")

    obs = Events()
    spec = build_spec(watch_file=log)
    spec.watch_params = WatchParams(interval_s=0.4, poll_s=0.1)
    req = TalkRequest(input=wav(tmp_path, [(1.0, 0.3)]), observers=[obs], share=spec)
    task = asyncio.create_task(append())
    await run_talk(settings_for(sim), req)
    await task
    assert replies(obs.events) == ["frames 0 colour nothing watched ERROR disk full"]
    assert "old line" in sim.sessions[0].vision.contexts[0]  # tail -F starts with the tail


async def test_media_resolution_where_the_model_takes_it(sim_factory, tmp_path) -> None:
    sim = sim_factory(make_scenario(SAW, tmp_path))
    req = TalkRequest(input=wav(tmp_path, [(0.3, 0.6)]), fast=True)
    await run_talk(settings_for(sim, media_resolution="low"), req)
    gen = sim.sessions[0].setup["generationConfig"]
    assert gen["mediaResolution"] == "MEDIA_RESOLUTION_LOW"
    with pytest.raises(UsageError, match="does not take --media-resolution"):
        await run_talk(
            settings_for(sim, media_resolution="low", model="gemini-3.1-flash-live-preview"), req
        )


async def test_video_without_compression_ends_the_session(sim_factory, tmp_path) -> None:
    """LIVE_FACTS: about 2 minutes with video without compression (scaled down here)."""
    scen = make_scenario(SAW + "video_session_limit_s = 0.6\n", tmp_path)
    sim = sim_factory(scen)
    red = make_image(tmp_path / "red.png", (220, 20, 20))
    req = TalkRequest(
        input=wav(tmp_path, [(0.3, 0.3), (0.6, 0.3)]),
        share=build_spec(images=[red]),
    )
    s = settings_for(sim, context_compression=False, reconnect_attempts=0)
    with pytest.raises((ServerError, NetworkError)):
        await run_talk(s, req)
    assert sim.sessions[0].close_code == 1011
    # with compression on (the default) the same run is not cut
    sim2 = sim_factory(scen)
    summary = await run_talk(settings_for(sim2), replace(req, fast=True))
    assert summary.turns == 2 and sim2.sessions[0].close_code in (None, 1000)


@needs_xvfb
@needs_tk
async def test_screen_colour_change_reaches_the_model(sim_factory, tmp_path, monkeypatch) -> None:
    sim = sim_factory(make_scenario(SAW, tmp_path))
    with xvfb() as display:
        monkeypatch.setenv("DISPLAY", display)
        window = await asyncio.to_thread(ColourWindow, display, "red")
        try:

            class RepaintAfterFirstReply(Events):
                def on_event(self, event: object, t: float) -> None:
                    super().on_event(event, t)
                    if type(event).__name__ == "TurnEnded" and len(replies(self.events)) == 1:
                        window.set("blue")

            obs = RepaintAfterFirstReply()
            req = TalkRequest(
                input=wav(tmp_path, [(0.3, 1.0), (1.0, 0.4)]),
                observers=[obs],
                share=build_spec(screen="1", fps=4.0),
            )
            summary = await run_talk(settings_for(sim), req)
        finally:
            window.close()
    said = replies(obs.events)
    assert [s.split(" colour ")[1].split()[0] for s in said] == ["red", "blue"]
    assert summary.frames_sent == 2  # red, then blue; every other look unchanged
    assert summary.frames_unchanged >= 5


@needs_xvfb
async def test_static_screen_one_frame_then_none(sim_factory, tmp_path, monkeypatch) -> None:
    sim = sim_factory(make_scenario(SAW, tmp_path))
    with xvfb() as display:
        monkeypatch.setenv("DISPLAY", display)
        out = tmp_path / "frames.zip"
        req = TalkRequest(
            input=wav(tmp_path, [(1.0, 0.3)]),
            share=build_spec(screen="1", fps=5.0, record_video=out),
        )
        summary = await run_talk(settings_for(sim), req)
    assert summary.frames_sent == 1
    assert summary.frames_unchanged >= 5
    assert sim.sessions[0].vision.frames == 1
    import zipfile

    with zipfile.ZipFile(out) as z:
        assert len(z.namelist()) == 1  # --record-video keeps exactly what was sent
