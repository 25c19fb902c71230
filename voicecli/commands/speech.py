"""``say``, ``overview`` and ``voices``: speech generation from the command line."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from voicecli import config as cfg
from voicecli.commands import complete
from voicecli.commands.options import BaseUrlOpt, ConfigOpt, LangOpt, SimOpt, StyleOpt, TimeoutOpt
from voicecli.errors import UsageError
from voicecli.paths import check_paths
from voicecli.session.simulator import simulator

if TYPE_CHECKING:
    from voicecli.audio.base import AudioSink

SpeakerOpt = Annotated[
    list[str] | None,
    typer.Option("--speaker", help="Name=Voice; give two to read a 'Name: line' script."),
]
PaceOpt = Annotated[str | None, typer.Option("--pace", help='Pace in words: "slow", "fast".')]
TtsModelOpt = Annotated[
    str | None, typer.Option("--model", "-m", help="TTS model (default gemini-3.8-flash-tts).")
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Write a file (.wav/.flac/.ogg/.mp3) instead of playing."),
]
NoStreamOpt = Annotated[
    bool, typer.Option("--no-stream", help="Wait for each part whole (no streaming).")
]
MaxCharsOpt = Annotated[
    int, typer.Option("--max-chars", help="Text per request; longer texts are split.")
]


def _speech_sink(out: Path | None, source: Path | None = None, name: str = "--file") -> AudioSink:
    """An audio file with --out (format by extension), else the speaker (when this build
    has one). ``source`` is the text file read, which --out must not overwrite."""
    if out is not None:
        check_paths({name: source}, {"--out": out}, audio_outputs=("--out",))
        from voicecli.audio.files import WavSink

        return WavSink(out)
    try:
        from voicecli.audio.speaker import SpeakerSink
    except ImportError:
        raise UsageError(
            "playing through the speaker is not available in this build",
            "write a file with --out speech.wav",
        ) from None
    sink: AudioSink = SpeakerSink()
    return sink


def _speak(
    settings: cfg.Settings, plan: list[Any], sink: AudioSink, out: Path | None, stream: bool
) -> None:
    from voicecli.speech.say import run_plan, summary

    try:
        stats = asyncio.run(run_plan(settings, plan, sink, stream=stream))
    finally:
        sink.close()
    print(f"voicecli: {summary(stats, out)}", file=sys.stderr)


def say(
    text: Annotated[
        str | None, typer.Argument(help="What to say (default: --file, or stdin).")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Read the text or script from a file.")
    ] = None,
    out: OutOpt = None,
    voice: Annotated[
        str | None,
        typer.Option(
            "--voice", help="Prebuilt voice (`voicecli voices`).", autocompletion=complete.voices
        ),
    ] = None,
    speaker: SpeakerOpt = None,
    style: Annotated[
        str | None, typer.Option("--style", help='Delivery in words: "whisper, excited".')
    ] = None,
    pace: PaceOpt = None,
    language: LangOpt = None,
    pronounce: Annotated[
        list[str] | None,
        typer.Option("--pronounce", help='WORD=HOW, repeatable: "GIF=jif".'),
    ] = None,
    model: TtsModelOpt = None,
    no_stream: NoStreamOpt = False,
    max_chars: MaxCharsOpt = 1000,
    sim: SimOpt = False,
    timeout: TimeoutOpt = None,
    base_url: BaseUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Say a text aloud (or into --out FILE.wav), in one voice or as a two-speaker script."""
    from voicecli.speech.prompt import make_directions
    from voicecli.speech.say import SayJob, parse_speakers, plan_job, read_text

    settings = cfg.load(
        config, {"tts_model": model, "tts_voice": voice, "timeout": timeout, "base_url": base_url}
    )
    if out is not None:  # before the text file is read
        check_paths({"--file": file}, {"--out": out}, audio_outputs=("--out",))
    job = SayJob(
        text=read_text(text, file),
        model=settings.tts_model,
        voice=settings.tts_voice,
        directions=make_directions(style, pace, language, pronounce or ()),
        speakers=parse_speakers(speaker),
        stream=not no_stream,
        max_chars=max_chars,
    )
    plan = plan_job(job)
    with simulator(settings, None, sim) as settings:
        from voicecli.live.transport import require_key

        require_key(settings, "say")  # before the first line is printed
        who = " and ".join(f"{s.name} ({s.voice})" for s in plan[0].speakers) or plan[0].voice
        from voicecli.ui.status import plural  # the live events: not for --help

        print(f"voicecli: {who}, {job.model}, {plural(len(plan), 'part')}", file=sys.stderr)
        _speak(settings, plan, _speech_sink(out, file), out, job.stream)


def overview(
    notes: Annotated[Path, typer.Argument(help="Notes to talk about (text or markdown).")],
    out: OutOpt = None,
    script_only: Annotated[
        bool, typer.Option("--script-only", help="Print the script; do not voice it.")
    ] = False,
    speaker: SpeakerOpt = None,
    text_model: Annotated[
        str | None, typer.Option("--text-model", help="Model that writes the script.")
    ] = None,
    model: TtsModelOpt = None,
    words: Annotated[int, typer.Option("--words", help="Script length in words.")] = 600,
    style: StyleOpt = None,
    pace: PaceOpt = None,
    language: LangOpt = None,
    no_stream: NoStreamOpt = False,
    sim: SimOpt = False,
    timeout: TimeoutOpt = None,
    base_url: BaseUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """A two-host audio overview of NOTES: a text model writes the script, two voices say it."""
    from voicecli.speech.overview import write_script
    from voicecli.speech.prompt import make_directions
    from voicecli.speech.say import (
        SayJob,
        check_tts_model,
        checked_speakers,
        parse_speakers,
        plan_turns,
        read_text,
    )
    from voicecli.speech.script import Speaker, render
    from voicecli.speech.voices import DEFAULT_HOSTS

    settings = cfg.load(
        config,
        {"tts_model": model, "text_model": text_model, "timeout": timeout, "base_url": base_url},
    )
    hosts = checked_speakers(
        parse_speakers(speaker) or tuple(Speaker(n, v) for n, v in DEFAULT_HOSTS)
    )
    job = SayJob(
        text="",
        model=check_tts_model(settings.tts_model),
        directions=make_directions(style, pace, language),
        stream=not no_stream,
    )
    text = read_text(None, notes)
    sink = (
        None if script_only else _speech_sink(out, notes, "NOTES")
    )  # fail early: before the text model
    try:
        with simulator(settings, None, sim) as settings:
            from voicecli.live.transport import require_key

            require_key(settings, "overview")
            print(f"voicecli: writing the script with {settings.text_model}", file=sys.stderr)
            turns = asyncio.run(write_script(settings, text, hosts, settings.text_model, words))
            print(render(turns), flush=True)
            if sink is None:
                return
            plan = plan_turns(turns, hosts, job)
            from voicecli.ui.status import plural

            print(
                f"voicecli: voicing {plural(len(turns), 'turn')}, {plural(len(plan), 'part')}",
                file=sys.stderr,
            )
            _speak(settings, plan, sink, out, job.stream)
            sink = None
    finally:
        if sink is not None:
            sink.close()


def voices(config: ConfigOpt = None) -> None:
    """The prebuilt voices for `say`, `overview` and `talk --voice`."""
    from voicecli.speech.voices import voices as voice_table
    from voicecli.ui.tables import print_table

    default = cfg.load(config).tts_voice
    rows = [
        (name + (" (default)" if name == default else ""), description)
        for name, description in voice_table().items()
    ]
    print_table(("voice", "sounds"), rows, squeeze_last=True)
