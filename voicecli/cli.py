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
SimOpt = Annotated[
    bool, typer.Option("--sim", help="Talk to the built-in simulator (no key needed).")
]
ScenarioOpt = Annotated[
    Path | None, typer.Option("--scenario", help="Simulator scenario file (with --sim).")
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
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the model's audio (24 kHz WAV).")
    ] = None,
    record: Annotated[
        Path | None, typer.Option("--record", help="Write both sides: you left, model right.")
    ] = None,
    transcript: Annotated[
        Path | None, typer.Option("--transcript", help="Write events as JSON lines.")
    ] = None,
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
) -> None:
    """Hold a voice conversation (from --input FILE, or the microphone)."""
    from voicecli.talk import TalkRequest, run_talk
    from voicecli.ui.plain import PlainView

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
    )
    if input is None:
        raise UsageError(
            "live microphone mode is not available in this build",
            "use --input FILE for a scripted conversation",
        )
    _check_writable(output, record, transcript)
    view = PlainView()
    with simulator(settings, scenario, sim) as settings:
        capabilities.lookup(settings.model, "vertex" if settings.vertex else "developer")
        where = "simulator" if sim else (settings.base_url or "Gemini")
        view.status(f"voicecli: {settings.model} via {where}; speaking {input}")
        req = TalkRequest(
            input=input,
            output=output,
            record=record,
            transcript=transcript,
            fast=fast,
            observers=[view],
            on_start=ctrl_c_stops(view.status),
        )
        summary = asyncio.run(run_talk(settings, req))
    view.status(format_summary(summary))


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
                os._exit(130)

        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, on_sigint)

    return on_start


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
    return (
        f"done: {s.turns} turns ({s.spoken} spoken, {s.silent} silent by choice, "
        f"{s.interrupted} interrupted{extra}){lat}; {sent}; {s.total_tokens} tokens; "
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


# ---------------------------------------------------------------------------------- key
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
