"""Sentence chunking, dialogue scripts and prompt directions (pure functions)."""

from __future__ import annotations

import pytest

from voicecli.errors import ExitCode, UsageError
from voicecli.speech.chunking import chunk_text, split_sentences
from voicecli.speech.prompt import (
    Directions,
    make_directions,
    plan_dialogue,
    plan_single,
    single_prompt,
)
from voicecli.speech.script import (
    Speaker,
    Turn,
    check_speakers,
    chunk_turns,
    parse_script,
    parse_speaker,
    render,
    speakers_in,
)

HOSTS = [Speaker("Alex", "Puck"), Speaker("Sam", "Kore")]


# ---------------------------------------------------------------------------- sentences
def test_sentences_split_at_end_punctuation_only() -> None:
    text = (
        'Dr. Smith met J. R. Tolkien in the U.K. yesterday. He said "hello." Then he left! '
        "Did he? Pi is 3.14, e.g. roughly. Done…\n\nA new paragraph without a full stop\n"
        "continues here"
    )
    assert split_sentences(text) == [
        "Dr. Smith met J. R. Tolkien in the U.K. yesterday.",
        'He said "hello."',
        "Then he left!",
        "Did he?",
        "Pi is 3.14, e.g. roughly.",
        "Done…",
        "A new paragraph without a full stop continues here",
    ]


def test_sentences_cjk_and_empty() -> None:
    assert split_sentences("你好。今天很好！好吗？") == ["你好。", "今天很好！", "好吗？"]
    assert split_sentences("   \n ") == []


def test_chunks_hold_whole_sentences_up_to_the_limit() -> None:
    sentences = [f"Sentence number {i} is here." for i in range(40)]
    text = " ".join(sentences)
    chunks = chunk_text(text, 100)
    assert len(chunks) > 5
    assert all(len(c) <= 100 for c in chunks)
    assert " ".join(chunks) == text  # nothing lost, nothing reordered
    for c in chunks:  # every chunk starts and ends at a sentence boundary
        assert c.startswith("Sentence number") and c.endswith("is here.")


def test_an_overlong_sentence_is_cut_at_clauses_then_words() -> None:
    long = "first part, " * 6 + "and " + "word " * 30 + "end."
    chunks = chunk_text(long, 40)
    assert all(len(c) <= 40 for c in chunks)
    assert " ".join(chunks).split() == long.split()  # never inside a word
    assert chunks[0].endswith(",")  # the clause mark came first
    assert chunk_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_chunk_text_rejects_a_silly_limit() -> None:
    with pytest.raises(ValueError):
        chunk_text("hi", 0)


# ---------------------------------------------------------------------------- scripts
def test_parse_script_matches_speakers_and_continues_lines() -> None:
    text = "Alex: Hello and welcome.\n  it is a fine day\n\nSAM: Thanks, Alex!\n**Alex:** Bold.\n"
    assert parse_script(text, HOSTS) == [
        Turn("Alex", "Hello and welcome. it is a fine day"),
        Turn("Sam", "Thanks, Alex!"),
        Turn("Alex", "Bold."),
    ]


def test_parse_script_strict_errors() -> None:
    with pytest.raises(UsageError, match="line 1 names no speaker"):
        parse_script("Hello there\nAlex: hi", HOSTS)
    with pytest.raises(UsageError, match="'Bob' \\(line 2\\)") as e:
        parse_script("Alex: hi\nBob: hello\nSam: hey", HOSTS)
    assert e.value.exit_code == ExitCode.USAGE
    with pytest.raises(UsageError, match="no lines"):
        parse_script("Alex:\nSam:   ", HOSTS)


def test_parse_script_lenient_skips_model_chatter() -> None:
    text = "# Overview\nTitle: Deep Dive\nSure! Here is the script.\n---\nAlex: Hi.\n[music]\nSam: Yo.\n"
    assert parse_script(text, HOSTS, strict=False) == [Turn("Alex", "Hi."), Turn("Sam", "Yo.")]


def test_colons_inside_a_turn_are_not_speakers() -> None:
    text = "Alex: See https://example.com at 10:30 today.\nwe meet at 10:30: bring tea\n"
    turns = parse_script(text, HOSTS)
    assert len(turns) == 1 and "10:30: bring tea" in turns[0].text


