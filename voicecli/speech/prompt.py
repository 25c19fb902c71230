"""What to ask for: the words and the delivery directions, in the form the model takes.

The capability table (``live.capabilities.TTS_CAPS``) says which form a TTS model takes:

* ``VERBATIM`` (the 3.8 TTS models): the text is read as a transcript, so it is sent as it
  is, and style, pace, language and pronunciations go in ``speech_metadata.style`` of the
  part; a dialogue is one part per turn with ``speech_metadata.speaker``. A direction is
  never in the text, so it is never spoken.
* ``PROMPT`` (the 2.5 TTS models): the direction is a line in the prompt itself ("Say this
  aloud (style: cheerful): ..."), and a dialogue is a "Name: line" script.

Every chunk of a long text carries the same directions and voice(s), so the chunks sound
alike. ``TtsRequest`` is our own type; ``speech.request`` turns it into SDK types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from voicecli.errors import UsageError
from voicecli.live.capabilities import TtsForm, tts_lookup
from voicecli.speech.chunking import chunk_text
from voicecli.speech.script import Speaker, Turn, chunk_turns, render

DEFAULT_MAX_CHARS = 1000  # text per request (about a minute of speech)
_PACE = re.compile(r"^[^\W\d_][\w ,'-]*$")


@dataclass(frozen=True)
class Directions:
    style: str | None = None  # "whisper, excited"
    pace: str | None = None  # "slow", "very fast"
    language: str | None = None  # "de-DE" or "German"
    pronounce: tuple[tuple[str, str], ...] = ()  # (word, how)

    def phrase(self) -> str:
        """The directions as one parenthesised phrase, or "" when there are none."""
        notes = self.notes()
        return f" ({'; '.join(notes)})" if notes else ""

    def style_text(self) -> str | None:
        """The directions for ``speech_metadata.style`` ("whisper; pace: slow"), or None."""
        notes = self.notes()
        if self.style:
            notes[0] = self.style
        return "; ".join(notes) or None

    def notes(self) -> list[str]:
        notes = []
        if self.style:
            notes.append(f"style: {self.style}")
        if self.pace:
            notes.append(f"pace: {self.pace}")
        if self.language:
            notes.append(f"language: {self.language}")
        if self.pronounce:
            said = ", ".join(f'"{word}" as "{how}"' for word, how in self.pronounce)
            notes.append(f"pronounce {said}")
        return notes


def make_directions(
    style: str | None = None,
    pace: str | None = None,
    language: str | None = None,
    pronounce: list[str] | tuple[str, ...] = (),
) -> Directions:
    """Directions from the CLI's words, checked."""
    pace = (pace or "").strip() or None
    if pace is not None and not _PACE.match(pace):
        raise UsageError(f"--pace {pace!r} is not words", "describe it: slow, fast, very slow")
    return Directions(
        style=(style or "").strip() or None,
        pace=pace,
        language=(language or "").strip() or None,
        pronounce=tuple(parse_pronounce(p) for p in pronounce),
    )


def parse_pronounce(spec: str) -> tuple[str, str]:
    word, sep, how = spec.partition("=")
    word, how = word.strip(), how.strip()
    if not sep or not word or not how:
        raise UsageError(f"bad --pronounce {spec!r}", 'use --pronounce WORD=HOW, e.g. "GIF=jif"')
    return word, how


@dataclass(frozen=True)
class SpeechPart:
    """One part of a verbatim request: words to say, and how (``speech_metadata``)."""

    text: str
    style: str | None = None
    speaker: str | None = None


@dataclass(frozen=True)
class TtsRequest:
    """One request: the prompt text (prompt form) or the parts (verbatim form), and either
    one voice or two speakers."""

    model: str
    prompt: str
    voice: str | None = None
    speakers: tuple[Speaker, ...] = ()
    spoken_chars: int = 0  # length of the text to be said (without the direction)
    parts: tuple[SpeechPart, ...] = ()  # verbatim form: sent instead of ``prompt``


def verbatim(model: str) -> bool:
    """Whether ``model`` reads its text verbatim (directions in speech_metadata)."""
    caps = tts_lookup(model)
    return caps is not None and caps.form is TtsForm.VERBATIM


def single_prompt(text: str, directions: Directions) -> str:
    phrase = directions.phrase()
    return f"Say this aloud{phrase}:\n{text}" if phrase else text


def dialogue_prompt(turns: list[Turn], speakers: tuple[Speaker, ...], d: Directions) -> str:
    names = " and ".join(s.name for s in speakers)
    return f"Read aloud this conversation between {names}{d.phrase()}:\n{render(turns)}"


def plan_single(
    text: str,
    voice: str,
    directions: Directions,
    model: str,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> list[TtsRequest]:
    if not text.strip():
        raise UsageError("there is no text to say", "give TEXT, --file FILE or pipe it in")
    chunks = chunk_text(text, max_chars)
    if verbatim(model):
        style = directions.style_text()
        return [
            TtsRequest(
                model,
                chunk,
                voice=voice,
                spoken_chars=len(chunk),
                parts=(SpeechPart(chunk, style=style),),
            )
            for chunk in chunks
        ]
    return [
        TtsRequest(model, single_prompt(chunk, directions), voice=voice, spoken_chars=len(chunk))
        for chunk in chunks
    ]


def plan_dialogue(
    turns: list[Turn],
    speakers: tuple[Speaker, ...],
    directions: Directions,
    model: str,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> list[TtsRequest]:
    """One request per chunk of turns; every request names both speakers and voices."""
    if not turns:
        raise UsageError("the script has no lines to say", "write lines as 'Name: text'")
    chunks = chunk_turns(turns, max_chars)
    if verbatim(model):
        style = directions.style_text()
        return [
            TtsRequest(
                model,
                render(chunk),
                speakers=speakers,
                spoken_chars=sum(len(t.text) for t in chunk),
                parts=tuple(SpeechPart(t.text, style=style, speaker=t.speaker) for t in chunk),
            )
            for chunk in chunks
        ]
    return [
        TtsRequest(
            model,
            dialogue_prompt(chunk, speakers, directions),
            speakers=speakers,
            spoken_chars=sum(len(t.text) for t in chunk),
        )
        for chunk in chunks
    ]
