"""The rich live view rendered into a fixed-size console: what the user sees, as text."""

from __future__ import annotations

import io

from google.genai import types
from rich.console import Console

from voicecli.live import events as ev
from voicecli.live.transport import convert
from voicecli.ui.live_view import LiveView


def make_view(**kw: object) -> tuple[LiveView, Console]:
    console = Console(record=True, width=100, file=io.StringIO(), color_system=None)
    view = LiveView(console, clock_fn=lambda: 0.0, err_console=console, **kw)  # type: ignore[arg-type]
    return view, console


def region(view: LiveView, console: Console, now: float) -> str:
    """The live region as text (the console keeps only this render)."""
    console.export_text(clear=True)
    console.print(view.render(now))
    return console.export_text(clear=True)


def printed(view: LiveView, console: Console, now: float) -> str:
    """What scrolled up (finished lines) at this tick."""
    console.export_text(clear=True)
    view.tick(now)
    return console.export_text(clear=True)


def pcm(seconds: float) -> bytes:
    return bytes(int(24000 * seconds) * 2)


def test_partial_transcripts_update_in_place_and_commit_once() -> None:
    view, console = make_view()
    view.on_event(ev.UserSpeechStarted(), 1.0)
    view.on_event(ev.InputTranscript("What's a good"), 1.5)
    first = region(view, console, 1.5)
    assert "you: What's a good…" in first
    view.on_event(ev.InputTranscript(" name for a cat?", final=True), 2.0)
    second = region(view, console, 2.0)
    assert second.count("you:") == 1 and "you: What's a good name for a cat?" in second
    assert "hearing you" in second
    view.on_event(ev.UserSpeechEnded(), 2.1)
    view.on_event(ev.AudioChunk(pcm(0.1)), 2.5)
    view.on_event(ev.OutputTranscript("How about"), 2.6)
    view.on_event(ev.OutputTranscript(" Pixel?"), 2.9)
    speaking = region(view, console, 3.0)
    assert "gemini: How about Pixel?" in speaking
    # the status line's latency is the live layer's (the finished turn's), never its own
    assert "speaking" in speaking and "latency -" in speaking
    turn = ev.TurnEnded(1, "spoken", "What's a good name for a cat?", "How about Pixel?", 0.1, 0.4)
    view.on_event(turn, 3.2)
    out = printed(view, console, 3.2)
    assert "00:01 you: What's a good name for a cat?" in out  # when the utterance started
    assert "00:02 gemini: How about Pixel?  400 ms" in out  # when the reply started
    after = region(view, console, 3.3)
    assert "latency 400 ms" in after
    assert "you:" not in after and "gemini:" not in after  # partials cleared
    assert "listening" in after
    assert printed(view, console, 3.4) == ""  # finished lines are printed exactly once


def test_interrupted_and_silent_marks() -> None:
    view, console = make_view()
    view.on_event(ev.OutputTranscript("Well, let me tell you about"), 1.0)
    view.on_event(ev.TurnEnded(1, "interrupted", "", "Well, let me tell", 0.8, 0.3), 1.5)
    view.on_event(ev.TurnEnded(2, "silent", "hmm", "", 0.0, None), 4.0)
    out = printed(view, console, 4.0)
    assert "gemini: Well, let me tell  ✂ interrupted  300 ms" in out
    assert "you: hmm" in out
    assert "gemini: … chose not to answer" in out


def test_typed_line_notice_and_go_away() -> None:
    view, console = make_view()
    view.on_event(ev.UserText("what time is it?"), 2.0)
    view.on_event(ev.Reconnect("reconnecting", "connection lost", 1), 3.0)
    view.on_event(ev.GoAway(30.0), 5.0)
    out = printed(view, console, 5.0)
    assert "00:02 you (typed): what time is it?" in out
    assert "· reconnecting" in out
    assert "the server will close the connection in 30 s" in out
    assert "reconnecting" in region(view, console, 5.0).splitlines()[-1]


def test_tool_call_panel_running_then_done_and_failed() -> None:
    view, console = make_view()
    call = ev.ToolCall(
        (
            ev.FunctionCall("c1", "get_weather", {"city": "Oslo"}),
            ev.FunctionCall("c2", "lookup", {"q": "x"}),
        )
    )
    view.on_event(call, 10.0)
    running = region(view, console, 11.25)
    assert "⚙ get_weather" in running and '{"city": "Oslo"}' in running
    assert "running 1.2 s" in running and "⚙ lookup" in running
    results = ev.ToolResults(
        (
            ev.FunctionResult("c1", "get_weather", {"result": {"temp_c": 4}}),
            ev.FunctionResult("c2", "lookup", {"error": "no such thing"}),
        )
    )
    view.on_event(results, 10.12)
    out = printed(view, console, 10.12)
    assert "⚙ get_weather" in out and 'result {"temp_c": 4}' in out and "120 ms" in out
    assert 'error "no such thing"' in out and "failed in 120 ms" in out
    assert "⚙" not in region(view, console, 10.2)  # nothing running any more


