"""Options shared by several commands, declared once, grouped in help panels.

Each option is one ``Annotated`` alias (its flag, help, panel and a plain metavar). A command
that takes a whole group uses ``with_options(*groups)`` (as llm's shared option decorators
do): the options are added to its signature and arrive in one ``Flags`` mapping, which
turns the settings options into ``Settings``. Settings options default to None, so the
config file and environment apply when a flag is not given.
"""

from __future__ import annotations

import functools
import inspect
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import typer.core

from voicecli import config as cfg
from voicecli.commands import complete

AUDIO = "Audio"
MODEL = "Model"
OUTPUT = "Output"
TOOLS = "Tools"
SESSION = "Session"

_D = cfg.Settings()


def _opt(*decls: str, panel: str, help: str, metavar: str = "", **kw: Any) -> Any:
    """A typer option with a plain metavar ("" for flags: no type column)."""
    return typer.Option(*decls, help=help, rich_help_panel=panel, metavar=metavar, **kw)


N = TypeVar("N", int, float)


def in_range(value: N | None, low: N, high: N | None = None) -> N | None:
    """A range check whose help shows a plain metavar (``0-3``) instead of typer's range."""
    if value is not None and high is not None and not low <= value <= high:
        raise typer.BadParameter(f"{value} is not in the range {low}-{high}")
    if value is not None and high is None and value < low:
        raise typer.BadParameter(f"{value} is less than {low}")
    return value


# ------------------------------------------------------------------------------ model
ModelOpt = Annotated[
    str | None,
    _opt(
        "--model",
        "-m",
        panel=MODEL,
        metavar="NAME",
        help=f"Live model (default: {_D.model}).",
        autocompletion=complete.models,
    ),
]
VoiceOpt = Annotated[
    str | None,
    _opt(
        "--voice",
        panel=MODEL,
        metavar="NAME",
        help="Prebuilt voice (default: the model's).",
        autocompletion=complete.voices,
    ),
]
LangOpt = Annotated[
    str | None, _opt("--language", panel=MODEL, metavar="CODE", help="Language, e.g. en-US.")
]
SystemOpt = Annotated[
    str | None, _opt("--system", panel=MODEL, metavar="TEXT", help="System instructions.")
]
StyleOpt = Annotated[
    str | None,
    _opt("--style", panel=MODEL, metavar="TEXT", help='Delivery, e.g. "warm, slow, Scottish".'),
]
ThinkingOpt = Annotated[
    str | None,
    _opt("--thinking", panel=MODEL, metavar="LEVEL", help="minimal..high, or a token budget."),
]
AffectiveOpt = Annotated[
    bool | None, _opt("--affective/--no-affective", panel=MODEL, help="Affective dialog.")
]
ProactiveOpt = Annotated[
    bool | None,
    _opt("--proactive/--no-proactive", panel=MODEL, help="Proactive audio (default: on)."),
]

# ------------------------------------------------------------------------------ audio
VadOpt = Annotated[
    str | None,
    _opt("--vad", panel=AUDIO, metavar="KIND", help=f"webrtc | silero | off (default: {_D.vad})."),
]
VadAggOpt = Annotated[
    int | None,
    _opt(
        "--vad-aggressiveness",
        panel=AUDIO,
        metavar="0-3",
        callback=lambda v: in_range(v, 0, 3),
        help=f"webrtcvad aggressiveness (default: {_D.vad_aggressiveness}).",
    ),
]
EchoOpt = Annotated[
    str | None,
    _opt(
        "--echo",
        panel=AUDIO,
        metavar="MODE",
        help=f"Mic echo control: auto | aec | half | off (headphones) (default: {_D.echo}).",
    ),
]
InputDeviceOpt = Annotated[
    str | None,
    _opt("--input-device", panel=AUDIO, metavar="DEVICE", help="Microphone: index or name part."),
]
OutputDeviceOpt = Annotated[
    str | None,
    _opt("--output-device", panel=AUDIO, metavar="DEVICE", help="Speaker: index or name part."),
]
TurnOpt = Annotated[
    str | None,
    _opt(
        "--turn-detection",
        panel=AUDIO,
        metavar="MODE",
        help="client (activityStart/End) | server (server VAD) (default: client).",
    ),
]
EagernessOpt = Annotated[
    str | None,
    _opt(
        "--turn-eagerness",
        panel=AUDIO,
        metavar="LEVEL",
        help="Wait after a pause: low|normal|high.",
    ),
]

# ------------------------------------------------------------------------------ output
OutputOpt = Annotated[
    Path | None,
    _opt(
        "--output", "-o", panel=OUTPUT, metavar="FILE", help="Model audio (.wav/.flac/.ogg/.mp3)."
    ),
]
TranscriptOpt = Annotated[
    Path | None,
    _opt("--transcript", panel=OUTPUT, metavar="FILE", help="Write events as JSON lines."),
]
JsonOpt = Annotated[
    bool,
    _opt("--json", panel=OUTPUT, help="JSON lines on stdout (one per event); status on stderr."),
]

