"""Typer wiring only. Errors become one line and an exit code here, and nowhere else."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import statistics
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from voicecli import __version__
from voicecli import config as cfg
from voicecli.audio.base import AudioSink
from voicecli.errors import ExitCode, UsageError, VoicecliError
from voicecli.live import capabilities
from voicecli.live.conversation import Summary

app = typer.Typer(
    name="voicecli",
    help="Talk with Gemini's native-audio Live models from the terminal.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
key_app = typer.Typer(help="Store or remove the API key.", no_args_is_help=True)
app.add_typer(key_app, name="key")
history_app = typer.Typer(
    help="Past conversations: recent sessions (no command), show, search, export."
)
app.add_typer(history_app, name="history")

_state: dict[str, Any] = {"debug": False}


def _version(value: bool) -> None:
    if value:
        print(f"voicecli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    _state["debug"] = debug
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(cfg.RedactingFilter())


# ---------------------------------------------------------------------------------- options
# Shared session options (None = not given, so config file and environment apply).
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="Live model.")]
VoiceOpt = Annotated[str | None, typer.Option("--voice", help="Prebuilt voice, e.g. Kore.")]
LangOpt = Annotated[str | None, typer.Option("--language", help="Language code, e.g. en-US.")]
SystemOpt = Annotated[str | None, typer.Option("--system", help="System instructions.")]
StyleOpt = Annotated[
    str | None,
    typer.Option("--style", help='Delivery in plain words, e.g. "warm, slow, Scottish accent".'),
]
AffectiveOpt = Annotated[
    bool | None, typer.Option("--affective/--no-affective", help="Affective dialog.")
]
ProactiveOpt = Annotated[
    bool | None,
    typer.Option("--proactive/--no-proactive", help="Proactive audio (default: on)."),
]
ThinkingOpt = Annotated[
    str | None, typer.Option("--thinking", help="Thinking level (minimal..high) or budget.")
]
BaseUrlOpt = Annotated[
    str | None, typer.Option("--base-url", help="Live API endpoint (default: Google).")
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Config file (default: $VOICECLI_HOME/config.toml).")
]
VadOpt = Annotated[str | None, typer.Option("--vad", help="webrtc | silero | off.")]
VadAggOpt = Annotated[
    int | None, typer.Option("--vad-aggressiveness", min=0, max=3, help="webrtcvad 0-3.")
]
TurnOpt = Annotated[
    str | None,
    typer.Option("--turn-detection", help="auto (server VAD) | manual (activityStart/End)."),
]
TimeoutOpt = Annotated[
    float | None, typer.Option("--timeout", help="Longest wait for the model, seconds.")
]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the model's audio (24 kHz WAV).")
]
TranscriptOpt = Annotated[
    Path | None, typer.Option("--transcript", help="Write events as JSON lines.")
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="One JSON object per event on stdout; status on stderr.")
]
HistoryOpt = Annotated[
    bool | None,
    typer.Option("--history/--no-history", help="Store the conversation (default: on)."),
]
SimOpt = Annotated[
    bool, typer.Option("--sim", help="Talk to the built-in simulator (no key needed).")
]
ScenarioOpt = Annotated[
    Path | None, typer.Option("--scenario", help="Simulator scenario file (with --sim).")
]
EchoOpt = Annotated[
    str | None,
    typer.Option("--echo", help="Mic echo control: auto | aec | half | off (headphones)."),
]
InputDeviceOpt = Annotated[
    str | None, typer.Option("--input-device", help="Microphone: index or part of the name.")
]
OutputDeviceOpt = Annotated[
    str | None, typer.Option("--output-device", help="Speaker: index or part of the name.")
]


def load_settings(config: Path | None, **flags: Any) -> cfg.Settings:
    return cfg.load(config, flags)


@contextlib.contextmanager
def simulator(
    settings: cfg.Settings, scenario: Path | None, enabled: bool
) -> Iterator[cfg.Settings]:
    """With --sim: run the simulator in the background and point the settings at it."""
    if not enabled:
        if scenario is not None:
            raise UsageError("--scenario needs --sim")
        yield settings
        return
    from voicecli.sim.server import SimServer

    sim = SimServer(scenario=scenario)
    sim.start_in_thread()
    try:
        yield settings.with_overrides(
            base_url=sim.base_url,
            ca_file=str(sim.ca_path),
            api_key=settings.api_key or "sim-key",
            vertex=False,
        )
    finally:
        sim.stop_thread()


# ---------------------------------------------------------------------------------- talk
@app.command()
def talk(
    input: Annotated[
        Path | None, typer.Option("--input", "-i", help="Audio file to speak (WAV/FLAC/OGG).")
    ] = None,
    output: OutputOpt = None,
    record: Annotated[
        Path | None, typer.Option("--record", help="Write both sides: you left, model right.")
    ] = None,
    transcript: TranscriptOpt = None,
    fast: Annotated[
        bool, typer.Option("--fast", help="With --input: don't pace in real time.")
    ] = False,
    sim: SimOpt = False,
    scenario: ScenarioOpt = None,
    model: ModelOpt = None,
    voice: VoiceOpt = None,
    language: LangOpt = None,
    system: SystemOpt = None,
    style: StyleOpt = None,
    affective: AffectiveOpt = None,
    proactive: ProactiveOpt = None,
    thinking: ThinkingOpt = None,
    vad: VadOpt = None,
    vad_aggressiveness: VadAggOpt = None,
    turn_detection: TurnOpt = None,
    timeout: TimeoutOpt = None,
    base_url: BaseUrlOpt = None,
    config: ConfigOpt = None,
    tools: Annotated[
        bool | None,
        typer.Option(
            "--tools/--no-tools",
            help="Tools: built-ins and the config's tools and mcp_servers tables.",
        ),
    ] = None,
    search: Annotated[
        bool | None, typer.Option("--search", help="Google Search grounding.")
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Run tools without asking (confirm = true).")
    ] = False,
    json_out: JsonOpt = False,
    history: HistoryOpt = None,
    echo: EchoOpt = None,
    input_device: InputDeviceOpt = None,
    output_device: OutputDeviceOpt = None,
    resume: Annotated[
        bool | None,
        typer.Option(
            "--resume/--no-resume",
            help="Session resumption: survive goAway and lost connections (default: on).",
        ),
    ] = None,
) -> None:
    """Hold a voice conversation (from --input FILE, or the microphone).

    Type a line (Enter) to send text into the session; /help lists /mute, /style, /stats, /quit.
    """
    from voicecli.talk import TalkRequest, run_talk
    from voicecli.tools import check_config, make_approver
    from voicecli.ui.talk_ui import talk_ui

    settings = load_settings(
        config,
        model=model,
        voice=voice,
        language=language,
        system=system,
        style=style,
        affective=affective,
        proactive=proactive,
        thinking=thinking,
        vad=vad,
        vad_aggressiveness=vad_aggressiveness,
        turn_detection=turn_detection,
        timeout=timeout,
        base_url=base_url,
        tools_enabled=tools,
        search=search,
        history=history,
        echo=echo,
        input_device=input_device,
        output_device=output_device,
        resume=resume,
    )
    check_config(settings)
    if input is None and fast:
        raise UsageError("--fast needs --input FILE (the microphone runs in real time)")
    _check_writable(output, record, transcript)
    live = None
    if input is None:  # the microphone and speaker, opened before connecting
        from voicecli.audio.duplex import open_live_audio

        live = open_live_audio(
            settings.input_device, settings.output_device, settings.echo, settings.frame_ms
        )
    where = "simulator" if sim else (settings.base_url or "Gemini")
    with (
        contextlib.closing(live) if live else contextlib.nullcontext(),
        simulator(settings, scenario, sim) as settings,
        talk_ui(settings, json_out=json_out, endpoint=where, input_name=str(input or "mic")) as ui,
    ):
        capabilities.lookup(settings.model, "vertex" if settings.vertex else "developer")
        speaking = live.status if live else f"speaking {input}"
        ui.status(f"voicecli: {settings.model} via {where}; {speaking}")
        req = TalkRequest(
            input=input,
            source=ui.metered(live.source) if live else None,
            sinks=[live.speaker] if live else [],
            output=output,
            record=record,
            transcript=transcript,
            fast=fast,
            observers=[*ui.observers, live.speaker] if live else ui.observers,
            on_start=ui.on_start(ctrl_c_stops(ui.status)),
            with_tools=True,
            approver=make_approver(yes),
        )
        summary = asyncio.run(run_talk(settings, req))
    ui.status(format_summary(summary))
    if live:
        from voicecli.ui.devices_view import format_audio_stats

        ui.status(format_audio_stats(live.stats()))


# ---------------------------------------------------------------------------------- listen
@app.command()
def listen(
    topic: Annotated[
        list[str] | None,
        typer.Option("--topic", "-t", help="Speak up when this comes up (repeatable)."),
    ] = None,
    input: Annotated[
        Path | None,
        typer.Option("--input", "-i", help="Listen to a recording (WAV/FLAC/OGG), not the room."),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Play nothing: stream the file, show replies.")
    ] = False,
    then_talk: Annotated[
        bool,
        typer.Option("--then-talk", help="When the file ends, talk about it (mic, or typed)."),
    ] = False,
    fast: Annotated[
        bool, typer.Option("--fast", help="With --input --quiet: don't pace in real time.")
    ] = False,
    output: OutputOpt = None,
    record: Annotated[
        Path | None, typer.Option("--record", help="Write both sides: heard left, model right.")
    ] = None,
    transcript: TranscriptOpt = None,
    json_out: JsonOpt = False,
    sim: SimOpt = False,
    scenario: ScenarioOpt = None,
    model: ModelOpt = None,
    voice: VoiceOpt = None,
    language: LangOpt = None,
    system: SystemOpt = None,
    style: StyleOpt = None,
    thinking: ThinkingOpt = None,
    vad: VadOpt = None,
    vad_aggressiveness: VadAggOpt = None,
    timeout: TimeoutOpt = None,
    base_url: BaseUrlOpt = None,
    config: ConfigOpt = None,
    history: HistoryOpt = None,
    echo: EchoOpt = None,
    input_device: InputDeviceOpt = None,
    output_device: OutputDeviceOpt = None,
) -> None:
    """Listen along (the room, or --input FILE); Gemini speaks only about a --topic or when
    spoken to, and the turns it leaves silent are counted as its choice.

    --system adds instructions; typed lines and /commands work as in talk.
    """
    from voicecli import listen as co
    from voicecli.talk import TalkRequest
    from voicecli.tools import check_config, make_approver
    from voicecli.ui.talk_ui import talk_ui

    settings = load_settings(
        config,
        model=model,
        voice=voice,
        language=language,
        system=system,
        style=style,
        thinking=thinking,
        vad=vad,
        vad_aggressiveness=vad_aggressiveness,
        timeout=timeout,
        base_url=base_url,
        history=history,
        echo=echo,
        input_device=input_device,
        output_device=output_device,
    )
    check_config(settings)
    if input is None and (quiet or then_talk or fast):
        raise UsageError("--quiet, --then-talk and --fast need --input FILE")
    if fast and not quiet:
        raise UsageError("--fast needs --quiet (a recording is played in real time)")
    _check_writable(output, record, transcript)
    audio = co.open_listen_audio(
        settings, has_file=input is not None, then_talk=then_talk, quiet=quiet
    )
    where = "simulator" if sim else (settings.base_url or "Gemini")
    if sim and scenario is None:
        scenario = co.sim_scenario()
    with (
        contextlib.closing(audio),
        simulator(settings, scenario, sim) as settings,
        talk_ui(
            settings,
            json_out=json_out,
            endpoint=where,
            input_name=str(input or "mic"),
            command="listen",
        ) as ui,
    ):
        capabilities.lookup(settings.model, "vertex" if settings.vertex else "developer")
        for note in audio.notes:
            ui.status(f"note: {note}")
        on_start = ui.on_start(ctrl_c_stops(ui.status))
        if input is None:
            source = ui.metered(audio.live.source)
            heard = audio.live.status
        else:
            then = audio.then_source(settings.frame_ms) if then_talk else None
            if isinstance(then, co.HoldSource) and ui.prompt is not None:
                on_start = co.typed_after(then, ui.prompt, ctrl_c_stops(ui.status))
            source = co.file_source(settings, input, fast=fast, player=audio.player(), then=then)
            heard = f"listening to {input}" + (" (not played)" if audio.player() is None else "")
        about = f"; topics: {', '.join(topic)}" if topic else ""
        ui.status(f"voicecli: {settings.model} via {where}; {heard}{about}")
        req = TalkRequest(
            source=source,
            sinks=audio.sinks,
            output=output,
            record=record,
            transcript=transcript,
            fast=fast,
            observers=[*ui.observers, *audio.observers],
            on_start=on_start,
            with_tools=True,
            approver=make_approver(False),
        )
        summary = asyncio.run(co.run_listen(settings, topic or [], req))
    ui.status(format_summary(summary))
    if audio.live is not None:
        from voicecli.ui.devices_view import format_audio_stats

        ui.status(format_audio_stats(audio.stats()))


def ctrl_c_stops(status: Callable[[str], None]) -> Callable[[Any], None]:
    """First Ctrl-C ends the conversation cleanly (files finalized); a second one forces."""

    def on_start(conv: Any) -> None:
        presses = 0

        def on_sigint() -> None:
            nonlocal presses
            presses += 1
            if presses == 1:
                status("stopping... (Ctrl-C again to force)")
                conv.request_stop()
            else:
                from voicecli.ui.prompt import restore_terminal

                restore_terminal()  # typed input may have the terminal in cbreak mode
                os._exit(130)

        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, on_sigint)

    return on_start


# ---------------------------------------------------------------------------------- devices
@app.command()
def devices(
    test: Annotated[
        bool, typer.Option("--test", help="Show the input level live and play a short tone.")
    ] = False,
    seconds: Annotated[
        float, typer.Option("--seconds", min=0.5, max=60, help="How long --test listens.")
    ] = 3.0,
    input_device: InputDeviceOpt = None,
    output_device: OutputDeviceOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List the audio devices (default marked); --test checks the microphone and speaker."""
    from voicecli.audio.device_choice import select_device
    from voicecli.audio.devices import list_devices
    from voicecli.ui import devices_view

    found = list_devices()
    devices_view.print_devices(found)
    settings = load_settings(config, input_device=input_device, output_device=output_device)
    devices_view.print_chosen(
        select_device(settings.input_device, "input", found),
        select_device(settings.output_device, "output", found),
    )
    if test:
        from voicecli.audio.duplex import check_devices

        meter = devices_view.LevelMeter()
        try:
            result = asyncio.run(
                check_devices(settings.input_device, settings.output_device, seconds, meter)
            )
        finally:
            meter.done()
        devices_view.print_check(result)


