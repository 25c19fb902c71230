"""Which server events end the user's turn, and which are content of a model reply (what
is late after a cut). Moved out of ``live/conversation.py`` to keep it small."""

from __future__ import annotations

from voicecli.live import events as ev

CUT_CONTENT = (ev.AudioChunk, ev.OutputTranscript, ev.ModelText, ev.GenerationComplete)


def ends_user_turn(event: object) -> bool:
    """A server event that shows the server has ended the user's turn (it answers, or
    says the turn is over, or its voice activity detection saw the end of speech)."""
    if isinstance(event, ev.VoiceActivity):
        return event.kind.upper().endswith("END")
    return isinstance(
        event,
        (
            ev.AudioChunk,
            ev.OutputTranscript,
            ev.ModelText,
            ev.GenerationComplete,
            ev.TurnComplete,
            ev.ToolCall,
        ),
    )
