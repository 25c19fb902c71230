"""Turn bookkeeping: latency, spoken vs silent-by-choice vs interrupted turns."""

from voicecli.live.turns import TurnBook, TurnOutcome


def test_latency_and_spoken_turn() -> None:
    b = TurnBook()
    b.user_started(0.0)
    b.user_speech(1.0)
    b.user_ended(1.0)
    assert b.awaiting_reply and not b.model_busy
    b.user_text("hello")
    b.model_audio(1.4, 0.5)
    b.model_audio(1.5, 0.5)
    turn = b.turn_complete(2.5)
    assert turn.outcome is TurnOutcome.SPOKEN
    assert abs(turn.latency_s - 0.4) < 1e-9 and turn.audio_s == 1.0
    assert turn.user_text == "hello"
    assert not b.awaiting_reply


def test_silent_turn_is_counted_as_a_choice() -> None:
    b = TurnBook()
    b.user_ended(1.0)
    b.user_text("background chatter")
    turn = b.turn_complete(1.3)
    assert turn.outcome is TurnOutcome.SILENT and turn.latency_s is None
    assert b.count(TurnOutcome.SILENT) == 1


def test_interrupted_turn() -> None:
    b = TurnBook()
    b.user_ended(0.5)
    b.model_audio(0.8, 0.2)
    b.user_started(0.9)
    turn = b.interrupted(0.95)
    assert turn is not None and turn.outcome is TurnOutcome.INTERRUPTED
    assert b.interrupted(1.0) is None  # nothing running
    assert b.latencies() == [turn.latency_s]


def test_latency_when_the_server_answers_before_the_gate_closes() -> None:
    b = TurnBook()
    b.user_speech(1.0)  # last speech frame
    b.user_text("hi")  # the server ended the turn by itself
    b.model_audio(1.3, 0.2)  # ... and answered before our hangover ran out
    b.user_ended(1.0)
    turn = b.turn_complete(1.6)
    assert abs(turn.latency_s - 0.3) < 1e-9
    b.model_audio(5.0, 0.2)  # a proactive turn nobody asked for: no latency to report
    assert b.turn_complete(5.5).latency_s is None