# ------------------------------------------------------------------------------ tools
ToolsOpt = Annotated[
    bool | None,
    _opt(
        "--tools/--no-tools",
        panel=TOOLS,
        help="Built-ins and the config's tools and mcp_servers (default: on).",
    ),
]
SearchOpt = Annotated[bool | None, _opt("--search", panel=TOOLS, help="Google Search grounding.")]
YesOpt = Annotated[
    bool, _opt("--yes", "-y", panel=TOOLS, help="Run tools without asking (confirm = true).")
]

# ------------------------------------------------------------------------------ session
SimOpt = Annotated[bool, _opt("--sim", panel=SESSION, help="Built-in simulator, no key.")]
ScenarioOpt = Annotated[
    Path | None,
    _opt("--scenario", panel=SESSION, metavar="FILE", help="Scenario of the simulator."),
]
TimeoutOpt = Annotated[
    float | None,
    _opt(
        "--timeout",
        panel=SESSION,
        metavar="SECONDS",
        help=f"Longest wait (default: {_D.timeout:g}).",
    ),
]
BaseUrlOpt = Annotated[
    str | None,
    _opt("--base-url", panel=SESSION, metavar="URL", help="API endpoint (default: Google)."),
]
ConfigOpt = Annotated[
    Path | None,
    _opt(
        "--config",
        panel=SESSION,
        metavar="FILE",
        help="Config file (default: $VOICECLI_HOME/config.toml).",
    ),
]
HistoryOpt = Annotated[
    bool | None,
    _opt("--history/--no-history", panel=SESSION, help="Keep a history (default: on)."),
]
ResumeOpt = Annotated[
    bool | None,
    _opt(
        "--resume/--no-resume",
        panel=SESSION,
        help="Survive goAway and lost connections (default: on).",
    ),
]
WatchdogOpt = Annotated[
    bool | None,
    _opt(
        "--watchdog/--no-watchdog",
        panel=SESSION,
        help="Recover stalls (default: on).",
    ),
]
IdleOpt = Annotated[
    float | None,
    _opt(
        "--idle-timeout",
        panel=SESSION,
        metavar="S",
        help="End after S s silent (0: off).",
    ),
]
ContinueOpt = Annotated[
    bool, _opt("--continue", "-c", panel=SESSION, help="Continue the last session.")
]
SessionIdOpt = Annotated[
    int | None, _opt("--session", panel=SESSION, metavar="ID", help="Continue session ID.")
]
NoAudioHistoryOpt = Annotated[
    bool | None,
    _opt("--no-audio-history", panel=OUTPUT, help="Keep no recording in the history."),
]


# ------------------------------------------------------------------------------ groups
@dataclass(frozen=True)
class Opt:
    name: str  # the Python parameter name
    annotation: Any  # one of the aliases above
    default: Any = None
    setting: str | None = None  # the Settings field it fills, if any


MODEL_OPTS = (
    Opt("model", ModelOpt, setting="model"),
    Opt("voice", VoiceOpt, setting="voice"),
    Opt("language", LangOpt, setting="language"),
    Opt("system", SystemOpt, setting="system"),
    Opt("style", StyleOpt, setting="style"),
    Opt("thinking", ThinkingOpt, setting="thinking"),
)
TALK_MODEL_OPTS = (
    Opt("affective", AffectiveOpt, setting="affective"),
    Opt("proactive", ProactiveOpt, setting="proactive"),
    Opt("turn_detection", TurnOpt, setting="turn_detection"),
    Opt("turn_eagerness", EagernessOpt, setting="turn_eagerness"),
)
AUDIO_OPTS = (
    Opt("vad", VadOpt, setting="vad"),
    Opt("vad_aggressiveness", VadAggOpt, setting="vad_aggressiveness"),
    Opt("echo", EchoOpt, setting="echo"),
    Opt("input_device", InputDeviceOpt, setting="input_device"),
    Opt("output_device", OutputDeviceOpt, setting="output_device"),
)
OUTPUT_OPTS = (
    Opt("output", OutputOpt),
    Opt("transcript", TranscriptOpt),
    Opt("json_out", JsonOpt, False),
    Opt("no_audio_history", NoAudioHistoryOpt),
)
TOOL_OPTS = (
    Opt("tools", ToolsOpt, setting="tools_enabled"),
    Opt("search", SearchOpt, setting="search"),
    Opt("yes", YesOpt, False),
)
SESSION_OPTS = (
    Opt("sim", SimOpt, False),
    Opt("scenario", ScenarioOpt),
    Opt("timeout", TimeoutOpt, setting="timeout"),
    Opt("base_url", BaseUrlOpt, setting="base_url"),
    Opt("config", ConfigOpt),
    Opt("history", HistoryOpt, setting="history"),
    Opt("watchdog", WatchdogOpt, setting="watchdog"),
    Opt("idle_timeout", IdleOpt, setting="idle_timeout"),
    Opt("cont", ContinueOpt, False),
    Opt("session", SessionIdOpt),
)
RESUME_OPTS = (Opt("resume", ResumeOpt, setting="resume"),)

# What ``talk`` and ``listen`` share.
SHARED = (*MODEL_OPTS, *AUDIO_OPTS, *OUTPUT_OPTS, *SESSION_OPTS)


