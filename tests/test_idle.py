"""Issue 35 part 3: an idle session ends cleanly (exit 0, the summary) or mutes the
microphone; the cost estimate counts thinking, cached and tool-use tokens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_scenario
from google.genai import types

from voicecli.audio import synth
from voicecli.cli import main
from voicecli.config import Settings
from voicecli.live import events as ev
from voicecli.live.transport import convert
from voicecli.pricing import Prices, Tokens
from voicecli.session.engine import TalkRequest, run_talk
from voicecli.session.listen import THEN_TALK_IDLE_S, listen_settings

SCENARIO = 'voice = "tone"\nlatency_ms = 50\n[[turns]]\nheard = "hello"\nreply = "hi"\n'


def one_then_quiet(path: Path, quiet_s: float) -> Path:
    synth.make_utterances_wav(path, [(1.0, quiet_s)], rate=16000)
    return path


def test_idle_timeout_ends_the_session_with_exit_0_and_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scen = tmp_path / "s.toml"
    scen.write_text(SCENARIO)
    wav = one_then_quiet(tmp_path / "in.wav", 20.0)
    args = ["talk", "--sim", "--scenario", str(scen), "-i", str(wav), "--idle-timeout", "1.5"]
    code = main([*args, "--json", "--no-history"])
    out, err = capsys.readouterr()
    assert code == 0, err
    records = [json.loads(x) for x in out.splitlines()]
    notices = [r["text"] for r in records if r["type"] == "notice"]
    assert "no speech for 2 s: ending the session" in notices
    end = records[-1]
    assert end["type"] == "session_end" and end["ended_idle"] and end["spoken"] == 1
    assert end["t"] < 10  # long before the 21 s input ran out
    assert "ended idle (no speech)" in err and "done: 1 turn" in err


async def test_idle_can_mute_the_microphone_instead(sim_factory, tmp_path: Path) -> None:
    sim = sim_factory(make_scenario(SCENARIO, tmp_path))
    seen: list[object] = []

    class Obs:
        def on_event(self, event: object, t: float) -> None:
            seen.append(event)

    settings = Settings(
        base_url=sim.base_url,
        ca_file=str(sim.ca_path),
        api_key="test-key",
        idle_timeout=1.0,
        idle_action="mute",
    )
    req = TalkRequest(input=one_then_quiet(tmp_path / "in.wav", 3.0), observers=[Obs()])
    summary = await run_talk(settings, req)
    assert [e.muted for e in seen if isinstance(e, ev.MuteChanged)] == [True]
    assert not summary.ended_idle and summary.spoken == 1


def test_cost_counts_thinking_tool_use_and_cached_tokens() -> None:
    msg = types.LiveServerMessage(
        usage_metadata=types.UsageMetadata(
            prompt_token_count=1000,
            response_token_count=100,
            total_token_count=1700,
            thoughts_token_count=500,
            tool_use_prompt_token_count=100,
            cached_content_token_count=400,
        )
    )
    (usage,) = convert(msg)
    assert isinstance(usage, ev.Usage)
    assert (usage.thoughts, usage.tool_use, usage.cached) == (500, 100, 400)
    tokens = Tokens()
    tokens.add(usage)
    base = Tokens(prompt=1000, response=100, total=1700)
    p = Prices()
    # thinking is billed as text output, tool use as text input (not in prompt/response)
    assert tokens.cost(p) == pytest.approx(base.cost(p) + (500 * 2.00 + 100 * 0.50) / 1e6)
    cheap = Prices(cached_in=0.125)  # a cached rate: the cached part of the prompt is cheaper
    assert tokens.cost(cheap) == pytest.approx(tokens.cost(p) - 400 * (0.50 - 0.125) / 1e6)
    assert "500 thinking, 100 tool use, 400 cached" in tokens.line()


def test_listen_then_talk_has_an_idle_timeout_by_default_and_talk_none() -> None:
    base = Settings(api_key="k")
    assert base.idle_timeout is None  # talk: off
    assert listen_settings(base).idle_timeout is None  # listen on a recording: off
    assert listen_settings(base, then_talk=True).idle_timeout == THEN_TALK_IDLE_S
    off = Settings(api_key="k", idle_timeout=0)
    assert listen_settings(off, then_talk=True).idle_timeout == 0  # the user's choice wins
