"""Why a Live connection could not be opened, in one line with a fix and an exit code.

``connect_error`` maps what the SDK's websocket handshake raises: an HTTP status instead of
the upgrade (404 no Live API at that path/version, 401/403 key or permission, 429 quota,
others), TLS verification, a name that does not resolve, a refused or unreachable port.
Closes after the upgrade are mapped by ``transport.map_close``.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
from urllib.parse import urlsplit

from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

from voicecli.config import Settings, redact
from voicecli.errors import (
    AuthError,
    EndpointError,
    NetworkError,
    ServerError,
    VoicecliError,
)

DEFAULT_HOST = "generativelanguage.googleapis.com"


def _where(settings: Settings) -> str:
    if settings.base_url:
        return settings.base_url.rstrip("/")
    return "Vertex AI" if settings.vertex else f"https://{DEFAULT_HOST}"


def _host(settings: Settings) -> str:
    if not settings.base_url:
        return DEFAULT_HOST
    parts = urlsplit(settings.base_url)
    host = parts.hostname or settings.base_url
    return f"{host}:{parts.port}" if parts.port else host


def http_status_error(status: int, settings: Settings, version: str | None) -> VoicecliError:
    """The server answered the WebSocket handshake with an HTTP status."""
    where = _where(settings)
    shown = version or "the SDK default"
    if status == 404:
        return EndpointError(
            f"no Live API at {where} for API version {shown} (HTTP 404 at the handshake)",
            'the Gemini Developer API serves Live on v1beta: set api_version = "v1beta" '
            "(or remove it), or check --base-url",
        )
    if status in (401, 403):
        what = "the API key was rejected" if status == 401 else "the key may not use the Live API"
        return AuthError(
            f"{what} (HTTP {status} at the handshake with {where})",
            "check GEMINI_API_KEY / `voicecli key set` and the key's project permissions",
        )
    if status == 429:
        return ServerError(
            f"rate limit or quota reached (HTTP 429 at the handshake with {where})",
            "wait a minute and try again, or check the project's quota",
        )
    return ServerError(
        f"the server refused the connection (HTTP {status} at the handshake with {where})",
        "try again later; --debug shows the request",
    )


def connect_error(
    e: BaseException, settings: Settings, version: str | None
) -> VoicecliError | None:
    """Our error for a failure to open the Live connection; None for what is a bug."""
    if isinstance(e, InvalidStatus):
        return http_status_error(e.response.status_code, settings, version)
    if isinstance(e, ssl.SSLCertVerificationError):
        return NetworkError(
            f"TLS certificate of {_host(settings)} not trusted ({e.verify_message})",
            "point SSL_CERT_FILE or ca_file at the CA that signed the server's certificate",
        )
    if isinstance(e, ssl.SSLError):
        return NetworkError(
            f"TLS failure with {_host(settings)}: {e.reason or e}",
            "check that --base-url is an https endpoint; SSL_CERT_FILE / ca_file name its CA",
        )
    if isinstance(e, socket.gaierror):
        return NetworkError(
            f"cannot resolve {_host(settings)} ({e.strerror or e})",
            "check the host name in --base-url / GOOGLE_GEMINI_BASE_URL and the network",
        )
    refused = isinstance(e, OSError) and (
        e.errno == errno.ECONNREFUSED or "refused" in str(e).lower()
    )
    if refused:
        return NetworkError(
            f"cannot connect to {_host(settings)}: connection refused",
            "is the server running on that port? check --base-url",
        )
    if isinstance(e, (InvalidURI, InvalidHandshake)):
        detail = redact(str(e), settings.api_key)[:160]
        return NetworkError(
            f"{_where(settings)} did not answer as a Live WebSocket ({detail})",
            "check --base-url",
        )
    if isinstance(e, (OSError, asyncio.IncompleteReadError)):
        detail = redact(str(e), settings.api_key) or type(e).__name__
        return NetworkError(
            f"cannot connect to {_host(settings)}: {detail[:160]}",
            "check the network or --base-url",
        )
    return None
