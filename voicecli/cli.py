"""Typer wiring only: the commands live in ``voicecli.commands``; errors become one line and an
exit code here, and nowhere else."""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer
from typer.models import CommandInfo

from voicecli import __version__
from voicecli import config as cfg
from voicecli.commands import config_cmd, devices, doctor, history, key, sim, speech, talk
from voicecli.commands.options import Command, Group
from voicecli.errors import ExitCode
from voicecli.redaction import (
    only_interrupts,
    print_traceback,
    quiet_libraries,
    redacting_hooks,
    user_error,
)
from voicecli.video.options import fill_optional_values


def _typer() -> typer.Typer:
    return typer.Typer(
        cls=Group,
        name="voicecli",
        help="Talk with Gemini's native-audio Live models from the terminal.",
        no_args_is_help=True,
        add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish)
        pretty_exceptions_enable=False,
    )


app = _typer()


def _version(value: bool) -> None:
    if value:
        print(f"voicecli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[
        bool,
        typer.Option("--debug", metavar="", help="Show tracebacks and debug logs (anywhere)."),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", metavar="", callback=_version, is_eager=True, help="Version."),
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    quiet_libraries(debug)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(cfg.RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
        handler.addFilter(cfg.RedactingFilter())


app.command(cls=Command)(talk.talk)
app.command(cls=Command)(talk.listen)
app.command(cls=Command)(devices.devices)
app.command("sim", cls=Command)(sim.sim_cmd)
app.command(cls=Command)(talk.demo)
app.command(cls=Command)(sim.models)
app.command(cls=Command)(speech.say)
app.command(cls=Command)(speech.overview)
app.command(cls=Command)(speech.voices)
app.command(cls=Command)(doctor.doctor)
app.command(cls=Command)(config_cmd.config)
app.add_typer(key.app, name="key")
app.add_typer(history.app, name="history")


def app_for(args: list[str]) -> typer.Typer:
    """The app that runs ``args``. With a command named (after the root's flags), an app of
    that command alone: building every command's options would cost each session about
    0.6 MB for nothing. ``--help``, no command and a misspelt one get the whole app, whose
    help and suggestions list them all."""
    name = next((a for a in args if not a.startswith("-")), None)
    commands = [c for c in app.registered_commands if _name(c) == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app
    one = _typer()
    one.registered_callback = app.registered_callback
    one.registered_commands, one.registered_groups = commands, groups
    return one


def _name(info: CommandInfo) -> str | None:
    if info.name:
        return info.name
    return typer.main.get_command_name(info.callback.__name__) if info.callback else None


def debug_first(args: list[str]) -> tuple[list[str], bool]:
    """``--debug`` is accepted anywhere before ``--``: it is moved in front of the command."""
    end = args.index("--") if "--" in args else len(args)
    debug = "--debug" in args[:end]
    if debug:
        args = ["--debug", *(a for a in args[:end] if a != "--debug"), *args[end:]]
    return args, debug


STOPPED = {"by_interrupt": False}  # main ended on Ctrl-C, SIGTERM or SIGHUP (``__main__``)


def _stopped() -> int:
    """A user-requested end by a signal: one line, exit 0."""
    print("stopped.", file=sys.stderr)
    STOPPED["by_interrupt"] = True
    return int(ExitCode.OK)


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the app and maps every error to one line and an exit code."""
    args, debug = debug_first(list(sys.argv[1:] if argv is None else argv))
    args = fill_optional_values(args)  # --screen, --camera without a value
    debug = debug or os.environ.get("VOICECLI_DEBUG") == "1"
    _completion_instruction()
    redacting_hooks()
    command = typer.main.get_command(app_for(args))
    try:
        command.main(args=args, prog_name="voicecli", standalone_mode=True)
        code = 0
    except SystemExit as e:  # typer's own exits: usage errors (2), --help, Ctrl-C (130)
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if code == 130:  # Ctrl-C before a session was running: a user-requested end
            code = _stopped()
    except KeyboardInterrupt:
        code = _stopped()
    except BaseException as e:
        err = user_error(e)
        if err is None and not isinstance(e, Exception):
            if only_interrupts(e):
                return _stopped()
            raise
        if debug:
            print_traceback(e)
        if err is not None:
            print(f"error: {cfg.redact(err.one_line(), _env_key())}", file=sys.stderr)
            code = int(err.exit_code)
        else:  # a bug: one line unless --debug
            text = cfg.redact(f"{type(e).__name__}: {e}", _env_key())
            print(f"error: unexpected {text} (run with --debug and report it)", file=sys.stderr)
            code = int(ExitCode.FAILURE)
    return code


def _completion_instruction() -> None:
    """``_VOICECLI_COMPLETE=bash_source`` (click's order, as click's docs show it) works
    as typer's ``source_bash`` does."""
    value = os.environ.get(COMPLETE_VAR, "")
    first, _, second = value.partition("_")
    if first in SHELLS and second in ("source", "complete"):
        os.environ[COMPLETE_VAR] = f"{second}_{first}"


COMPLETE_VAR = "_VOICECLI_COMPLETE"
SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")


def _env_key() -> str | None:
    return os.environ.get("GOOGLE_API_KEY") or os.environ.get("GEMINI_API_KEY")


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