def test_tool_cancellation() -> None:
    view, console = make_view()
    view.on_event(ev.ToolCall((ev.FunctionCall("c9", "slow", {}),)), 1.0)
    view.on_event(ev.ToolCallCancellation(("c9",)), 2.0)
    out = printed(view, console, 2.0)
    assert "⚙ slow" in out and "cancelled" in out


def test_status_line_fields() -> None:
    view, console = make_view(connection_limit_s=600.0)
    view.on_event(ev.SetupDone(), 0.5)
    view.on_event(ev.Usage(100, 134, 1234), 30.0)
    view.set_level(-30.0)
    line = region(view, console, 83.0).splitlines()[-1]
    assert line.startswith("● listening")
    assert "mic ▮▮▮▮▯▯▯▯ -30 dB" in line
    assert "01:23" in line and "08:37 left" in line  # 600 s limit from the setup at 0.5 s
    assert "1,234 tokens" in line
    view.on_event(ev.GoAway(20.0), 90.0)
    assert "00:20 left" in region(view, console, 90.0)
    view.on_event(ev.MuteChanged(True), 91.0)  # prints MUTED_NOTICE
    line = region(view, console, 91.0).splitlines()[-1]
    assert line.startswith("● muted") and "mic off" in line
    view.on_event(ev.MuteChanged(False), 92.0)  # prints UNMUTED_NOTICE
    assert region(view, console, 92.0).splitlines()[-1].startswith("● listening")


def test_states_follow_the_conversation() -> None:
    view, console = make_view()

    def state(now: float) -> str:
        return region(view, console, now).splitlines()[-1].split(" │ ")[0]

    assert state(0) == "● listening"
    view.on_event(ev.UserSpeechStarted(), 1.0)
    assert state(1) == "● hearing you"
    view.on_event(ev.UserSpeechEnded(), 2.0)
    assert state(2) == "● thinking"
    view.on_event(ev.AudioChunk(pcm(0.02)), 2.3)
    assert state(2.3) == "● speaking"
    view.on_event(ev.TurnEnded(1, "spoken", "", "ok", 0.02, 0.3), 3.0)
    assert state(3) == "● listening"
    view.on_event(ev.Reconnect("reconnecting", "connection lost", 1), 4.0)
    assert state(4) == "● reconnecting"
    view.on_event(ev.SetupDone(), 5.0)
    assert state(5) == "● listening"
    view.on_event(ev.Reconnect("reconnecting", "GoAway", 2), 6.0)
    assert state(6) == "● reconnecting"
    view.on_event(ev.Reconnect("resumed"), 7.0)
    assert state(7) == "● listening"
    out = printed(view, console, 7.0)
    assert "· reconnecting: GoAway (attempt 2)" in out
    assert "· reconnected, conversation resumed" in out


def test_reconnect_restarts_the_connection_clock() -> None:
    view, console = make_view(connection_limit_s=600.0)
    view.on_event(ev.Reconnect("new_session", "could not resume"), 590.0)
    assert "10:00 left" in region(view, console, 590.0)
    assert "earlier context is lost" in printed(view, console, 590.0)


def test_barge_in_keeps_the_new_utterance_partial() -> None:
    view, console = make_view()
    view.on_event(ev.OutputTranscript("Let me explain the"), 1.0)
    view.on_event(ev.InputTranscript("wait, stop"), 1.2)  # the user talks over the model
    view.on_event(ev.TurnEnded(1, "interrupted", "", "Let me explain the", 0.5, 0.3), 1.3)
    assert "✂ interrupted" in printed(view, console, 1.3)
    live = region(view, console, 1.4)
    assert "you: wait, stop…" in live and "gemini:" not in live


def test_prompt_line_and_long_partials_stay_small() -> None:
    view, console = make_view()
    view.set_input("/sty")
    view.on_event(ev.OutputTranscript("word " * 200), 1.0)
    text = region(view, console, 1.0)
    assert text.splitlines()[-1].startswith("› /sty")
    assert len(text.splitlines()) <= 5  # the tail of a long partial, not all of it
    assert "…word" in text


