"""Settings and where they come from: flags > environment > config file > defaults.

The config file is ``config.toml`` in ``$VOICECLI_HOME`` (default: the platform's config dir);
``--config FILE`` names another. Every setting is a flat top-level key, documented in
``config.example.toml``; tables such as ``[[tools]]`` are kept raw for the modules that own
them. Environment variables are ``VOICECLI_<KEY>`` (``VOICECLI_MODEL``, ``VOICECLI_VAD`` ...).

The API key is looked up like the SDK does (``GOOGLE_API_KEY``, then ``GEMINI_API_KEY``), then
``api_key`` in the config file, then the key stored by ``voicecli key set``. It is never
printed: ``Settings.__repr__`` hides it.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from voicecli import keys
from voicecli.errors import ConfigError

ENV_PREFIX = "VOICECLI_"
KEY_ENV_VARS = keys.KEY_ENV_VARS
RAW_TABLES = ("tools", "mcp_servers", "prices")  # validated by their own modules


def home_dir() -> Path:
    """Where config.toml lives: ``$VOICECLI_HOME`` or the platform's config dir."""
    env = os.environ.get("VOICECLI_HOME")
    return Path(env) if env else Path(platformdirs.user_config_dir("voicecli"))


def data_dir() -> Path:
    """Where history and other data live: ``$VOICECLI_HOME`` or the platform's data dir."""
    env = os.environ.get("VOICECLI_HOME")
    return Path(env) if env else Path(platformdirs.user_data_dir("voicecli"))


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if missing; a folder voicecli creates is 0700."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def key_file() -> Path:
    return keys.key_file(data_dir())


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True)
class Settings:
    """Every option of voicecli, with its default."""

    model: str = field(default="gemini-3.8-live", metadata=_doc("Live model"))
    voice: str | None = field(default=None, metadata=_doc("prebuilt voice name, e.g. Kore"))
    language: str | None = field(default=None, metadata=_doc("BCP-47 code, e.g. en-US, de-DE"))
    system: str | None = field(default=None, metadata=_doc("system instructions"))
    style: str | None = field(default=None, metadata=_doc("delivery in natural language"))
    affective: bool | None = field(default=None, metadata=_doc("affective dialog"))
    thinking: str | None = field(default=None, metadata=_doc("thinking level or budget"))
    proactive: bool | None = field(default=None, metadata=_doc("proactive audio"))
    base_url: str | None = field(default=None, metadata=_doc("Live API endpoint"))
    api_version: str | None = field(default=None, metadata=_doc("API version, e.g. v1alpha"))
    ca_file: str | None = field(default=None, metadata=_doc("CA bundle to trust for base_url"))
    vertex: bool = field(default=False, metadata=_doc("use Vertex AI"))
    project: str | None = field(default=None, metadata=_doc("Vertex AI project"))
    location: str | None = field(default=None, metadata=_doc("Vertex AI location"))
    vad: str = field(default="webrtc", metadata=_doc("webrtc | silero | off"))
    vad_aggressiveness: int = field(default=2, metadata=_doc("webrtcvad 0-3"))
    frame_ms: int = field(default=20, metadata=_doc("10 | 20 | 30"))
    pre_roll_ms: int | None = field(default=None, metadata=_doc("audio sent before onset"))
    hangover_ms: int | None = field(default=None, metadata=_doc("trailing audio after speech"))
    listen_hangover_ms: int = field(
        default=1000, metadata=_doc("`voicecli listen`: trailing audio after speech")
    )
    turn_detection: str = field(
        default="client",
        metadata=_doc("client (activityStart/End from the gate) | server (server VAD)"),
    )
    turn_eagerness: str = field(
        default="normal",
        metadata=_doc("low | normal | high: patience before a reply is heard (client turns)"),
    )
    timeout: float = field(default=120.0, metadata=_doc("scripted run limit, seconds"))
    resume: bool = field(default=True, metadata=_doc("session resumption and reconnects"))
    context_compression: bool = field(default=True, metadata=_doc("sliding window"))
    reconnect_attempts: int = field(default=5, metadata=_doc("attempts before giving up"))
    watchdog: bool = field(
        default=True, metadata=_doc("recover from silent stalls (nudge, resume, new session)")
    )
    idle_timeout: float | None = field(
        default=None,
        metadata=_doc(
            "seconds with no speech that end the session (0: off; talk: off, "
            "listen --then-talk: 300)"
        ),
    )
    idle_action: str = field(default="end", metadata=_doc("end | mute: what idle does"))
    stall_after: float = field(
        default=5.0, metadata=_doc("seconds with nothing from the model that make a stall")
    )
    setup_timeout: float = field(default=15.0, metadata=_doc("wait for setupComplete, s"))
    tts_model: str = field(
        default="gemini-3.8-flash-tts", metadata=_doc("speech generation model (say, overview)")
    )
    tts_voice: str = field(default="Kore", metadata=_doc("prebuilt voice for `voicecli say`"))
    text_model: str = field(
        default="gemini-3.8-flash", metadata=_doc("text model that writes overview scripts")
    )
    tools_enabled: bool = field(
        default=True, metadata=_doc("function tools: built-ins, [[tools]], [[mcp_servers]]")
    )
    builtin_tools: bool = field(default=True, metadata=_doc("clock, calculator, folder, system"))
    search: bool = field(default=False, metadata=_doc("Google Search grounding"))
    history: bool = field(
        default=True, metadata=_doc("store conversations in history.sqlite3 (--no-history)")
    )
    audio_history: bool = field(
        default=True, metadata=_doc("keep each session's two-sided recording (FLAC) with it")
    )
    audio_history_mb: float = field(
        default=500.0, metadata=_doc("size cap of kept recordings, MB; oldest pruned first")
    )
    continue_budget_tokens: int = field(
        default=8000, metadata=_doc("--continue: most tokens of earlier turns to seed")
    )
    resume_window_s: float = field(
        default=7200.0, metadata=_doc("--continue: try the stored handle if younger, s")
    )
    connection_limit: float = field(
        default=600.0, metadata=_doc("server's connection lifetime, seconds; 0: not shown")
    )
    echo: str = field(default="auto", metadata=_doc("auto | aec | half | off (microphone mode)"))
    input_device: str | None = field(
        default=None, metadata=_doc("microphone: index or part of the name (voicecli devices)")
    )
    output_device: str | None = field(
        default=None, metadata=_doc("speaker: index or part of the name (voicecli devices)")
    )
    video_fps: float = field(default=1.0, metadata=_doc("pictures per second at most (--fps)"))
    video_max_size: int = field(
        default=1024, metadata=_doc("long side of pictures sent, pixels (--max-size)")
    )
    proactive_video: bool = field(
        default=False, metadata=_doc("the model may speak up about a new picture (costs more)")
    )
    media_resolution: str | None = field(
        default=None, metadata=_doc("low | medium | high: tokens per picture (model default)")
    )
    api_key: str | None = field(default=None, repr=False, metadata=_doc("API key"))
    tables: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # a key was found but cannot be used: raised when a command needs the key
    key_problem: keys.KeyProblem | None = field(default=None, repr=False, compare=False)
    # the config file could be changed by someone else (shown once by talk and doctor)
    file_warnings: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def with_overrides(self, **values: Any) -> Settings:
        """A copy with the given non-None values applied (as flags do)."""
        clean = {k: v for k, v in values.items() if v is not None}
        unknown = set(clean) - _names()
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return _validate(replace(self, **clean))