def _check_writable(*paths: Path | None) -> None:
    for p in paths:
        if p is None:
            continue
        parent = p.parent if str(p.parent) else Path(".")
        if not parent.exists():
            raise UsageError(f"cannot write {p}: folder {parent} does not exist")


def format_summary(s: Summary) -> str:
    lat = (
        f", latency median {statistics.median(s.latencies_s) * 1000:.0f} ms"
        if s.latencies_s
        else ""
    )
    sent = (
        f"{s.seconds_sent:.1f} s of {s.seconds_in:.1f} s audio sent"
        if s.seconds_in
        else "no audio sent"
    )
    extra = f", {s.unanswered} unanswered" if s.unanswered else ""
    extra += f", {s.malformed} malformed messages skipped" if s.malformed else ""
    extra += f", {s.reconnects} reconnects" if s.reconnects else ""
    from voicecli.live.conversation import summary_tokens
    from voicecli.pricing import money

    cost = f", about {money(s.cost_usd)}" if s.cost_usd is not None else ""
    return (
        f"done: {s.turns} turns ({s.spoken} spoken, {s.silent} silent by choice, "
        f"{s.interrupted} interrupted{extra}){lat}; {sent}; {summary_tokens(s).line()}{cost}; "
        f"{s.duration_s:.1f} s"
    )


