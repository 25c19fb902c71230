"""Audio overviews: a text model writes a two-host conversation about some notes, which is
then voiced with two speakers (``say.run_plan``).

The script is asked for in the plain ``Name: line`` form ``voicecli say`` reads, so a
script printed with ``--script-only`` can be edited and voiced later.
"""

from __future__ import annotations

from voicecli.config import Settings
from voicecli.errors import ServerError, UsageError
from voicecli.speech.say import open_client
from voicecli.speech.script import Speaker, Turn, parse_script

DEFAULT_TEXT_MODEL = "gemini-3.8-flash"
MAX_NOTES_CHARS = 200_000

INSTRUCTIONS = """\
Write the script of a short two-host audio overview of the notes below, like a friendly
podcast segment: a conversation between {a} and {b}. {a} guides the conversation; {b} asks
good questions, reacts and adds insight. Explain the main ideas of the notes accurately and
concretely, in plain spoken language, with natural back-and-forth.

Write only the dialogue, one turn per line, each line starting with the host's name and a
colon, exactly like this:
{a}: ...
{b}: ...

No title, no headings, no markdown, no stage directions, no sound effects, no other
speakers. About {words} words in total.

NOTES:
"""


def overview_prompt(notes: str, hosts: tuple[Speaker, ...], words: int) -> str:
    """The request for the script: instructions, then the notes (one user turn)."""
    a, b = hosts[0].name, hosts[1].name
    return INSTRUCTIONS.format(a=a, b=b, words=words) + notes.strip()


def check_notes(notes: str) -> str:
    if not notes.strip():
        raise UsageError("the notes are empty", "give a file with some text")
    if len(notes) > MAX_NOTES_CHARS:
        raise UsageError(
            f"the notes are too long ({len(notes)} characters, at most {MAX_NOTES_CHARS})",
            "split them, or summarise first",
        )
    return notes


def script_from_answer(answer: str, hosts: tuple[Speaker, ...]) -> list[Turn]:
    """The model's answer as turns; ServerError when it is not a usable script."""
    try:
        turns = parse_script(answer, list(hosts), strict=False)
    except UsageError as e:
        raise ServerError(
            f"the text model wrote an unusable script: {e.message}",
            "try again, or edit the --script-only output and voice it with `voicecli say`",
        ) from None
    if len({t.speaker for t in turns}) < 2:
        raise ServerError(
            "the text model wrote a script with only one host",
            "try again, or edit the --script-only output and voice it with `voicecli say`",
        )
    return turns


async def write_script(
    settings: Settings, notes: str, hosts: tuple[Speaker, ...], text_model: str, words: int = 600
) -> list[Turn]:
    """Ask ``text_model`` for a two-host script about ``notes``."""
    prompt = overview_prompt(check_notes(notes), hosts, words)
    client = open_client(settings)
    try:
        answer = await client.write(text_model, prompt)
    finally:
        await client.aclose()
    return script_from_answer(answer, hosts)