_NOT_SETTINGS = ("tables", "key_problem", "file_warnings")


def _names() -> set[str]:
    return {f.name for f in fields(Settings) if f.name not in _NOT_SETTINGS}


def _types() -> dict[str, str]:
    return {f.name: str(f.type) for f in fields(Settings) if f.name not in _NOT_SETTINGS}


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(name: str, value: Any, source: str) -> Any:
    """Check or convert one value to the setting's type; ConfigError naming the source."""
    kind = _types()[name]
    try:
        if kind.startswith("bool"):
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
                return value.lower() in _TRUE
            raise ValueError
        if kind.startswith("int"):
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError  # 2.7 is not an int: never cut it silently to 2
            return int(value)
        if kind.startswith("float"):
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if not math.isfinite(number):
                raise ValueError  # nan and inf are no durations or sizes
            return number
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise ValueError
    except (TypeError, ValueError):
        want = kind.split(" ")[0].replace("|", "").strip()
        raise ConfigError(
            f"{source}: {name} must be a {want}, not {value!r}",
            "fix the value or remove it to use the default",
        ) from None


_CHOICES = {
    "vad": ("webrtc", "silero", "off"),
    "turn_detection": ("client", "server"),
    "turn_eagerness": ("low", "normal", "high"),
    "echo": ("auto", "aec", "half", "off"),
}


# The values before client-driven turns became the default; kept as aliases so existing
# config files keep their meaning: auto was server-side detection, manual was client-driven.
TURN_DETECTION_ALIASES = {"auto": "server", "manual": "client"}