# ---------------------------------------------------------------------------------- sim
@app.command("sim")
def sim_cmd(
    port: Annotated[int, typer.Option("--port", help="Port (0: any free port).")] = 9443,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    scenario: Annotated[Path | None, typer.Option("--scenario", help="Scenario file.")] = None,
    api_key: Annotated[
        str | None,
        typer.Option("--api-key", help="Accept only this key (default: any non-empty key)."),
    ] = None,
    cert_dir: Annotated[
        Path | None, typer.Option("--cert-dir", help="Where to write ca.pem (default: data dir).")
    ] = None,
) -> None:
    """Run the local Live API simulator (TLS) until Ctrl-C."""
    from voicecli.sim.server import run_sim

    run_sim(host, port, scenario, api_key, cert_dir or cfg.data_dir() / "sim")


# ---------------------------------------------------------------------------------- demo
@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Where to write the files.")] = Path(
        "out"
    ),
    realtime: Annotated[
        bool, typer.Option("--realtime", help="Pace the input in real time (slower).")
    ] = False,
) -> None:
    """A conversation with the built-in simulator: a generated WAV in, the reply out."""
    from voicecli.demo import make_demo_input

    out_dir.mkdir(parents=True, exist_ok=True)
    wav, spoken = make_demo_input(out_dir / "demo-input.wav")
    print(f"demo input: {wav} ({'espeak-ng speech' if spoken else 'synthetic speech'})")
    talk(
        input=wav,
        output=out_dir / "demo-reply.wav",
        record=out_dir / "demo-conversation.wav",
        transcript=out_dir / "demo-transcript.jsonl",
        fast=not realtime,
        sim=True,
        scenario=None,
        model=None,
        voice=None,
        language=None,
        system=None,
        style=None,
        affective=None,
        proactive=None,
        thinking=None,
        vad=None,
        vad_aggressiveness=None,
        turn_detection=None,
        timeout=None,
        base_url=None,
        config=None,
    )
    print(
        f"wrote {out_dir}/demo-reply.wav (model), {out_dir}/demo-conversation.wav "
        f"(both sides), {out_dir}/demo-transcript.jsonl"
    )


