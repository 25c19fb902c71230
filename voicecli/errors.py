"""One exception tree for everything a user can see.

Each error carries a one-line message (what happened), a hint (what to do) and an exit
code. The CLI maps them to output at exactly one place (``cli.main``); nothing else prints
tracebacks. Exit codes are documented in the README and stable.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # unexpected internal error (a bug): shown with --debug
    USAGE = 2  # bad flags, bad config file, impossible option combination
    AUTH = 3  # no API key, key rejected (close 1007 "API key not valid")
    AUDIO = 4  # unreadable, corrupt, empty or unsupported audio input
    MODEL = 5  # unknown model, unsupported feature for the model (close 1008)
    SERVER = 6  # server closed the session (1007 content, 1011), protocol trouble
    NETWORK = 7  # cannot connect, DNS, refused, TLS failure, no Live API there (HTTP 404), 1006
    TIMEOUT = 8  # --timeout reached, setup never answered
    DEVICE = 9  # PortAudio missing, no device, device busy or gone
    TOOL = 10  # tool configuration error
    HISTORY = 11  # history database locked or corrupt (only for `voicecli history`)
    OUTPUT = 12  # an output file cannot be written (permission, disk full, read-only)
    NO_MATCH = 13  # `history search` found nothing (grep's 1; here 1 already means a bug)


class VoicecliError(Exception):
    """Base of every user-facing error."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(
        self, message: str, hint: str | None = None, close_code: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.close_code = close_code  # the websocket close code behind it, if any

    def one_line(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(VoicecliError):
    exit_code = ExitCode.USAGE


class ConfigError(VoicecliError):
    exit_code = ExitCode.USAGE


class AuthError(VoicecliError):
    exit_code = ExitCode.AUTH


class AudioInputError(VoicecliError):
    exit_code = ExitCode.AUDIO


class ModelError(VoicecliError):
    exit_code = ExitCode.MODEL


class ServerError(VoicecliError):
    exit_code = ExitCode.SERVER


class NetworkError(VoicecliError):
    exit_code = ExitCode.NETWORK


class EndpointError(VoicecliError):
    """The endpoint answered, but has no Live API there (HTTP 404): not retried."""

    exit_code = ExitCode.NETWORK


class SessionTimeout(VoicecliError):
    exit_code = ExitCode.TIMEOUT


class DeviceError(VoicecliError):
    exit_code = ExitCode.DEVICE


class ToolConfigError(VoicecliError):
    exit_code = ExitCode.TOOL


class HistoryError(VoicecliError):
    exit_code = ExitCode.HISTORY


class OutputError(VoicecliError):
    exit_code = ExitCode.OUTPUT
