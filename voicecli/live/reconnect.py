"""When and how to reconnect: a pure policy (no sockets, no clock), testable directly.

* Which failures are worth another connection: network loss (1006), server errors (1011),
  a server going away (1001, goAway), a setup that never answered. A rejected key, an
  unknown model or a refused request are final.
* How long to wait before attempt n: exponential backoff with jitter, bounded.
* A resumption handle refused at setup (whatever the close code) is answered by a fresh
  session seeded with the conversation.
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

# 1008 reaches here only after setupComplete (a session failure: transport.map_close); at
# setup it is a ModelError, never retried
RETRYABLE_CODES = frozenset({1000, 1001, 1006, 1008, 1011, 1012, 1013, 1014})


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
    """A resume was refused at setup: the server closed the connection that carried our
    handle before ``setupComplete``. The close code for an expired or unknown handle is not
    documented (LIVE_FACTS), so any close counts; a lost connection (1006) or a setup never
    answered does not. Only for errors of a connection opened with a handle."""
    code = getattr(err, "close_code", None)
    return isinstance(err, VoicecliError) and code is not None and code != 1006
