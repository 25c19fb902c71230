"""What the status line shows, as a pure state machine over conversation events.

``SessionStatus`` is an observer with no I/O and no clock of its own: it is fed events with
``t`` (seconds since the session started) and answers questions about "now" when asked with
a time. The live view renders it, the JSON-lines view uses it for latency records, and
``/stats`` prints it. Per-audio-chunk work is a few counter updates.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from voicecli.live import events as ev
from voicecli.pricing import Prices, Tokens, money

# Notices the prompt sends when the microphone is muted or unmuted (views key on them).
MUTED_NOTICE = "microphone muted"
UNMUTED_NOTICE = "microphone on"

LISTENING = "listening"
HEARING = "hearing you"
THINKING = "thinking"
SPEAKING = "speaking"
RECONNECTING = "reconnecting"
MUTED = "muted"

SILENCE_DBFS = -90.0


@dataclass(eq=False)
class SessionStatus:
    """Live facts about one session: state, latency, tokens, time left, counters."""

    connection_limit_s: float | None = None  # the server's connection lifetime, if known
    state: str = LISTENING
    muted: bool = False
    level_dbfs: float = SILENCE_DBFS
    level_known: bool = False  # set_level was called (a mic is metering)
    last_latency_s: float | None = None
    latencies_s: list[float] = field(default_factory=list)
    prompt_tokens: int = 0
    response_tokens: int = 0
    total_tokens: int = 0
    turns: int = 0
    spoken: int = 0
    silent: int = 0
    interrupted: int = 0
    tokens: Tokens = field(default_factory=Tokens)  # by modality, summed over reports
    last_usage: Tokens | None = None  # the latest report (the last turn's)
    prices: Prices | None = None  # for the estimated cost in /stats
    tool_calls: int = 0
    audio_chunks: int = 0
    audio_bytes: int = 0
    last_t: float = 0.0
    connected_at: float | None = 0.0  # session start, until a SetupDone says otherwise
    go_away_at: float | None = None  # session time at which the server said it will close
    _user_end: float | None = None  # end of the user's turn; cleared at the first reply audio

    # ------------------------------------------------------------------------ feeding
    def on_event(self, event: object, t: float) -> float | None:
        """Update from one event; returns a latency (seconds) when first audio was measured."""
        if t > self.last_t:
            self.last_t = t
        if isinstance(event, ev.AudioChunk):  # the hot path: ~50 per second while speaking
            self.audio_chunks += 1
            self.audio_bytes += len(event.pcm)
            self.state = SPEAKING
            if self._user_end is not None:
                latency = max(0.0, t - self._user_end)
                self._user_end = None
                self.last_latency_s = latency
                return latency
            return None
        if isinstance(event, ev.OutputTranscript):
            self.state = SPEAKING
        elif isinstance(event, ev.ModelText):
            self.state = THINKING if event.thought else SPEAKING
        elif isinstance(event, ev.UserSpeechStarted):
            self.state = HEARING
        elif isinstance(event, ev.InputTranscript):
            if self.state == LISTENING:
                self.state = HEARING
        elif isinstance(event, ev.VoiceActivity) and event.kind == "start":
            self.state = HEARING
        elif isinstance(event, ev.UserSpeechEnded | ev.UserText):
            self._user_end = t
            self.state = THINKING
        elif isinstance(event, ev.TurnEnded):
            self._turn_ended(event)
        elif isinstance(event, ev.Usage):
            self.prompt_tokens += event.prompt_tokens
            self.response_tokens += event.response_tokens
            self.total_tokens += event.total_tokens
            self.tokens.add(event)
            self.last_usage = Tokens()
            self.last_usage.add(event)
        elif isinstance(event, ev.ToolCall):
            self.tool_calls += len(event.calls)
        elif isinstance(event, ev.SetupDone):
            self.connected_at = t
            self.go_away_at = None
            if self.state == RECONNECTING:
                self.state = LISTENING
        elif isinstance(event, ev.GoAway):
            if event.time_left_s is not None:
                self.go_away_at = t + event.time_left_s
        elif isinstance(event, ev.Reconnect):
            if event.phase == "reconnecting":
                self.state = RECONNECTING
            else:  # resumed, or a new session: a new connection with its own lifetime
                self.state = LISTENING
                self.connected_at, self.go_away_at = t, None
        elif isinstance(event, ev.Notice):
            self._notice(event.text)
        return None

    def _turn_ended(self, event: ev.TurnEnded) -> None:
        self.turns += 1
        if event.outcome == "silent":
            self.silent += 1
        elif event.outcome == "interrupted":
            self.interrupted += 1
        else:
            self.spoken += 1
        if event.latency_s is not None:
            self.last_latency_s = event.latency_s
            self.latencies_s.append(event.latency_s)
        self._user_end = None
        self.state = HEARING if event.outcome == "interrupted" else LISTENING

    def _notice(self, text: str) -> None:
        low = text.lower()
        if text == MUTED_NOTICE:
            self.muted = True
        elif text == UNMUTED_NOTICE:
            self.muted = False
        elif low.startswith("reconnecting"):
            self.state = RECONNECTING
        elif low.startswith(("connected", "reconnected")):
            self.state = LISTENING

    def set_level(self, dbfs: float) -> None:
        self.level_dbfs = dbfs if math.isfinite(dbfs) else SILENCE_DBFS
        self.level_known = True

    # ------------------------------------------------------------------------ questions
    @property
    def shown_state(self) -> str:
        if self.state == RECONNECTING:
            return RECONNECTING
        if self.muted and self.state in (LISTENING, HEARING):
            return MUTED
        return self.state

    def level_bucket(self, steps: int = 8) -> int:
        """The mic level as 0..steps over -60..0 dBFS (what the meter draws)."""
        frac = (min(0.0, max(-60.0, self.level_dbfs)) + 60.0) / 60.0
        return round(frac * steps)

    def deadline(self) -> float | None:
        """Session time at which the server will close the connection (GoAway or limit)."""
        ends = []
        if self.go_away_at is not None:
            ends.append(self.go_away_at)
        if self.connection_limit_s and self.connected_at is not None:
            ends.append(self.connected_at + self.connection_limit_s)
        return min(ends) if ends else None

    def time_left(self, now: float) -> float | None:
        end = self.deadline()
        return None if end is None else max(0.0, end - now)

    @property
    def audio_s(self) -> float:
        return self.audio_bytes / 2 / 24000

    def stats_line(self, now: float | None = None) -> str:
        """One line for ``/stats``."""
        now = self.last_t if now is None else now
        parts = [
            f"{plural(self.turns, 'turn')} ({self.spoken} spoken, {self.silent} silent, "
            f"{self.interrupted} interrupted)"
        ]
        if self.latencies_s:
            med = statistics.median(self.latencies_s)
            parts.append(f"latency last {ms(self.last_latency_s)}, median {ms(med)}")
        parts.append(self.tokens.line())
        if self.last_usage is not None:
            parts.append(f"last turn {self.last_usage.line()}")
        if self.prices is not None:
            parts.append(f"about {money(self.tokens.cost(self.prices))}")
        parts.append(f"{self.audio_s:.1f} s of reply audio")
        if self.tool_calls:
            parts.append(plural(self.tool_calls, "tool call"))
        parts.append(f"{clock(now)} elapsed")
        left = self.time_left(now)
        if left is not None:
            parts.append(f"{clock(left)} left")
        return "stats: " + "; ".join(parts)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


def clock(seconds: float) -> str:
    s = max(0, int(seconds))
    return (
        f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
        if s >= 3600
        else f"{s // 60:02d}:{s % 60:02d}"
    )
