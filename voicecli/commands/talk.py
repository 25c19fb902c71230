"""``talk``, ``listen`` and ``demo``: flags into a ``SessionSpec``, then ``run_session``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from voicecli.commands.options import (
    AUDIO,
    MODEL,
    MODEL_OPTS,
    OUTPUT,
    RESUME_OPTS,
    SHARED,
    TALK_MODEL_OPTS,
    TOOL_OPTS,
    Flags,
    with_options,
)
from voicecli.errors import SessionTimeout
from voicecli.video.options import SHARE_OPTS, share_spec

if TYPE_CHECKING:  # the session (google-genai, numpy) is imported when a command runs
    from voicecli.live.conversation import Summary
    from voicecli.session import SessionSpec


def _spec(flags: Flags, **more: object) -> SessionSpec:
    from voicecli.session import SessionSpec

    return SessionSpec(
        output=flags["output"],
        transcript=flags["transcript"],
        json_out=flags["json_out"],
        sim=flags["sim"],
        scenario=flags["scenario"],
        continue_last=flags["cont"],
        continue_id=flags["session"],
        **more,  # type: ignore[arg-type]
    )


@with_options(SHARED, TALK_MODEL_OPTS, TOOL_OPTS, RESUME_OPTS, SHARE_OPTS)
def talk(
    input: Annotated[
        Path | None,
        typer.Option(
            "--input", "-i", metavar="FILE", rich_help_panel=AUDIO,
            help="Audio file to speak (WAV/FLAC/OGG); default: the microphone.",
        ),
    ] = None,
    fast: Annotated[
        bool, typer.Option("--fast", metavar="", rich_help_panel=AUDIO,
                           help="With --input: don't pace in real time."),
    ] = False,
    record: Annotated[
        Path | None, typer.Option("--record", metavar="FILE", rich_help_panel=OUTPUT,
                                  help="Write both sides: you left, model right."),
    ] = None,
    *,
    flags: Flags,
) -> None:  # fmt: skip
    """Hold a voice conversation (from --input FILE, or the microphone).

    Type a line (Enter) to send text into the session; /help lists /mute, /style, /stats, /quit.
    """
    settings = flags.settings()
    spec = _spec(
        flags,
        kind="talk",
        input=input,
        fast=fast,
        record=record,
        yes=flags["yes"],
        share=share_spec(flags, settings),
    )
    from voicecli.session import run_session

    check_answered(run_session(settings, spec))


def check_answered(summary: Summary) -> None:
    """A talk run in which utterances got no reply at all (not even the server's end of the
    turn) is no success: exit 8. Ended by the user (Ctrl-C, /quit): exit 0 anyway. (listen
    only reports the count: there, silence is the usual answer.)"""
    if summary.unanswered and not summary.ended_by_user:
        raise SessionTimeout(
            f"{summary.unanswered} of {summary.utterances} utterances got no reply "
            "(the server never answered or ended those turns)",
            "check --turn-detection and the endpoint; --debug shows the session",
        )


@with_options(SHARED, SHARE_OPTS)
def listen(
    topic: Annotated[
        list[str] | None,
        typer.Option("--topic", "-t", metavar="TEXT", rich_help_panel=MODEL,
                     help="Speak up when this comes up (repeatable)."),
    ] = None,
    input: Annotated[
        Path | None,
        typer.Option("--input", "-i", metavar="FILE", rich_help_panel=AUDIO,
                     help="Listen to a recording (WAV/FLAC/OGG), not the room."),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", metavar="", rich_help_panel=AUDIO,
                           help="Play nothing: stream the file, show replies."),
    ] = False,
    then_talk: Annotated[
        bool, typer.Option("--then-talk", metavar="", rich_help_panel=AUDIO,
                           help="When the file ends, talk about it (mic, or typed)."),
    ] = False,
    fast: Annotated[
        bool, typer.Option("--fast", metavar="", rich_help_panel=AUDIO,
                           help="With --input --quiet: don't pace in real time."),
    ] = False,
    record: Annotated[
        Path | None, typer.Option("--record", metavar="FILE", rich_help_panel=OUTPUT,
                                  help="Write both sides: heard left, model right."),
    ] = None,
    *,
    flags: Flags,
) -> None:  # fmt: skip
    """Listen along (the room, or --input FILE); speak only about a --topic or when asked.

    The turns Gemini leaves silent are counted as its choice. --system adds instructions;
    typed lines and /commands work as in talk.
    """
    settings = flags.settings()
    spec = _spec(
        flags,
        kind="listen",
        input=input,
        fast=fast,
        record=record,
        topics=topic or [],
        quiet=quiet,
        then_talk=then_talk,
        share=share_spec(flags, settings),
    )
    from voicecli.session import run_session

    run_session(settings, spec)


@with_options(MODEL_OPTS)
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out-dir", metavar="DIR", help="Where to write the files.")
    ] = Path("out"),
    realtime: Annotated[
        bool, typer.Option("--realtime", metavar="", help="Pace the input in real time (slower).")
    ] = False,
    *,
    flags: Flags,
) -> None:
    """A conversation with the built-in simulator: a generated WAV in, the reply out.

    The replies also play when there is a speaker; the end says what to try next.
    """
    from voicecli.demo import make_demo_input, next_steps, open_speaker
    from voicecli.session import SessionSpec, run_session

    settings = flags.settings()
    out_dir.mkdir(parents=True, exist_ok=True)
    wav, spoken = make_demo_input(out_dir / "demo-input.wav")
    print(f"demo input: {wav} ({'espeak-ng speech' if spoken else 'synthetic speech'})")
    speaker = open_speaker(settings)
    spec = SessionSpec(
        input=wav,
        output=out_dir / "demo-reply.wav",
        record=out_dir / "demo-conversation.wav",
        transcript=out_dir / "demo-transcript.jsonl",
        fast=not realtime,
        sim=True,
        sinks=[speaker] if speaker is not None else [],
    )
    try:
        run_session(settings, spec)
    finally:
        if speaker is not None:
            speaker.close()
    print(
        f"wrote {out_dir}/demo-reply.wav (model), {out_dir}/demo-conversation.wav "
        f"(both sides), {out_dir}/demo-transcript.jsonl"
    )
    print(next_steps())
