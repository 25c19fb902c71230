"""Co-listening (``voicecli listen``): Gemini hears the room, or a recording, and joins in only
when one of its topics comes up or someone speaks to it.

Proactive audio lets the model choose not to answer; ``instructions`` holds the wording that
tells it when to speak (passed to ``build_config`` as ``extra_instructions``, after the user's
``--system``). Every turn it leaves silent is counted as a choice (``Summary.silent``), not
as an error.

The gate: ambient speech is streamed, only silence and noise are dropped. Listening uses a
long hangover (``listen_hangover_ms``, 1 s instead of talk's 250 ms): the pauses between
speakers in a room are usually shorter than that, so a conversation reaches the server whole
instead of chopped into fragments (each a turn the model has to judge on its own), while
longer silences still cost nothing (input audio is billed by time).

With a recording, ``--then-talk`` chains a second source after it in the same session (the
model keeps what it heard): the microphone, or ``HoldSource`` for typed turns when there is
none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from voicecli.audio.base import AudioSource
from voicecli.audio.chain import ChainedSource, HoldSource, PlayAlong, SpeakerFeed
from voicecli.audio.files import FileSource
from voicecli.config import Settings
from voicecli.live import events as ev
from voicecli.live.conversation import Conversation, Summary
from voicecli.session.engine import TalkRequest, run_talk

SWITCH_NOTICE = "the recording is over: your turn (speak or type; Ctrl-C ends)"
TYPED_SWITCH_NOTICE = "the recording is over: type your questions (end of input or Ctrl-C ends)"
GAP_AFTER_FILE_MS = 500  # silence after the recording, on top of the hangover


def instructions(topics: Sequence[str] = (), *, then_talk: bool = False) -> str:
    """What the model is told about listening in (system instructions)."""
    listed = [t.strip() for t in topics if t.strip()]
    parts = [
        "You are listening in on a conversation: people talking in a room, or a recording "
        "being played. You are a quiet participant, not the host, and most of what you hear "
        "is not meant for you.",
        "Stay silent by default. While people talk among themselves, produce no audio at all: "
        "no acknowledgements, no filler, no summaries.",
    ]
    if listed:
        parts.append(
            "Speak up only when one of these topics is being discussed and you can add "
            "something worth hearing (a fact, a correction, a useful suggestion): "
            + "; ".join(listed)
            + ". Keep it to one or two sentences, then be quiet again."
        )
    parts.append(
        "Always answer when someone speaks to you directly: by name (Gemini), or with a "
        "question clearly meant for you."
    )
    if then_talk:
        parts.append(
            "When the recording has ended, the listener will talk with you about it: then "
            "answer their questions normally, using what you heard."
        )
    parts.append("When you are not sure whether to speak, stay silent.")
    return "\n".join(parts)


THEN_TALK_IDLE_S = 300.0  # listen --then-talk: a forgotten session ends after 5 minutes


def listen_settings(settings: Settings, *, then_talk: bool = False) -> Settings:
    """Proactive audio on (an error for models without it) and the listening gate; with
    ``--then-talk`` an idle timeout unless one was set (a forgotten session ends)."""
    idle = THEN_TALK_IDLE_S if then_talk and settings.idle_timeout is None else None
    return settings.with_overrides(
        proactive=True, hangover_ms=settings.listen_hangover_ms, idle_timeout=idle
    )


async def run_listen(settings: Settings, topics: Sequence[str], req: TalkRequest) -> Summary:
    """``run_talk`` as a co-listener. With a ``ChainedSource`` (``--then-talk``), the switch
    to the second part is announced to the observers."""
    chain = req.source if isinstance(req.source, ChainedSource) else None
    extra = instructions(topics, then_talk=chain is not None)
    if req.extra_instructions:
        extra += "\n\n" + req.extra_instructions
    then = req.on_start

    def on_start(conv: Conversation) -> None:
        if chain is not None:
            typed = isinstance(chain.sources[-1], HoldSource)
            text = TYPED_SWITCH_NOTICE if typed else SWITCH_NOTICE
            chain.on_next = lambda _i: conv.notify(ev.Notice(text))
        if then is not None:
            then(conv)

    req = replace(req, extra_instructions=extra, on_start=on_start)
    return await run_talk(listen_settings(settings, then_talk=chain is not None), req)


def sim_scenario() -> Path:
    """The bundled scenario ``listen --sim`` uses unless ``--scenario`` names another."""
    return Path(str(resources.files("voicecli.sim") / "scenarios" / "listen.toml"))


def file_source(
    settings: Settings,
    path: Path,
    *,
    fast: bool = False,
    player: SpeakerFeed | None = None,
    then: AudioSource | None = None,
) -> AudioSource:
    """The recording (played along on ``player``), then ``then`` if given."""
    source: AudioSource = FileSource(path, frame_ms=settings.frame_ms, realtime=not fast)
    if player is not None:
        source = PlayAlong(source, player)
    if then is None:
        return source
    gap = settings.listen_hangover_ms + GAP_AFTER_FILE_MS
    return ChainedSource(source, then, gap_ms=gap, realtime=not fast)


def typed_after(
    hold: HoldSource, prompt: Any, then: Callable[[Any], None] | None = None
) -> Callable[[Any], None]:
    """A ``TalkRequest.on_start``: typed input begins when the recording is over (lines piped
    in are questions about it), and the end of typed input ends the run."""

    def start(conv: Any) -> None:
        if then is not None:
            then(conv)
        prompt.on_end = hold.release
        hold.on_hold = lambda: prompt.start(conv)

    return start
