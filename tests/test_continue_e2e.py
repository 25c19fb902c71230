"""Issue 16 end to end, through the real SDK over TLS to the simulator: ``--continue``
resumes by handle; when the server forgot the handle it seeds a new session with the earlier
turns (the simulator reports them); ``/system`` changes the reply on the same connection;
the kept recording plays back and exports (SRT parsed back, WAV duration)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
import srt
from conftest import make_scenario

from voicecli import audio_history
from voicecli.audio import synth
from voicecli.audio.files import FileSource
from voicecli.cli import main
from voicecli.config import Settings
from voicecli.errors import ModelError
from voicecli.history import HistoryStore, default_path
from voicecli.live import events as ev
from voicecli.session.engine import TalkRequest, run_talk

SCENARIO = """
voice = "tone"
latency_ms = 50
realtime = 0
default_reply = "[{system}] seeded {seeded}: you said {heard}"
"""


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    path = tmp_path / "in.wav"
    synth.make_utterances_wav(path, [(0.8, 0.8)], rate=16000)
    return path


def use_sim(sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in sim.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GEMINI_API_KEY", "test-key-123456")


def stored(sid: int) -> dict[str, Any]:
    store = HistoryStore(default_path())
    try:
        return store.session(sid)
    finally:
        store.close()


def test_continue_resumes_by_handle(sim_factory, tmp_path, wav, monkeypatch, capsys) -> None:
    sim = sim_factory(make_scenario(SCENARIO, tmp_path))
    use_sim(sim, monkeypatch)
    assert main(["talk", "--fast", "-i", str(wav), "--system", "be kind"]) == 0
    first = stored(1)
    assert first["resume_handle"] and first["turns"][0]["model_text"].startswith("[be kind]")
    capsys.readouterr()
    assert main(["talk", "-c", "--fast", "-i", str(wav), "--system", "be kind"]) == 0
    err = capsys.readouterr().err
    assert "continuing session 1: resumed with its handle" in err
    assert sim.last_session.resumed_from == first["resume_handle"]
    assert sim.last_session.seeded_turns == []
    second = stored(2)
    assert (second["conversation_id"], second["continued_from"]) == (1, 1)
    assert second["continued_how"] == "resumed"


def test_forgotten_handle_seeds_history(sim_factory, tmp_path, wav, monkeypatch, capsys) -> None:
    sim = sim_factory(make_scenario(SCENARIO + "handle_ttl_s = 0\n", tmp_path))
    use_sim(sim, monkeypatch)
    assert main(["talk", "--fast", "-i", str(wav)]) == 0
    assert main(["talk", "--fast", "-i", str(wav), "--session", "1"]) == 0
    capsys.readouterr()
    assert main(["listen", "-c", "--quiet", "--fast", "-i", str(wav)]) == 0  # listen too
    err = capsys.readouterr().err
    assert "new session, 2 earlier turns seeded" in err  # two exchanges (issue 31)
    # issue 27: refused with 1008 (the simulator's default; the real code is not
    # documented), which is not taken for a missing model: the message says what happened
    assert "the server refused its handle, close 1008" in err
    refused = [s for s in sim.sessions if s.close_code == 1008]
    assert len(refused) == 2 and "Session not found" in (refused[0].close_reason or "")
    seeded = sim.sessions[-1].seeded_turns
    assert [role for role, _ in seeded] == ["user", "model", "user", "model"]
    assert "you said" in seeded[1][1]
    third = stored(3)
    assert (third["command"], third["continued_how"], third["seeded_turns"]) == (
        "listen",
        "seeded",
        4,
    )
    assert third["conversation_id"] == 1
    assert main(["history", "show", "3"]) == 0
    assert "continues: session 2 (seeded, 4 turns seeded)" in capsys.readouterr().out


def test_seed_budget_note(sim_factory, tmp_path, wav, monkeypatch, capsys) -> None:
    sim = sim_factory(make_scenario(SCENARIO + "honour_resumption = false\n", tmp_path))
    use_sim(sim, monkeypatch)
    for _ in range(3):
        assert main(["talk", "--fast", "-i", str(wav), "-c"] if default_path().exists()
                    else ["talk", "--fast", "-i", str(wav)]) == 0  # fmt: skip
    capsys.readouterr()
    monkeypatch.setenv("VOICECLI_CONTINUE_BUDGET_TOKENS", "40")
    assert main(["talk", "--fast", "-i", str(wav), "-c"]) == 0
    err = capsys.readouterr().err
    assert "older turns (~" in err and "left out to stay within 40 tokens" in err
    seeded = sim.sessions[-1].seeded_turns
    assert seeded and seeded[0][0] == "user" and len(seeded) < 6


class TwoUtterances:
    """One utterance, then (once ``gate`` is set) a second one: fast, but in a known order."""

    frame_ms = 20

    def __init__(self, path: Path) -> None:
        self.path = path
        self.gate = asyncio.Event()

    async def frames(self) -> Any:
        for k in range(2):
            if k:
                await self.gate.wait()
            async for frame in FileSource(self.path, realtime=False).frames():
                yield frame

    async def aclose(self) -> None:
        pass


async def test_system_changes_the_reply_on_one_connection(sim_factory, tmp_path, wav) -> None:
    sim = sim_factory(make_scenario(SCENARIO, tmp_path))
    settings = Settings(
        base_url=sim.base_url, ca_file=str(sim.ca_path), api_key="k-123456", system="plain"
    )
    source = TwoUtterances(wav)
    seen: list[Any] = []

    def on_start(conv: Any) -> None:
        async def change() -> None:
            await conv.change_context("system", "talk like a pirate")
            source.gate.set()

        class Obs:
            def on_event(self, event: Any, t: float) -> None:
                seen.append(event)
                if isinstance(event, ev.TurnEnded) and not source.gate.is_set():
                    asyncio.get_running_loop().create_task(change())

        conv.observers.append(Obs())

    req = TalkRequest(source=source, fast=True, on_start=on_start)
    summary = await run_talk(settings, req)
    turns = [e for e in seen if isinstance(e, ev.TurnEnded)]
    assert summary.turns == 2 and summary.reconnects == 0
    assert turns[0].model_text.startswith("[plain]")
    assert turns[1].model_text.startswith("[talk like a pirate]")
    assert len(sim.sessions) == 1 and len(sim.last_session.context_updates) == 1
    assert not any(isinstance(e, ev.UserText) for e in seen)  # not a user turn
    change = next(e for e in seen if isinstance(e, ev.ContextChange))
    assert change.text == "system instructions now: talk like a pirate"


async def test_context_update_refused_where_unsupported(sim_factory, tmp_path) -> None:
    sim = sim_factory(make_scenario(SCENARIO, tmp_path))
    settings = Settings(
        base_url=sim.base_url,
        ca_file=str(sim.ca_path),
        api_key="k-123456",
        model="gemini-2.5-flash-native-audio-preview-12-2025",
    )
    wav = tmp_path / "one.wav"
    synth.make_utterances_wav(wav, [(0.8, 0.8)], rate=16000)
    errors: list[Exception] = []

    def on_start(conv: Any) -> None:
        async def change() -> None:
            try:
                await conv.change_context("style", "whisper")
            except ModelError as e:
                errors.append(e)

        asyncio.get_running_loop().create_task(change())

    await run_talk(settings, TalkRequest(input=wav, fast=True, on_start=on_start))
    assert errors and "cannot change instructions or tools mid-session" in str(errors[0])
    assert sim.last_session.context_updates == []  # nothing was sent


@pytest.mark.flaky(reruns=2)  # timing of a fast-mode run on a loaded machine
def test_listen_back_play_and_export(sim_factory, tmp_path, monkeypatch, capsys) -> None:
    sim = sim_factory(make_scenario(SCENARIO, tmp_path))
    use_sim(sim, monkeypatch)
    wav = tmp_path / "two.wav"
    synth.make_utterances_wav(wav, [(0.8, 0.8), (0.8, 0.8)], rate=16000)
    assert main(["talk", "--fast", "-i", str(wav)]) == 0
    data = stored(1)
    rec = Path(data["audio_path"])
    assert rec.suffix == ".flac" and rec.exists() and sf.info(str(rec)).format == "FLAC"
    capsys.readouterr()
    assert main(["history", "export", "1", "--format", "srt"]) == 0
    cues = list(srt.parse(capsys.readouterr().out))
    shown = [(c.start.total_seconds(), c.end.total_seconds(), c.content) for c in cues]
    assert [c.content.split(":")[0] for c in cues] == ["you", "gemini", "you", "gemini"], shown
    assert all(c.end > c.start for c in cues), shown
    assert all(a.start <= b.start for a, b in zip(cues, cues[1:], strict=False)), shown
    out = tmp_path / "both.wav"
    assert main(["history", "export", "1", "--format", "wav", "-o", str(out)]) == 0
    info = sf.info(str(out))
    assert info.channels == 2 and info.samplerate == 24000
    assert abs(info.duration - sf.info(str(rec)).duration) < 0.01
    assert info.duration >= data["turns"][-1]["t"] - 0.5
    start, end = audio_history.turn_span(data, 2)
    assert data["turns"][0]["t"] - 0.5 <= start < end
    frames, rate = audio_history.read(rec, start, end)
    assert abs(len(frames) / rate - (end - start)) < 0.05
    assert main(["history", "play", "1", "--turn", "9"]) == 2  # one line: no such turn


def test_no_audio_history_and_pruning(sim_factory, tmp_path, wav, monkeypatch) -> None:
    sim = sim_factory(make_scenario(SCENARIO, tmp_path))
    use_sim(sim, monkeypatch)
    assert main(["talk", "--fast", "-i", str(wav), "--no-audio-history"]) == 0
    assert stored(1)["audio_path"] is None
    assert main(["talk", "--fast", "-i", str(wav)]) == 0
    first = Path(stored(2)["audio_path"])
    size = first.stat().st_size
    cfg = tmp_path / "config.toml"
    cfg.write_text(f"audio_history_mb = {size * 1.2 / 1e6}\n")
    assert main(["talk", "--fast", "-i", str(wav), "--config", str(cfg)]) == 0
    assert not first.exists() and stored(2)["audio_path"] is None  # oldest pruned
    assert Path(stored(3)["audio_path"]).exists()
    assert main(["history", "play", "2"]) == 2  # pruned: one clear line
