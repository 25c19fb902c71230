"""When and how to reconnect: a pure policy (no sockets, no clock), testable directly.

* Which failures are worth another connection: network loss (1006), server errors (1011),
  a server going away (1001, goAway), a setup that never answered. A rejected key, an
  unknown model or a refused request are final.
* How long to wait before attempt n: exponential backoff with jitter, bounded.
* A resumption handle the server no longer knows is answered by a fresh session.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from voicecli.errors import (
    AuthError,
    ModelError,
    NetworkError,
    ServerError,
    SessionTimeout,
    UsageError,
    VoicecliError,
)

RETRYABLE_CODES = frozenset({1000, 1001, 1006, 1011, 1012, 1013, 1014})


@dataclass(frozen=True)
class ReconnectPolicy:
    max_attempts: int = 5  # consecutive failed attempts before giving up
    base_s: float = 0.25
    factor: float = 2.0
    max_s: float = 8.0
    jitter: float = 0.25  # +- this fraction of the delay

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before ``attempt`` (1-based); the first one is immediate-ish."""
        raw = min(self.max_s, self.base_s * self.factor ** max(0, attempt - 1))
        r = (rng or random).uniform(-self.jitter, self.jitter)
        return max(0.0, raw * (1 + r))

    def gives_up(self, attempt: int) -> bool:
        return attempt > self.max_attempts


def is_retryable(err: BaseException) -> bool:
    """Whether another connection could help."""
    if isinstance(err, (AuthError, ModelError, UsageError)):
        return False
    if isinstance(err, (NetworkError, SessionTimeout)):
        return True
    if isinstance(err, ServerError):
        return err.close_code in RETRYABLE_CODES
    return not isinstance(err, VoicecliError)


def is_unknown_handle(err: BaseException) -> bool:
    """The server refused our resumption handle (expired or unknown)."""
    text = str(err).lower()
    return (
        isinstance(err, ServerError)
        and err.close_code == 1007
        and "resum" in text
        and ("handle" in text or "invalid" in text)
    )