def _validate(s: Settings) -> Settings:
    if s.turn_detection in TURN_DETECTION_ALIASES:
        s = replace(s, turn_detection=TURN_DETECTION_ALIASES[s.turn_detection])
    for name, allowed in _CHOICES.items():
        if getattr(s, name) not in allowed:
            raise ConfigError(
                f"{name} must be one of {', '.join(allowed)}, not {getattr(s, name)!r}"
            )
    if s.frame_ms not in (10, 20, 30):
        raise ConfigError(f"frame_ms must be 10, 20 or 30, not {s.frame_ms}")
    if not 0 <= s.vad_aggressiveness <= 3:
        raise ConfigError(f"vad_aggressiveness must be 0-3, not {s.vad_aggressiveness}")
    if s.idle_timeout is not None and s.idle_timeout < 0:
        raise ConfigError(f"idle_timeout must be >= 0, not {s.idle_timeout}")
    if s.idle_action not in ("end", "mute"):
        raise ConfigError(f"idle_action must be end or mute, not {s.idle_action!r}")
    if s.timeout <= 0 or s.setup_timeout <= 0 or s.stall_after <= 0:
        raise ConfigError("timeout, setup_timeout and stall_after must be positive")
    if s.reconnect_attempts < 0:
        raise ConfigError(f"reconnect_attempts must be >= 0, not {s.reconnect_attempts}")
    if s.listen_hangover_ms < 0:
        raise ConfigError(f"listen_hangover_ms must be >= 0, not {s.listen_hangover_ms}")
    if s.audio_history_mb < 0 or s.continue_budget_tokens < 0 or s.resume_window_s < 0:
        raise ConfigError("audio_history_mb, continue_budget_tokens, resume_window_s must be >= 0")
    if s.connection_limit < 0:
        raise ConfigError(f"connection_limit must be >= 0, not {s.connection_limit}")
    for name in ("voice", "tts_voice"):
        value = getattr(s, name)
        if value is not None and not _VOICE.fullmatch(value):
            raise ConfigError(
                f"{name} {value!r} is not a voice name", "see `voicecli voices`, e.g. Kore"
            )
    if s.language is not None and not _LANGUAGE.fullmatch(s.language):
        raise ConfigError(
            f"language {s.language!r} is not a BCP-47 code", "use a code like en-US or de-DE"
        )
    if s.base_url is not None:
        _check_url(s.base_url)
    if s.media_resolution is not None and s.media_resolution not in ("low", "medium", "high"):
        raise ConfigError(
            f"media_resolution must be low, medium or high, not {s.media_resolution!r}"
        )
    return s


_VOICE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if (
        parts is None
        or parts.scheme not in ("http", "https", "ws", "wss")
        or not parts.hostname
        or not port_ok
        or any(c.isspace() for c in url)
    ):
        raise ConfigError(
            f"base_url {url!r} is not a URL",
            "give one like https://generativelanguage.googleapis.com or http://127.0.0.1:9443",
        )