def test_speaker_specs() -> None:
    assert parse_speaker(" Alex = Puck ") == Speaker("Alex", "Puck")
    for bad in ("Alex", "=Puck", "Alex=", "A:b=Puck"):
        with pytest.raises(UsageError):
            parse_speaker(bad)
    with pytest.raises(UsageError, match="at most 2"):
        check_speakers([*HOSTS, Speaker("Kim", "Leda")])
    with pytest.raises(UsageError, match="needs two"):
        check_speakers(HOSTS[:1])
    with pytest.raises(UsageError, match="twice"):
        check_speakers([Speaker("Alex", "Puck"), Speaker("alex", "Kore")])
    assert speakers_in("Alex: a\nSam: b\nAlex: c\nsee: x") == ["Alex", "Sam"]


def test_chunk_turns_keep_speakers_and_split_long_turns_at_sentences() -> None:
    turns = [Turn("Alex", "One two three. " * 10), Turn("Sam", "Short."), Turn("Alex", "Bye.")]
    chunks = chunk_turns(turns, 60)
    assert all(len(render(c)) <= 60 for c in chunks)
    flat = [t for c in chunks for t in c]
    assert {t.speaker for t in flat[:-2]} == {"Alex"}
    assert (
        " ".join(t.text for t in flat if t.speaker == "Alex").split()
        == (("One two three. " * 10) + "Bye.").split()
    )
    assert all(t.text.endswith(".") for t in flat)  # sentence boundaries only


# ---------------------------------------------------------------------------- directions
def test_directions_become_one_direction_line() -> None:
    d = make_directions("whisper, excited", "very slow", "de-DE", ["GIF=jif", "SQL = sequel"])
    assert d.pronounce == (("GIF", "jif"), ("SQL", "sequel"))
    prompt = single_prompt("Hallo Welt.", d)
    first, text = prompt.split("\n", 1)
    assert text == "Hallo Welt."
    assert first == (
        "Say this aloud (style: whisper, excited; pace: very slow; language: de-DE; "
        'pronounce "GIF" as "jif", "SQL" as "sequel"):'
    )
    assert single_prompt("Plain.", Directions()) == "Plain."
    assert make_directions("  ", "", None) == Directions()


def test_direction_errors() -> None:
    with pytest.raises(UsageError, match="not words"):
        make_directions(pace="1.5")
    with pytest.raises(UsageError, match="bad --pronounce"):
        make_directions(pronounce=["GIF"])


def test_plans_repeat_voice_and_directions_in_every_chunk() -> None:
    """Prompt form (2.5 TTS): the direction line in front of every chunk."""
    d = make_directions(style="calm")
    text = " ".join(f"This is sentence {i}." for i in range(50))
    plan = plan_single(text, "Kore", d, "gemini-2.5-flash-preview-tts", max_chars=120)
    assert len(plan) > 3
    assert all(
        r.voice == "Kore" and r.prompt.startswith("Say this aloud (style: calm):") for r in plan
    )
    turns = [Turn("Alex" if i % 2 else "Sam", f"Line {i} of the talk.") for i in range(30)]
    speakers = tuple(HOSTS)
    plan = plan_dialogue(turns, speakers, d, "gemini-2.5-flash-preview-tts", max_chars=100)
    assert len(plan) > 3
    for r in plan:
        assert r.speakers == speakers and r.voice is None and not r.parts
        assert r.prompt.startswith("Read aloud this conversation between Alex and Sam")


def test_verbatim_plans_keep_directions_out_of_the_words() -> None:
    """3.8 TTS: the words verbatim, directions in speech_metadata, a part per turn."""
    d = make_directions(style="calm", pace="slow")
    text = " ".join(f"This is sentence {i}." for i in range(50))
    plan = plan_single(text, "Kore", d, "gemini-3.8-flash-tts", max_chars=120)
    assert len(plan) > 3
    for r in plan:
        (part,) = r.parts
        assert part.text.startswith("This is sentence") and "calm" not in part.text
        assert (part.style, part.speaker) == ("calm; pace: slow", None)
    turns = [Turn("Alex" if i % 2 else "Sam", f"Line {i} of the talk.") for i in range(30)]
    plan = plan_dialogue(turns, tuple(HOSTS), d, "gemini-3.8-flash-lite-tts", max_chars=100)
    said = [(p.speaker, p.text) for r in plan for p in r.parts]
    assert said == [(t.speaker, t.text) for t in turns]
    assert all(p.style == "calm; pace: slow" for r in plan for p in r.parts)
    with pytest.raises(UsageError, match="no text"):
        plan_single("  \n", "Kore", d, "gemini-3.8-flash-tts")