# ---------------------------------------------------------------------------------- models
@app.command()
def models() -> None:
    """The Live models voicecli knows and what each can do."""
    from rich.console import Console
    from rich.table import Table

    table = Table("model", "API", "proactive audio", "affective", "thinking", "audioStreamEnd")
    for m in capabilities.all_models():
        default = (
            " (default)" if m.name == capabilities.DEFAULT_MODEL and m.api == "developer" else ""
        )
        table.add_row(
            m.name + default,
            m.api,
            m.proactive_audio.value,
            m.affective_dialog.value,
            m.thinking.value,
            "honoured" if m.honours_stream_end else "ignored",
        )
    Console().print(table)


# ---------------------------------------------------------------------------------- speech
SpeakerOpt = Annotated[
    list[str] | None,
    typer.Option("--speaker", help="Name=Voice; give two to read a 'Name: line' script."),
]
PaceOpt = Annotated[str | None, typer.Option("--pace", help='Pace in words: "slow", "fast".')]
TtsModelOpt = Annotated[
    str | None, typer.Option("--model", "-m", help="TTS model (default gemini-3.8-flash-tts).")
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", "-o", help="Write a 24 kHz WAV instead of playing.")
]
NoStreamOpt = Annotated[
    bool, typer.Option("--no-stream", help="Wait for each part whole (no streaming).")
]
MaxCharsOpt = Annotated[
    int, typer.Option("--max-chars", help="Text per request; longer texts are split.")
]


