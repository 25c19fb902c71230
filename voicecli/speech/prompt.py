"""What to ask for: delivery directions as prompt text, and the plan of TTS requests.

Gemini TTS takes its direction in the prompt itself ("Say cheerfully: ..."), so style,
pace, language and pronunciations become one direction line in front of the text. Every
chunk of a long text carries the same direction line and the same voice(s), so the chunks
sound alike. ``TtsRequest`` is our own type; ``speech.request`` turns it into SDK types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from voicecli.errors import UsageError
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
        return f" ({'; '.join(notes)})" if notes else ""


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
class TtsRequest:
    """One request: the prompt text and either one voice or two speakers."""

    model: str
    prompt: str
    voice: str | None = None
    speakers: tuple[Speaker, ...] = ()
    spoken_chars: int = 0  # length of the text to be said (without the direction)


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
    return [
        TtsRequest(model, single_prompt(chunk, directions), voice=voice, spoken_chars=len(chunk))
        for chunk in chunk_text(text, max_chars)
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
    return [
        TtsRequest(
            model,
            dialogue_prompt(chunk, speakers, directions),
            speakers=speakers,
            spoken_chars=sum(len(t.text) for t in chunk),
        )
        for chunk in chunk_turns(turns, max_chars)
    ]