def test_redraws_only_on_visible_change() -> None:
    view, console = make_view()
    view.on_event(ev.UserSpeechEnded(), 0.0)
    assert view.tick(0.1) is True
    assert view.tick(0.2) is False  # nothing changed
    view.on_event(ev.AudioChunk(pcm(0.02)), 0.3)  # first audio: state + latency change
    assert view.tick(0.3) is True
    for i in range(50):  # more audio: counters only
        view.on_event(ev.AudioChunk(pcm(0.02)), 0.31 + i * 0.001)
    assert view.tick(0.4) is False
    assert view.tick(1.0) is True  # the session clock's second changed
    view.set_level(-10.0)
    assert view.tick(1.1) is True  # the meter moved
    assert view.session.audio_chunks == 51


async def test_metered_source_feeds_the_meter() -> None:
    import numpy as np

    from voicecli.ui.talk_ui import MeteredSource

    class Tone:
        frame_ms = 20

        async def frames(self):  # type: ignore[no-untyped-def]
            x = (0.1 * 32767 * np.sin(np.arange(320) / 3)).astype("<i2").tobytes()
            for _ in range(4):
                yield x

        async def aclose(self) -> None:
            pass

    view, console = make_view()
    source = MeteredSource(Tone(), view.set_level)
    frames = [f async for f in source.frames()]
    assert len(frames) == 4 and source.frame_ms == 20
    assert -24 < view.session.level_dbfs < -22  # 0.1 full-scale sine: -23 dBFS
    assert "mic ▮▮▮▮▮▯▯▯ -23 dB" in region(view, console, 1.0)


def test_a_line_typed_during_a_reply_prints_below_the_line_it_interrupted() -> None:
    view, console = make_view()
    view.on_event(ev.UserSpeechStarted(), 1.0)
    view.on_event(ev.UserSpeechEnded(), 2.0)
    view.on_event(ev.OutputTranscript("Once upon a"), 2.4)
    view.on_event(ev.UserText("stop, tell me the time"), 3.0)
    assert "you (typed)" not in printed(view, console, 3.0)  # held while the reply runs
    view.on_event(ev.TurnEnded(1, "interrupted", "a story", "Once upon a", 0.6, 0.4), 3.1)
    lines = [ln for ln in printed(view, console, 3.1).splitlines() if ln.strip()]
    assert [ln.split(" ", 1)[1].split(":")[0] for ln in lines] == ["you", "gemini", "you (typed)"]
    assert lines[0].startswith("00:01 you: a story") and lines[2].startswith("00:03 you (typed)")


def test_no_mic_on_while_a_file_streams_and_no_stale_thinking_after_a_cancel() -> None:
    view, console = make_view()
    view.on_event(ev.UserSpeechEnded(), 1.0)
    assert "mic" not in region(view, console, 1.0)  # no meter: a file, not the microphone
    assert "thinking" in region(view, console, 1.0)
    view.on_event(ev.ToolCall((ev.FunctionCall("c1", "slow", {}),)), 1.2)
    view.on_event(ev.ToolCallCancellation(("c1",)), 1.5)
    after = region(view, console, 1.6)
    assert "thinking" not in after and "listening" in after and "running" not in after
    view.set_level(-20.0)
    assert "mic ▮" in region(view, console, 1.7)


def voice_activity(kind: types.VoiceActivityType) -> ev.VoiceActivity:
    """A voiceActivity as a real session delivers it: the SDK's message through the
    transport's converter."""
    msg = types.LiveServerMessage(voice_activity=types.VoiceActivity(voice_activity_type=kind))
    (event,) = convert(msg)
    assert isinstance(event, ev.VoiceActivity)
    return event


def test_voice_activity_from_a_real_activity_start_shows_the_user_speaking() -> None:
    """Issue 27: the view compared with "start" while the transport passed ACTIVITY_START."""
    view, console = make_view()
    view.on_event(voice_activity(types.VoiceActivityType.ACTIVITY_START), 1.0)
    assert "hearing you" in region(view, console, 1.2)
    view.on_event(ev.InputTranscript("hello there", final=True), 2.5)
    view.on_event(voice_activity(types.VoiceActivityType.ACTIVITY_END), 2.6)
    view.on_event(ev.TurnEnded(1, "spoken", "hello there", "hi", 0.2, 0.3), 3.5)
    assert "00:01 you: hello there" in printed(view, console, 3.5)  # stamped at the start