class Flags(dict[str, Any]):
    """The grouped options of one command line, by parameter name."""

    def __init__(self, opts: tuple[Opt, ...], values: dict[str, Any]) -> None:
        super().__init__({o.name: values.get(o.name, o.default) for o in opts})
        self.opts = opts

    def settings(self, **more: Any) -> cfg.Settings:
        """Settings from the config file, environment and these flags (then ``more``)."""
        values = {o.setting: self[o.name] for o in self.opts if o.setting}
        if self.get("no_audio_history"):
            values["audio_history"] = False
        return cfg.load(self.get("config"), {**values, **more})


F = TypeVar("F", bound=Callable[..., Any])


def with_options(*groups: tuple[Opt, ...]) -> Callable[[F], F]:
    """Add the groups' options to a command, which receives them as ``flags: Flags``."""
    opts = tuple(o for group in groups for o in group)

    def decorate(fn: F) -> F:
        sig = inspect.signature(fn, eval_str=True)
        own = [p for p in sig.parameters.values() if p.name != "flags"]
        kw = inspect.Parameter.KEYWORD_ONLY
        added = [inspect.Parameter(o.name, kw, default=o.default, annotation=o.annotation)
                 for o in opts]  # fmt: skip

        @functools.wraps(fn)
        def command(*args: Any, **kwargs: Any) -> Any:
            flags = Flags(opts, {o.name: kwargs.pop(o.name) for o in opts if o.name in kwargs})
            return fn(*args, flags=flags, **kwargs)

        params = [*own, *added]
        command.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        del command.__wrapped__
        return command  # type: ignore[return-value]

    return decorate


def plain_metavar(param: Any) -> str:
    """A word for the value column instead of typer's ``<str>``, ``<list[str]>``, ``<bool>``."""
    if param.is_flag:
        return ""
    desc = param.type_descriptor
    if desc.is_path:
        return "FILE"
    kind = desc.annotation
    return {int: "N", float: "NUMBER"}.get(kind, "TEXT")


def _no_type(ctx: Any) -> None:
    return None


_COMPLETION_HELP = {
    "install_completion": "Install shell completion (bash, zsh, fish).",
    "show_completion": "Print the shell completion script.",
}


class _PlainHelp:
    """Plain metavars for every parameter that does not name its own (and for ``--help``),
    defaults written one way (``(default: X)`` in the help), ``--help`` in the last panel
    when every other option has one (no "Options" panel holding only ``--help``)."""

    def get_params(self, ctx: Any) -> Any:
        params = super().get_params(ctx)  # type: ignore[misc]
        panels = [getattr(p, "rich_help_panel", None) for p in params if p.name != "help"]
        for param in params:
            if param.name in _COMPLETION_HELP:  # typer's own words run over two lines
                param.help = _COMPLETION_HELP[param.name]
            if isinstance(param, typer.core.TyperArgument):  # its name says it; no type column
                param.display_type_rich = _no_type  # type: ignore[method-assign]
                if param.metavar is None:  # usage: SESSION_ID, not typer's {session_id}
                    param.metavar = (param.name or "").upper()
                    param.get_usage_pieces = functools.partial(_usage, param)  # type: ignore[method-assign]
            elif param.metavar is None:
                param.metavar = plain_metavar(param)
            _default_in_help(param)
            if param.name == "help" and panels and all(panels):
                param.rich_help_panel = panels[-1]
        return params


def _usage(param: Any, ctx: Any) -> list[str]:
    name = param.metavar + ("..." if param.nargs != 1 else "")
    return [name if param.required else f"[{name}]"]


def _default_in_help(param: Any) -> None:
    """typer's ``[default: 9443]`` as ``(default: 9443)``, the way the shared options say it."""
    default = param.default
    if not param.show_default or getattr(param, "is_flag", False) or callable(default):
        return
    if default is None or default == "" or isinstance(default, list | tuple):
        return
    help = param.help or ""
    if "(default" not in help:
        param.help = (
            f"{help.rstrip('.')} (default: {default})." if help else f"(default: {default})"
        )
    param.show_default = False


NARROW = 80  # below this many columns, rich's option tables cut flag names: plain help


def _narrow() -> bool:
    return shutil.get_terminal_size((NARROW, 24)).columns < NARROW


class Command(_PlainHelp, typer.core.TyperCommand):
    def format_help(self, ctx: Any, formatter: Any) -> None:
        """On a narrow terminal, click's plain layout (a flag's help goes below it when it
        is long) with one section a panel: flag names are never cut."""
        if not _narrow():
            return super().format_help(ctx, formatter)
        typer.core._click.Command.format_help(self, ctx, formatter)

    def format_options(self, ctx: Any, formatter: Any) -> None:
        sections: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                panel = getattr(param, "rich_help_panel", None) or "Options"
                sections.setdefault(panel, []).append(record)
        for name, rows in sections.items():
            with formatter.section(name):
                formatter.write_dl(rows, col_max=24)


class Group(_PlainHelp, typer.core.TyperGroup):
    pass
