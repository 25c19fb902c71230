"""Issue 37 end to end: after a barge-in the service closes the cut generation with a
``turnComplete``, with late audio and transcript of the cut reply before it (fidelity rule 12).
One interrupted turn and no phantom "chose not to answer", in the plain and JSON output, the
transcript, the summary and history; the late audio is never played (the output WAV).
Through ``voicecli talk --sim`` (the real SDK over TLS), paced in real time so the second
utterance talks over the first reply."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voicecli.audio import synth
from voicecli.cli import main
from voicecli.history import HistoryStore, default_path
from voicecli.sim.server import SimServer
from voicecli.sim.testing import dominant_frequency
from voicecli.sim.voice import tone_frequency

SCENARIO = """
voice = "tone"
latency_ms = 100
realtime = 1.0
{extra}
[[turns]]
heard = "tell me a long story"
reply = "once upon a time there was a story that went on and on"
duration_s = 4.0
[[turns]]
heard = "wait"
reply = "yes?"
duration_s = 0.8
[[turns]]
heard = "mm-hm"
silent = true
"""
# speech, silence: the second utterance starts ~0.7 s into the 4 s reply; the third one,
# after the second reply, gets a silent turn (the model chooses not to answer)
PATTERN = [(0.8, 1.6), (0.8, 2.4), (0.8, 1.6)]
ORDERS = {  # what the server sends after interrupted
    "late-then-close": "late_chunks = 2",
    "close-only": "late_chunks = 0",
    "nothing-after": "late_chunks = 0\nturn_complete_after_interrupt = false",
    "late-no-close": "late_chunks = 2\nturn_complete_after_interrupt = false",
    # extended thinking: turnComplete IN_PROGRESS then IDLE; the closing one says IDLE
    "late-then-close-thinking": "late_chunks = 2",
}
THINKING = "gemini-3.8-live-extended-thinking"


def stored() -> dict:
    store = HistoryStore(default_path())
    try:
        (row,) = store.sessions()
        return store.session(row["id"])
    finally:
        store.close()


@pytest.mark.parametrize("order", list(ORDERS))
def test_one_barge_in_is_one_interrupted_turn(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    order: str,
) -> None:
    scen = tmp_path / "s.toml"
    scen.write_text(SCENARIO.format(extra=ORDERS[order]))
    wav = tmp_path / "in.wav"
    synth.make_utterances_wav(wav, PATTERN, rate=16000)
    sims: list[SimServer] = []
    start = SimServer.start_in_thread

    def keep(self: SimServer) -> None:  # the --sim run's simulator, for its record
        sims.append(self)
        start(self)

    monkeypatch.setattr(SimServer, "start_in_thread", keep)
    json_out = order == "close-only"  # JSON lines on stdout; plain text otherwise
    args = ["talk", "--sim", "--scenario", str(scen), "-i", str(wav)]
    args += ["-o", str(tmp_path / "reply.wav"), "--transcript", str(tmp_path / "t.jsonl")]
    thinking = order.endswith("-thinking")
    args += ["--model", THINKING] if thinking else []
    code = main(args + (["--json"] if json_out else []))
    out, err = capsys.readouterr()
    assert code == 0, err
    rec = sims[0].last_session
    assert rec.interruptions == 1 and [t.interrupted for t in rec.turns] == [True, False, False]
    cut = rec.turns[0]
    closes = "turn_complete_after_interrupt = false" not in ORDERS[order]
    assert rec.sent["serverContent.turnComplete"] == 2 + closes + thinking
    assert (cut.late_audio_s > 0) is ("late_chunks = 2" in ORDERS[order])

    want = ["interrupted", "spoken", "silent"]
    # the summary, and the plain or JSON output
    assert "done: 3 turns (1 spoken, 1 silent by choice, 1 interrupted" in err, err
    assert "stall" not in err  # the cut reply's late turnComplete is no stall (issue 35)
    if json_out:
        lines = [json.loads(x) for x in out.splitlines()]
        assert [x["outcome"] for x in lines if x["type"] == "turn"] == want
        assert sum(x["type"] == "turn_complete" for x in lines) == 2  # the closing one: none
    else:
        assert out.count("(chose not to answer)") == 1 and out.count("[interrupted]") == 1, out
        assert "gemini: yes?" in out
    # the transcript file and history
    records = [json.loads(x) for x in (tmp_path / "t.jsonl").read_text().splitlines()]
    turns = [r for r in records if r["type"] == "turn"]
    assert [t["outcome"] for t in turns] == want
    assert turns[1]["model_text"] == "yes?"  # no late words of the cut reply in it
    assert records[-1]["turns"] == 3 and records[-1]["silent"] == 1
    history = stored()
    assert [t["outcome"] for t in history["turns"]] == want
    assert history["summary"]["silent"] == 1 and history["summary"]["interrupted"] == 1
    assert main(["history", "show", str(history["id"])]) == 0
    shown = capsys.readouterr().out
    assert shown.count("(chose not to answer)") == 1 and shown.count("[interrupted]") == 1

    # what was played: the cut reply up to interrupted (not its late chunks), then the answer
    reply, rate = sf.read(tmp_path / "reply.wav")
    assert len(reply) / rate == pytest.approx(cut.reply_audio_s + 0.8, abs=0.002)
    played = int(cut.reply_audio_s * rate)
    first, second = reply[: played - 100], reply[played + 100 :]
    assert dominant_frequency(first, rate) == pytest.approx(tone_frequency(0), abs=3)
    assert dominant_frequency(second, rate) == pytest.approx(tone_frequency(1), abs=3)
    assert np.abs(second).max() > 0.05


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_the_live_view_shows_one_interrupted_turn(tmp_path: Path) -> None:
    """The rich live view on a real pseudo-terminal: the same three turns."""
    from pty_helpers import Term, plain

    scen = tmp_path / "s.toml"
    scen.write_text(SCENARIO.format(extra=ORDERS["late-then-close"]))
    wav = tmp_path / "in.wav"
    synth.make_utterances_wav(wav, PATTERN, rate=16000)
    args = ["talk", "--sim", "--scenario", str(scen), "--input", str(wav), "--no-history"]
    term = Term(args, env=dict(os.environ))
    code = term.finish()
    screen = plain(term.seen)
    assert code == 0, screen[-3000:]
    assert screen.count("chose not to answer") == 1, screen[-3000:]
    assert screen.count("✂ interrupted") == 1, screen[-3000:]
    assert "gemini: yes?" in screen and "there yes?" not in screen
    assert "3 turns (1 spoken, 1 silent by choice, 1 interrupted" in screen
