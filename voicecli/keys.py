"""The API key: found, cleaned, checked, stored and never shown.

A key is stripped of surrounding whitespace when read (from the environment, the config
file or the stored key file) and checked: an HTTP header carries only visible ASCII, so a
pasted zero-width space, a newline or a control character is refused with its position
(exit 3) before any library sees the key.

``redact`` hides every key voicecli has seen. It replaces a key only where it stands as a
token (not inside a longer word), so a one-letter key does not turn every "e" into "***";
and it hides whatever follows an ``x-goog-api-key`` header or a ``key=`` query parameter,
so even a key voicecli never registered does not leak through a header dump.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import unicodedata
from pathlib import Path

from voicecli.errors import AuthError, UsageError

KEY_ENV_VARS = ("GOOGLE_API_KEY", "GEMINI_API_KEY")


class KeyProblem(AuthError):
    """A key was found but cannot be used (raised when a command needs it)."""


def check_key(raw: str, source: str) -> str:
    """The key without surrounding whitespace; KeyProblem if it cannot be sent."""
    key = raw.strip()
    if not key:
        raise KeyProblem(
            f"the key from {source} is empty (only whitespace)",
            "set the real key, or unset it and run `voicecli key set`",
        )
    for i, ch in enumerate(key, start=1):
        if "!" <= ch <= "~":
            continue
        what = "an invisible character" if _invisible(ch) else "a non-ASCII character"
        name = unicodedata.name(ch, "")
        code = f"U+{ord(ch):04X}" + (f" {name}" if name else "")
        remember_secret(key)
        raise KeyProblem(
            f"the key from {source} contains {what} at position {i} ({code})",
            "paste the key again without it (a key is letters, digits, - and _)",
        )
    return key


def _invisible(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cn", "Zs", "Zl", "Zp")


def key_file(data_dir: Path) -> Path:
    return data_dir / "api_key"


def find_api_key(
    env: dict[str, str], from_config: str | None, stored: Path
) -> tuple[str | None, KeyProblem | None]:
    """The key and, if the one found cannot be used, why (raised when it is needed)."""
    candidates: list[tuple[str, str]] = [(env[v], v) for v in KEY_ENV_VARS if env.get(v)]
    if from_config:
        candidates.append((from_config, "the config file (api_key)"))
    if not candidates:
        text = _read_stored(stored)
        if text is not None:
            if not text.strip():
                return None, None  # an empty key file is no key
            candidates.append((text, f"{stored} (voicecli key set)"))
    if not candidates:
        return None, None
    raw, source = candidates[0]
    remember_secret(raw.strip())
    try:
        return check_key(raw, source), None
    except KeyProblem as problem:
        return None, problem


def _read_stored(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _refuse_odd_key_path(path: Path) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise UsageError(
            f"{path} is a symbolic link; refusing to write the key through it",
            "remove the link, then run `voicecli key set` again",
        )
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{path} is a folder, not the key file", "remove or rename the folder")
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{path} is not a regular file", "remove it, then try again")


def store_api_key(key: str, path: Path) -> Path:
    """Store the key for later runs, readable by the owner only (0600); never through a
    link, never into a folder or a device."""
    clean = check_key(key, "the input")
    _refuse_odd_key_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(clean + "\n")
    except OSError as e:
        raise UsageError(
            f"cannot store the key in {path}: {(e.strerror or str(e)).lower()}",
            "check the folder's permissions",
        ) from None
    return path


def remove_api_key(path: Path) -> bool:
    """Delete the stored key (a link is removed itself, never what it points to); False
    if there was none."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{path} is a folder, not the key file", "remove or rename the folder")
    try:
        os.unlink(path)
    except OSError as e:
        raise UsageError(
            f"cannot remove {path}: {(e.strerror or str(e)).lower()}",
            "check the folder's permissions",
        ) from None
    return True


# ------------------------------------------------------------------------------ redaction
_SECRETS: set[str] = set()
_pattern: re.Pattern[str] | None = None
# what follows a header or query parameter that carries a key, whatever the key is
_HEADER = re.compile(
    r"(?i)("
    r"x-goog-api-key[\"']?\s*[:=,]\s*b?[\"']?"
    r"|authorization[\"']?\s*[:=]\s*b?[\"']?(?:token\s+|bearer\s+)?"
    r"|(?<![a-z])api[_-]?key[\"']?\s*[:=]\s*[\"']?"
    r"|[?&]key="
    r")(?!(?:\.\.\.|…|<[^>\s]*>)(?:[\s\"',;&)}\]]|$))"  # a placeholder in a hint: no value
    r"([^\s\"',;&)}\]]+)"
)
_TOKEN_CHARS = r"A-Za-z0-9_\-"
SHORT_KEY = 6


def forget_secrets() -> None:
    """Forget every registered key (for tests: one process, many users)."""
    global _pattern
    _SECRETS.clear()
    _pattern = None


def remember_secret(value: str | None) -> None:
    """Register a key so that ``redact`` and the log formatter hide it everywhere."""
    global _pattern
    if value and value not in _SECRETS:
        _SECRETS.add(value)
        _pattern = None


def _secrets_pattern() -> re.Pattern[str] | None:
    """Long keys wherever they stand as a token; short ones (under 6 characters) only as a
    word of their own (between spaces, quotes or the ends), so a key "o" hides the key
    and leaves "o.wav" and "no" alone."""
    global _pattern
    if _pattern is None and _SECRETS:
        by_len = sorted(_SECRETS, key=len, reverse=True)
        long = "|".join(re.escape(k) for k in by_len if len(k) >= SHORT_KEY)
        short = "|".join(re.escape(k) for k in by_len if len(k) < SHORT_KEY)
        parts = []
        if long:
            parts.append(rf"(?<![{_TOKEN_CHARS}])(?:{long})(?![{_TOKEN_CHARS}])")
        if short:
            parts.append(rf"(?<![^\s\"'`])(?:{short})(?![^\s\"'`])")
        _pattern = re.compile("|".join(parts))
    return _pattern


def redact(text: str, key: str | None = None) -> str:
    """Hide every key voicecli has seen (and ``key``) in text that may reach the user."""
    if not text:
        return text
    if key:
        remember_secret(key.strip() or None)
    pattern = _secrets_pattern()
    if pattern is not None:
        text = pattern.sub("***", text)
    return _HEADER.sub(lambda m: m.group(1) + "***", text)


class RedactingFormatter(logging.Formatter):
    """Formats a log record, traceback included, and hides keys in the result
    (--debug logs too, e.g. the websocket library's dump of the request headers)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactingFilter(logging.Filter):
    """A filter for handlers voicecli does not format itself: the message is redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True
