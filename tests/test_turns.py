"""Turn bookkeeping: latency, spoken vs silent-by-choice vs interrupted turns."""

from voicecli.live.turns import LATE_S, TurnBook, TurnOutcome


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


def test_no_reply_within_the_wait_is_a_silent_turn() -> None:
    b = TurnBook()
    b.user_started(0.0)
    assert b.waiting_since() is None  # the user is still speaking
    b.user_speech(1.0)
    b.user_ended(1.0)
    assert not b.no_reply_due(8.9, 8.0) and b.no_reply_due(9.0, 8.0)
    turn = b.no_reply(9.0)
    assert turn is not None and turn.outcome is TurnOutcome.SILENT and turn.reason == "NO_REPLY"
    assert turn.latency_s is None and not b.awaiting_reply
    assert b.turn_complete(9.5) is None  # the server confirms the silence: not a second turn
    assert len(b.turns) == 1 and b.count_no_reply() == 1


def test_an_input_transcript_alone_is_no_reply() -> None:
    b = TurnBook()
    b.user_speech(2.0)
    b.user_text("people chatting")  # the server transcribed, then said nothing
    b.user_ended(2.0)
    assert b.model_busy and b.waiting_since() == 2.0
    assert b.no_reply(10.0) is not None and b.turns[0].user_text == "people chatting"
    b.user_ended(11.0)
    b.model_audio(11.5, 0.4)  # an answer starts: no longer waiting
    assert b.waiting_since() is None and b.no_reply(20.0) is None


def test_near_silent_audio_does_not_make_a_turn_spoken() -> None:
    b = TurnBook()
    b.user_ended(1.0)
    b.model_audio(1.2, 0.5, audible=False)
    turn = b.turn_complete(1.8, "WAITING_FOR_INPUT")
    assert turn is not None and turn.outcome is TurnOutcome.SILENT
    assert turn.audio_s == 0.5 and turn.latency_s is None and b.latencies() == []
    b.user_ended(3.0)
    b.model_audio(3.2, 0.1, audible=False)  # a quiet lead-in, then speech
    b.model_audio(3.3, 0.5)
    spoken = b.turn_complete(4.0)
    assert spoken is not None and spoken.outcome is TurnOutcome.SPOKEN
    assert abs(spoken.latency_s - 0.2) < 1e-9


def test_a_reply_complete_before_the_gate_closes_answers_the_utterance() -> None:
    b = TurnBook()
    b.user_started(1.0)
    b.user_speech(2.0)
    b.user_text("we made pasta")  # the server ended the turn after 200 ms of silence ...
    b.model_audio(2.3, 0.5)
    assert b.turn_complete(2.8) is not None  # ... and answered it in full
    b.user_ended(2.0)  # only now does our 1 s hangover close the gate
    assert not b.awaiting_reply and b.waiting_since() is None
    b.user_started(5.0)  # a new utterance nobody answers: it waits
    b.user_ended(6.0)
    assert b.pending_user_end == 6.0
    b.no_reply(14.0)
    b.user_ended(15.0)  # a typed turn (no onset): always waits for its answer
    assert b.pending_user_end == 15.0


def _cut_reply() -> TurnBook:
    """A reply the user talks over: the server's interrupted at 1.0."""
    b = TurnBook()
    b.user_ended(0.5)
    b.model_audio(0.8, 0.2)
    b.user_started(0.9)
    b.interrupted(1.0)
    return b


def test_the_turn_complete_after_interrupted_ends_no_turn() -> None:
    # issue 37: the service closes the cut generation with a turnComplete; its late audio
    # and transcript come first. Neither is a new turn (it was a phantom silent one).
    b = _cut_reply()
    assert b.late(1.01) and b.late(1.02)  # late audio, late transcript: the caller drops
    assert b.turn_complete(1.03) is None
    assert not b.model_busy
    b.user_ended(1.6)  # the barge-in utterance, answered
    b.model_audio(2.5, 0.5)
    assert not b.late(2.5)
    assert b.turn_complete(3.0).outcome is TurnOutcome.SPOKEN
    b.user_ended(4.0)  # a real silence by choice is still one
    assert b.turn_complete(4.5).outcome is TurnOutcome.SILENT
    outcomes = [t.outcome for t in b.turns]
    assert outcomes == [TurnOutcome.INTERRUPTED, TurnOutcome.SPOKEN, TurnOutcome.SILENT]


def test_without_a_closing_turn_complete_the_next_reply_is_kept() -> None:
    # a server that sends nothing after interrupted: content well after the cut is the
    # next reply, and its turnComplete ends it
    b = _cut_reply()
    assert b.late(1.0 + LATE_S + 0.2)  # the user still speaks: no reply can have begun
    b.user_ended(1.6)
    assert not b.late(1.0 + LATE_S + 0.7)
    b.model_audio(2.5, 0.5)
    assert b.turn_complete(3.0).outcome is TurnOutcome.SPOKEN
    assert b.count(TurnOutcome.SILENT) == 0 and len(b.turns) == 2


def test_a_lost_connection_is_no_cut_a_turn_complete_closes() -> None:
    b = TurnBook()
    b.user_ended(0.5)
    b.model_audio(0.8, 0.2)
    b.interrupted(1.0, by_server=False)  # the reconnect: nothing will close it
    assert not b.late(1.01)
    b.user_ended(1.5)
    assert b.turn_complete(1.8).outcome is TurnOutcome.SILENT


def test_without_a_closing_turn_complete_a_silent_reply_is_still_one() -> None:
    b = _cut_reply()
    b.user_ended(1.6)  # the barge-in utterance; the model chooses not to answer it
    turn = b.turn_complete(2.5)
    assert turn is not None and turn.outcome is TurnOutcome.SILENT
    assert [t.outcome for t in b.turns] == [TurnOutcome.INTERRUPTED, TurnOutcome.SILENT]
