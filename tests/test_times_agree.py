"""Issue 31, item 11: the times of a conversation agree in every view. A real-time session
with the simulator in which the second utterance starts while the first reply plays (a
barge-in): the plain view's stamps, ``history show``, the Markdown export and the SRT cues
put each line at the same second, and ``history play --turn 2`` spans that turn only."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from voicecli.audio import synth
from voicecli.audio_history import turn_span
from voicecli.history import HistoryStore, default_path


def _run(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "voicecli", *args],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout


def _stamps(text: str, pattern: str) -> list[tuple[float, str]]:
    return [(float(m[0]) * 60 + float(m[1]), m[2]) for m in re.findall(pattern, text)]


def test_every_view_puts_each_line_at_the_same_time(tmp_path: Path) -> None:
    wav = tmp_path / "in.wav"
    synth.make_utterances_wav(wav, [(1.0, 1.0), (1.0, 8.0)])  # speech at 0.5 s and 2.5 s
    live = _stamps(_run("talk", "--sim", "-i", str(wav)), r"\[(\d\d):(\d\d\.\d)\] (you|gemini):")
    shown = _stamps(_run("history", "show", "1"), r"\[(\d\d):(\d\d)\] (you|gemini):")
    md = _stamps(_run("history", "export", "1"), r"`(\d\d):(\d\d)` \*\*(you|gemini)\*\*:")
    srt = _run("history", "export", "1", "-f", "srt")
    cues = [
        (int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000, who)
        for h, m, s, ms, who in re.findall(r"(\d\d):(\d\d):(\d\d),(\d+) -->.*\n(you|gemini):", srt)
    ]
    assert [w for _, w in live] == ["you", "gemini", "you", "gemini"], live
    assert [w for _, w in shown] == [w for _, w in md] == [w for _, w in live]
    assert sorted(cues, key=lambda c: c[0]) == cues and [w for _, w in cues] == [w for _, w in live]
    for (t_live, _), (t_show, _), (t_md, _), (t_srt, _) in zip(live, shown, md, cues, strict=True):
        assert abs(t_srt - t_live) < 0.4, (live, cues)
        assert t_show == t_md == int(t_srt), (shown, cues)
    assert abs(live[2][0] - 2.5) < 0.4  # the barge-in is the second turn's start, not later

    store = HistoryStore(default_path())
    try:
        start, end = turn_span(store.session(1), 2)
    finally:
        store.close()
    assert 2.0 <= start <= 2.5 and end - start < 8.0, (start, end)