def _speech_sink(out: Path | None) -> AudioSink:
    """A WAV file with --out, else the speaker (when this build has one)."""
    if out is not None:
        _check_writable(out)
        from voicecli.audio.files import WavSink

        return WavSink(out)
    try:
        from voicecli.audio.devices import SpeakerSink
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


@app.command()
def say(
    text: Annotated[
        str | None, typer.Argument(help="What to say (default: --file, or stdin).")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Read the text or script from a file.")
    ] = None,
    out: OutOpt = None,
    voice: Annotated[
        str | None, typer.Option("--voice", help="Prebuilt voice (`voicecli voices`).")
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

    settings = load_settings(
        config, tts_model=model, tts_voice=voice, timeout=timeout, base_url=base_url
    )
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
        who = " and ".join(f"{s.name} ({s.voice})" for s in plan[0].speakers) or plan[0].voice
        print(f"voicecli: {who}, {job.model}, {len(plan)} part(s)", file=sys.stderr)
        _speak(settings, plan, _speech_sink(out), out, job.stream)


@app.command()
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

    settings = load_settings(
        config, tts_model=model, text_model=text_model, timeout=timeout, base_url=base_url
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
    sink = None if script_only else _speech_sink(out)  # fail early: before the text model
    try:
        with simulator(settings, None, sim) as settings:
            print(f"voicecli: writing the script with {settings.text_model}", file=sys.stderr)
            turns = asyncio.run(write_script(settings, text, hosts, settings.text_model, words))
            print(render(turns), flush=True)
            if sink is None:
                return
            plan = plan_turns(turns, hosts, job)
            print(f"voicecli: voicing {len(turns)} turns, {len(plan)} part(s)", file=sys.stderr)
            _speak(settings, plan, sink, out, job.stream)
            sink = None
    finally:
        if sink is not None:
            sink.close()


@app.command()
def voices(config: ConfigOpt = None) -> None:
    """The prebuilt voices for `say`, `overview` and `talk --voice`."""
    from rich.console import Console
    from rich.table import Table

    from voicecli.speech.voices import voices as voice_table

    default = load_settings(config).tts_voice
    table = Table("voice", "sounds")
    for name, description in voice_table().items():
        table.add_row(name + (" (default)" if name == default else ""), description)
    Console().print(table)


# ---------------------------------------------------------------------------------- key
@app.command()
def doctor(
    sim: SimOpt = False,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Check PortAudio and devices, the key, the config, the model and the endpoint."""
    from voicecli import doctor as doc

    with contextlib.ExitStack() as stack:

        def overrides(settings: cfg.Settings) -> cfg.Settings:
            settings = settings.with_overrides(model=model, base_url=base_url)
            return stack.enter_context(simulator(settings, None, sim))

        checks = doc.run_checks(config, overrides, sim=sim)
    for c in checks:
        mark = "ok " if c.ok else ("-- " if c.optional else "!! ")
        line = f"{mark}{c.name}: {c.detail}"
        if not c.ok and c.hint:
            line += f" (fix: {c.hint})"
        print(line)
    code = doc.exit_code(checks)
    if code:
        raise typer.Exit(code)


@key_app.command("set")
def key_set() -> None:
    """Store the API key (read from the terminal without echo, or from stdin)."""
    if sys.stdin.isatty():
        import getpass

        key = getpass.getpass("Gemini API key: ")
    else:
        key = sys.stdin.readline()
    if not key.strip():
        raise UsageError("no key given", "paste the key from Google AI Studio")
    path = cfg.store_api_key(key)
    print(f"key stored in {path} (readable by you only)", file=sys.stderr)


@key_app.command("remove")
def key_remove() -> None:
    """Delete the stored API key."""
    path = cfg.key_file()
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    print(f"removed {path}", file=sys.stderr)


# ---------------------------------------------------------------------------------- history
@history_app.callback(invoke_without_command=True)
def history_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many.")] = 20,
) -> None:
    """Recent sessions: id, start, model, turns, duration, first words."""
    if ctx.invoked_subcommand is not None:
        return
    from voicecli.ui import history_text

    with _history_store() as store:
        rows = store.sessions(limit) if store else []
    print("\n".join(history_text.session_list(rows)))


@history_app.command("show")
def history_show(session_id: Annotated[int, typer.Argument(help="Session id.")]) -> None:
    """One conversation, turn by turn."""
    from voicecli.ui import history_text

    with _history_store(required=True) as store:
        assert store is not None
        print("\n".join(history_text.show(store.session(session_id))))


@history_app.command("search")
def history_search(
    words: Annotated[list[str], typer.Argument(help="Words to find (all must match).")],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Most hits.")] = 50,
) -> None:
    """Full-text search over everything said and typed."""
    from voicecli.ui import history_text

    with _history_store() as store:
        rows = store.search(words, limit) if store else []
    print("\n".join(history_text.search_hits(rows)))


@history_app.command("export")
def history_export(
    session_id: Annotated[int, typer.Argument(help="Session id.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="md | json.")] = "md",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File.")] = None,
) -> None:
    """A conversation as Markdown or JSON (stdout, or --output FILE)."""
    from voicecli.ui import history_text

    if fmt not in ("md", "json"):
        raise UsageError(f"--format must be md or json, not {fmt!r}")
    with _history_store(required=True) as store:
        assert store is not None
        data = store.session(session_id)
    text = history_text.markdown(data) if fmt == "md" else history_text.as_json(data)
    if output is None:
        sys.stdout.write(text)
    else:
        _check_writable(output)
        output.write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)


@contextlib.contextmanager
def _history_store(required: bool = False) -> Iterator[Any]:
    """The history database, or None when there is none yet (an error if ``required``)."""
    from voicecli.history import HistoryStore, default_path

    path = default_path()
    if not path.exists():
        if required:
            raise UsageError("no conversations stored yet", f"{path} does not exist")
        yield None
        return
    store = HistoryStore(path)
    try:
        yield store
    finally:
        store.close()


# ---------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the app and maps every error to one line and an exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("VOICECLI_DEBUG") == "1"
    command = typer.main.get_command(app)
    try:
        command.main(args=args, prog_name="voicecli", standalone_mode=True)
        code = 0
    except SystemExit as e:  # typer's own exits: usage errors (2), --help, Ctrl-C (130)
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if code == 130:  # Ctrl-C before a session was running: a user-requested end
            print("stopped.", file=sys.stderr)
            code = int(ExitCode.OK)
    except VoicecliError as e:
        if debug:
            import traceback

            traceback.print_exception(e)
        print(f"error: {cfg.redact(e.one_line(), _env_key())}", file=sys.stderr)
        code = int(e.exit_code)
    except KeyboardInterrupt:
        print("stopped.", file=sys.stderr)
        code = int(ExitCode.OK)
    except Exception as e:  # a bug: one line unless --debug
        if debug:
            raise
        text = cfg.redact(f"{type(e).__name__}: {e}", _env_key())
        print(f"error: unexpected {text} (run with --debug and report it)", file=sys.stderr)
        code = int(ExitCode.FAILURE)
    return code


def _env_key() -> str | None:
    return os.environ.get("GOOGLE_API_KEY") or os.environ.get("GEMINI_API_KEY")


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