def read_file(path: Path, *, required: bool) -> dict[str, Any]:
    """Parse a config file; a missing default file is fine, a missing --config is not."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if path.is_symlink():
            raise ConfigError(
                f"config file {path} is a link to {os.readlink(path)}, which does not exist",
                "fix the link or remove it",
            ) from None
        if required:
            raise ConfigError(f"config file {path} not found", "check the --config path") from None
        return {}
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a folder", "name a TOML file") from None
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"config file {path} is not UTF-8 text (byte {e.object[e.start]:#04x} at offset "
            f"{e.start})",
            "save it as UTF-8",
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(
            f"config file {path} is not valid TOML: {e}", "fix the line named"
        ) from None


def _shared_group(gid: int) -> bool:
    """A group others may be in: not the user's own private group (umask 002 systems make
    every file group-writable for that one)."""
    try:
        import grp
        import pwd

        members = set(grp.getgrgid(gid).gr_mem)
        me = pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return True
    return gid != os.getgid() or not members <= {me}


def others_can_change(path: Path) -> str | None:
    """Why someone else could change the config file (and so add a tool that runs without
    asking, or send the key elsewhere with base_url); None if only its owner can."""
    try:
        st, folder = path.stat(), path.resolve().parent.stat()
    except OSError:
        return None
    if st.st_mode & 0o002:
        why = "anyone can write to it"
    elif st.st_mode & 0o020 and _shared_group(st.st_gid):
        why = "its group can write to it"
    elif st.st_uid not in (os.getuid(), 0):
        why = f"it belongs to another user (uid {st.st_uid})"
    elif folder.st_mode & 0o002 and not folder.st_mode & 0o1000:
        why = "anyone can replace it (its folder is world-writable)"
    else:
        return None
    return (
        f"config file {path}: {why}, so others could add tools or change base_url; "
        f"make it yours alone: chmod 600 {path}"
    )


def _key_lines(path: Path) -> dict[str, int]:
    """The line of each top-level ``key =`` in a config file (for errors naming it)."""
    lines: dict[str, int] = {}
    with contextlib.suppress(OSError, UnicodeDecodeError):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            m = re.match(r"\s*([A-Za-z0-9_]+)\s*=", line)
            if m and not line.lstrip().startswith("["):
                lines.setdefault(m.group(1), n)
            elif line.lstrip().startswith("["):
                break  # a table begins: the rest are its keys, not settings
    return lines


def _unknown_key(path: Path, line: int | None, key: str, names: set[str]) -> ConfigError:
    close = difflib.get_close_matches(key, sorted(names | set(RAW_TABLES)), n=1)
    guess = f"did you mean {close[0]!r}? " if close else ""
    where = f"{path}:{line}" if line else str(path)
    return ConfigError(
        f"{where}: unknown setting {key!r}",
        f"{guess}`voicecli config --example` shows every setting",
    )


def _with_source(e: ConfigError, sources: dict[str, str | None]) -> ConfigError:
    """A check of the combined settings failed: say where the value came from."""
    name = e.message.split(" ", 1)[0].rstrip(",")
    if name not in sources:
        return e
    source = sources[name] or "--" + name.replace("_", "-")
    return ConfigError(f"{source}: {e.message}", e.hint)


def load(
    config_path: Path | None = None,
    flags: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    sources: dict[str, str | None] | None = None,
) -> Settings:
    """Build the Settings: defaults < config file < environment < flags. ``sources``, when
    given, is filled with where each value came from (``FILE:LINE``, ``VOICECLI_X``, None
    for a flag)."""
    env = dict(os.environ) if env is None else env
    path = config_path or home_dir() / "config.toml"
    raw = read_file(path, required=config_path is not None)
    lines = _key_lines(path) if raw else {}
    names = _names()
    values: dict[str, Any] = {}
    sources = {} if sources is None else sources  # where a value came from (None: a flag)
    tables: dict[str, Any] = {}
    for key, value in raw.items():
        where = f"{path}:{lines[key]}" if key in lines else str(path)
        if key in RAW_TABLES:
            tables[key] = value
        elif key in names:
            values[key] = _coerce(key, value, where)
            sources[key] = where
        else:
            raise _unknown_key(path, lines.get(key), key, names)
    for name in names - {"api_key"}:
        env_value = env.get(ENV_PREFIX + name.upper())
        if env_value not in (None, ""):
            values[name] = _coerce(name, env_value, ENV_PREFIX + name.upper())
            sources[name] = ENV_PREFIX + name.upper()
    for name, value in (flags or {}).items():
        if value is not None:
            values[name] = _coerce(name, value, "--" + name.replace("_", "-"))
            sources[name] = None
    if "base_url" not in values and env.get("GOOGLE_GEMINI_BASE_URL"):
        values["base_url"] = env["GOOGLE_GEMINI_BASE_URL"]
        sources["base_url"] = "GOOGLE_GEMINI_BASE_URL"
    if "ca_file" not in values and env.get("SSL_CERT_FILE"):
        values["ca_file"] = env["SSL_CERT_FILE"]
        sources["ca_file"] = "SSL_CERT_FILE"
    for name in ("voice", "tts_voice"):  # a voice-shaped name: is it in the voice table?
        if isinstance(values.get(name), str) and _VOICE.fullmatch(values[name]):
            values[name] = _known_voice(values[name], sources.get(name))
    values["api_key"], values["key_problem"] = keys.find_api_key(
        env, values.get("api_key"), key_file()
    )
    unsafe = others_can_change(path)
    try:
        settings = _validate(
            Settings(**values, tables=tables, file_warnings=(unsafe,) if unsafe else ())
        )
    except ConfigError as e:
        raise _with_source(e, sources) from None
    if settings.vad == "off" and values.get("turn_detection") in ("client", "manual"):
        # asked for, not defaulted: without a gate only the server can end a turn
        raise ConfigError(
            f"vad = off cannot go with turn_detection = {values['turn_detection']}: with no "
            "voice detector voicecli cannot tell the server when you start and stop speaking",
            "use --vad webrtc (or silero), or --turn-detection server",
        )
    return settings


def _known_voice(name: str, source: str | None) -> str:
    """A voice from the voice table (its proper spelling), checked the same way for talk,
    listen, say and the config file; unknown: one line with the closest names."""
    from voicecli.errors import UsageError
    from voicecli.speech.voices import canonical_voice

    try:
        return canonical_voice(name)
    except UsageError as e:
        if source is None:
            raise
        raise ConfigError(f"{source}: {e.message}", e.hint) from None


def find_api_key(env: dict[str, str], from_file: str | None) -> str | None:
    """The key to use (stripped and checked); raises KeyProblem if it cannot be sent."""
    key, problem = keys.find_api_key(env, from_file, key_file())
    if problem is not None:
        raise problem
    return key


def store_api_key(key: str) -> Path:
    """Store the key for later runs, readable by the owner only (0600)."""
    return keys.store_api_key(key, key_file())


redact = keys.redact
remember_secret = keys.remember_secret
RedactingFilter = keys.RedactingFilter
RedactingFormatter = keys.RedactingFormatter
