"""What the status line shows, as a pure state machine over conversation events.

``SessionStatus`` is an observer with no I/O and no clock of its own: it is fed events with
``t`` (seconds since the session started) and answers questions about "now" when asked with
a time. The live view renders it, the JSON-lines view uses it for latency records, and
``/stats`` prints it. Per-audio-chunk work is a few counter updates.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field

from voicecli.live import events as ev
from voicecli.live.stats import SessionStats
from voicecli.pricing import Prices, money
from voicecli.video.events import Sharing

# What the views print when the microphone is muted or unmuted (``events.MuteChanged``).
MUTED_NOTICE = ev.MuteChanged(True).text
UNMUTED_NOTICE = ev.MuteChanged(False).text

LISTENING = "listening"
HEARING = "hearing you"
THINKING = "thinking"
SPEAKING = "speaking"
RECONNECTING = "reconnecting"
RECOVERING = "recovering"  # the model went quiet: the stall watchdog is at work
MUTED = "muted"
WAITING = ev.TURN_HOLD_TEXT["waiting"]  # a reply is held until the user surely finished

SILENCE_DBFS = -90.0
METER_FALL_DB_S = 40.0  # how fast the shown mic level may fall, dB a second


@dataclass(eq=False)
class SessionStatus:
    """What the status line shows: the state, the meter, time left, and the session's counts
    (``stats``: its own, fed here, until ``attach`` hands it the conversation's)."""

    connection_limit_s: float | None = None  # the server's connection lifetime, if known
    state: str = LISTENING
    level_dbfs: float = SILENCE_DBFS
    level_known: bool = False  # set_level was called (a mic is metering)
    _level_at: float = 0.0  # when the level was last set (the meter's fall)
    stats: SessionStats = field(default_factory=SessionStats)
    prices: Prices | None = None  # for the estimated cost in /stats
    last_t: float = 0.0
    connected_at: float | None = 0.0  # when the current connection started
    go_away_at: float | None = None  # session time at which the server said it will close
    _fed_elsewhere: bool = False  # the stats are the conversation's, counted there
    sharing: Sharing | None = None  # what is shared (voicecli.video); None: never asked

    def attach(self, stats: SessionStats) -> None:
        """Show the conversation's counts (which it keeps) instead of counting here."""
        self.stats, self._fed_elsewhere = stats, True

    @property
    def muted(self) -> bool:
        return self.stats.muted

    @property
    def last_latency_s(self) -> float | None:
        return self.stats.last_latency_s

    @property
    def total_tokens(self) -> int:
        return self.stats.total_tokens

    @property
    def audio_chunks(self) -> int:
        return self.stats.audio_chunks

    # ------------------------------------------------------------------------ feeding
    def on_event(self, event: object, t: float) -> float | None:
        """Update from one event; returns a latency (seconds) when first audio was measured."""
        if t > self.last_t:
            self.last_t = t
        if self._fed_elsewhere:
            latency = self.stats.first_audio_latency_s if self.stats.latency_t == t else None
        else:
            latency = self.stats.on_event(event, t)
        if isinstance(event, ev.AudioChunk):  # the hot path: ~50 per second while speaking
            self.state = SPEAKING
            return latency
        if isinstance(event, ev.OutputTranscript):
            self.state = SPEAKING
        elif isinstance(event, ev.ModelText):
            self.state = THINKING if event.thought else SPEAKING
        elif isinstance(event, ev.UserSpeechStarted):
            self.state = HEARING
        elif isinstance(event, ev.TurnHold):
            if event.state == "waiting":
                self.state = WAITING
            elif event.state in ("discarded", "paused"):
                self.state = HEARING
            elif event.state == "resumed":
                self.state = SPEAKING
        elif isinstance(event, ev.InputTranscript):
            if self.state == LISTENING:
                self.state = HEARING
        elif isinstance(event, ev.VoiceActivity) and event.kind == "start":
            self.state = HEARING
        elif isinstance(event, ev.UserSpeechEnded | ev.UserText):
            self.state = THINKING
        elif isinstance(event, ev.TurnEnded):
            self.state = HEARING if event.outcome == "interrupted" else LISTENING
        elif isinstance(event, ev.ToolCallCancellation):
            if self.state == THINKING:  # the call it was waiting on is gone
                self.state = LISTENING
        elif isinstance(event, ev.SetupDone):
            self.connected_at = t
            self.go_away_at = None
            if self.state == RECONNECTING:
                self.state = LISTENING
        elif isinstance(event, ev.GoAway):
            if event.time_left_s is not None:
                self.go_away_at = t + event.time_left_s
        elif isinstance(event, ev.Stall):
            self.state = RECOVERING if event.action not in ("recovered", "give_up") else LISTENING
        elif isinstance(event, ev.Reconnect):
            if event.phase == "reconnecting":
                self.state = RECONNECTING
            else:  # resumed, or a new session: a new connection with its own lifetime
                self.state = LISTENING
                self.connected_at, self.go_away_at = t, None
        elif isinstance(event, Sharing):
            self.sharing = event if (event.shared or self.sharing is not None) else None
        return None

    def set_level(self, dbfs: float, now: float | None = None) -> None:
        """A new mic level. The meter rises at once and falls at most ``METER_FALL_DB_S``
        (as a VU meter does): the gaps between words (digital silence on a virtual mic)
        made it jump between -28 and -90 dB while you spoke."""
        level = dbfs if math.isfinite(dbfs) else SILENCE_DBFS
        now = time.monotonic() if now is None else now
        if self.level_known and level < self.level_dbfs:
            level = max(level, self.level_dbfs - METER_FALL_DB_S * (now - self._level_at))
        self.level_dbfs, self._level_at = level, now
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

    def stats_line(self, now: float | None = None) -> str:
        """One line for ``/stats``."""
        now = self.last_t if now is None else now
        st = self.stats
        parts = [
            f"{plural(st.turns, 'turn')} ({st.spoken} spoken, {st.silent} silent, "
            f"{st.interrupted} interrupted)"
        ]
        if st.latencies_s:
            med = statistics.median(st.latencies_s)
            parts.append(f"latency last {ms(st.last_latency_s)}, median {ms(med)}")
        parts.append(st.tokens.line())
        if st.last_usage is not None:
            parts.append(f"last turn {st.last_usage.line()}")
        if self.prices is not None:
            parts.append(f"about {money(st.tokens.cost(self.prices))}")
        parts.append(f"{st.reply_audio_s:.1f} s of reply audio")
        if st.tool_calls:
            parts.append(plural(st.tool_calls, "tool call"))
        if st.stalls:
            parts.append(
                f"{plural(st.stalls, 'stall')} ({st.stalls_recovered} recovered, "
                f"{plural(st.stall_steps, 'step')})"
            )
        if st.held_back or st.noise_ignored:
            parts.append(
                f"{plural(st.held_back, 'false start')} held back, "
                f"{plural(st.noise_ignored, 'noise')} ignored"
            )
        if st.barge_ins or st.resumed:
            parts.append(
                f"{plural(st.barge_ins, 'interruption')} confirmed, "
                f"{st.resumed} resumed (false alarms)"
            )
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
