"""Split long text into request-sized chunks at sentence boundaries.

A chunk never ends mid-sentence unless one sentence alone is longer than the limit; such a
sentence is cut at a clause mark (``, ; : —``) and, failing that, between words, never
inside a word (unless a single "word" is longer than the limit).
"""

from __future__ import annotations

import re

# Common abbreviations whose period does not end a sentence (lower case, without the dot).
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "cf",
        "approx",
        "no",
        "fig",
        "vol",
        "ch",
        "p",
        "pp",
        "inc",
        "ltd",
        "co",
        "corp",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mt",
        "ft",
        "ave",
    ]
)

# End punctuation, optional closing quotes/brackets, then whitespace.
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|(?<=[。！？])\s*|\n\s*\n+")
_CLAUSE = re.compile(r"(?<=[,;:—–])\s+")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (stripped, in order); blank-line paragraphs always split."""
    out: list[str] = []
    pos = 0
    for m in _BOUNDARY.finditer(text):
        piece = text[pos : m.end()].strip()
        if not piece:
            pos = m.end()
            continue
        if m.group(0).count("\n") < 2 and not _ends_sentence(piece, text[m.end() :]):
            continue  # an abbreviation or initial: keep going
        out.append(piece)
        pos = m.end()
    tail = text[pos:].strip()
    if tail:
        out.append(tail)
    return [" ".join(s.split()) if "\n" in s else s for s in out]


def _ends_sentence(piece: str, rest: str) -> bool:
    if piece[-1] in "。！？":
        return True
    core = piece.rstrip("\"'”’)]")
    if not core.endswith("."):
        return True
    last = core[:-1].rsplit(None, 1)[-1] if core[:-1].split() else ""
    word = last.lstrip("\"'“‘([").lower()
    if word in _ABBREVIATIONS:
        return False
    if len(word) == 1 and word.isalpha():  # an initial, as in "J. Smith"
        return False
    nxt = rest.lstrip()[:1]
    return not (nxt and nxt.islower())  # "e.g. this" style continuations


def chunk_text(text: str, max_chars: int) -> list[str]:
    """Pack whole sentences into chunks of at most ``max_chars`` characters."""
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    chunks: list[str] = []
    current = ""
    for sentence in split_sentences(text):
        for piece in _fit(sentence, max_chars):
            joined = f"{current} {piece}" if current else piece
            if len(joined) <= max_chars:
                current = joined
            else:
                chunks.append(current)
                current = piece
    if current:
        chunks.append(current)
    return chunks


def _fit(sentence: str, max_chars: int) -> list[str]:
    """A sentence as pieces no longer than ``max_chars``: clauses first, then words."""
    if len(sentence) <= max_chars:
        return [sentence]
    pieces: list[str] = []
    for clause in _CLAUSE.split(sentence):
        if len(clause) <= max_chars:
            pieces.append(clause)
        else:
            pieces.extend(_by_words(clause, max_chars))
    merged: list[str] = []
    for p in pieces:
        if merged and len(merged[-1]) + 1 + len(p) <= max_chars:
            merged[-1] = f"{merged[-1]} {p}"
        else:
            merged.append(p)
    return merged


def _by_words(text: str, max_chars: int) -> list[str]:
    out: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > max_chars:  # one enormous "word": no better place to cut
            if current:
                out.append(current)
                current = ""
            out.append(word[:max_chars])
            word = word[max_chars:]
        joined = f"{current} {word}" if current else word
        if len(joined) <= max_chars:
            current = joined
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    return out
