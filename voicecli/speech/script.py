"""Dialogue scripts: ``Name: line`` per turn, parsed, checked and split into chunks.

A line without a ``Name:`` prefix continues the previous turn. Speaker names are matched to
the configured speakers without regard to case, so ``ALEX:`` is Alex. ``strict=False``
(for scripts a text model wrote) skips headings and chatter before the first turn and
strips markdown emphasis around names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from voicecli.errors import UsageError
from voicecli.speech.chunking import chunk_text

MAX_SPEAKERS = 2  # what one TTS request can voice (MultiSpeakerVoiceConfig)

_TURN = re.compile(r"^[\s*_>-]*([^\W\d_][\w .'’-]{0,39}?)[\s*_]*:[\s*_]*(.*)$")
_NOISE = re.compile(r"^\s*(#.*|[-*_=]{3,}|\[.*\]|\(.*\))\s*$")  # headings, rules, stage cues


@dataclass(frozen=True)
class Turn:
    speaker: str
    text: str


@dataclass(frozen=True)
class Speaker:
    name: str
    voice: str


def parse_speaker(spec: str) -> Speaker:
    """``Name=Voice`` (from ``--speaker``)."""
    name, sep, voice = spec.partition("=")
    name, voice = name.strip(), voice.strip()
    if not sep or not name or not voice:
        raise UsageError(f"bad --speaker {spec!r}", "use --speaker Name=Voice, e.g. Alex=Kore")
    if ":" in name or not _TURN.match(f"{name}: x"):
        raise UsageError(f"bad speaker name {name!r}", "use a plain name such as Alex")
    return Speaker(name, voice)


def check_speakers(speakers: list[Speaker]) -> None:
    names = [s.name.lower() for s in speakers]
    if len(set(names)) != len(names):
        raise UsageError("the same speaker name is given twice", "give each speaker once")
    if len(speakers) > MAX_SPEAKERS:
        raise UsageError(
            f"{len(speakers)} speakers given; a dialogue has at most {MAX_SPEAKERS}",
            "Gemini TTS voices two speakers per request",
        )
    if len(speakers) == 1:
        raise UsageError(
            "a dialogue needs two --speaker Name=Voice",
            "for a single voice use --voice instead",
        )


def parse_script(text: str, speakers: list[Speaker], *, strict: bool = True) -> list[Turn]:
    """The turns of a ``Name: line`` script, with names as configured in ``speakers``."""
    by_key = {s.name.lower(): s.name for s in speakers}
    turns: list[Turn] = []
    unknown: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        m = _TURN.match(line)
        name = m.group(1).strip() if m else None
        if m and name is not None and name.lower() in by_key:
            spoken = m.group(2).strip()
            turns.append(Turn(by_key[name.lower()], spoken))
            continue
        if m and name is not None and _looks_like_speaker(name) and (strict or turns):
            unknown.setdefault(name, number)
            continue
        if not turns or (not strict and _NOISE.match(line)):
            if strict:
                raise UsageError(
                    f"script line {number} names no speaker: {line[:60]!r}",
                    "start each turn with 'Name: ' matching a --speaker",
                )
            continue
        last = turns[-1]
        turns[-1] = Turn(last.speaker, f"{last.text} {line}".strip())
    if unknown:
        names = ", ".join(f"{n!r} (line {i})" for n, i in unknown.items())
        known = " and ".join(s.name for s in speakers)
        raise UsageError(
            f"the script has speakers that were not configured: {names}",
            f"name the speakers {known}, or pass --speaker Name=Voice for each",
        )
    turns = [t for t in turns if t.text]
    if not turns:
        raise UsageError("the script has no lines to say", "write lines as 'Name: text'")
    present = {t.speaker for t in turns}
    if len(present) > MAX_SPEAKERS:  # cannot happen with two configured speakers
        raise UsageError(f"the script has {len(present)} speakers; at most {MAX_SPEAKERS}")
    return turns


def _looks_like_speaker(name: str) -> bool:
    """A short capitalised name, not a sentence that happens to contain a colon."""
    words = name.split()
    return 0 < len(words) <= 3 and all(w[:1].isupper() for w in words)


def speakers_in(text: str) -> list[str]:
    """Distinct ``Name:`` prefixes in order of appearance (to guess the speakers)."""
    seen: dict[str, str] = {}
    for raw in text.splitlines():
        m = _TURN.match(raw.strip())
        if m and _looks_like_speaker(m.group(1).strip()):
            name = m.group(1).strip()
            seen.setdefault(name.lower(), name)
    return list(seen.values())


def render(turns: list[Turn]) -> str:
    return "\n".join(f"{t.speaker}: {t.text}" for t in turns)


def chunk_turns(turns: list[Turn], max_chars: int) -> list[list[Turn]]:
    """Group turns into chunks of at most ``max_chars`` rendered characters.

    A turn longer than the limit is split at sentence boundaries into several turns of the
    same speaker, so every chunk stays a well-formed script.
    """
    pieces: list[Turn] = []
    for t in turns:
        room = max(1, max_chars - len(t.speaker) - 2)
        pieces.extend(Turn(t.speaker, part) for part in chunk_text(t.text, room))
    chunks: list[list[Turn]] = []
    size = 0
    for p in pieces:
        n = len(p.speaker) + 2 + len(p.text) + 1
        if chunks and size + n <= max_chars + 1:
            chunks[-1].append(p)
            size += n
        else:
            chunks.append([p])
            size = n
    return chunks
