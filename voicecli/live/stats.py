"""The session's counts, kept by one set of rules: turns and their outcomes, latency, tokens,
tool calls, reply audio, reconnects and whether the microphone is muted.

``SessionStats`` is a pure observer of the conversation's events (no I/O, no clock). The
conversation owns one and feeds it every event it sends to its observers; the summary, the
status line, ``/stats`` and JSON lines read it (a view fed events without a conversation, as
in its unit tests, keeps its own, with the same rules).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from voicecli.audio.base import OUTPUT_RATE, SAMPLE_WIDTH
from voicecli.live import events as ev
from voicecli.live.turns import TurnOutcome
from voicecli.pricing import Tokens


@dataclass(eq=False)
class SessionStats:
    turns: int = 0
    spoken: int = 0
    silent: int = 0
    interrupted: int = 0
    latencies_s: list[float] = field(default_factory=list)  # per finished turn (TurnEnded)
    last_latency_s: float | None = None  # the latest finished turn's
    latency_t: float | None = None  # when the latest first-audio latency was measured
    first_audio_latency_s: float | None = None  # measured at that first audio
    tokens: Tokens = field(default_factory=Tokens)  # by modality, summed over reports
    last_usage: Tokens | None = None  # the latest report (the last turn's)
    tool_calls: int = 0
    audio_chunks: int = 0
    audio_bytes: int = 0
    reconnects: int = 0
    stalls: int = 0  # silent stalls seen by the watchdog (``live.watchdog``)
    stall_steps: int = 0  # recovery steps taken (nudge, resume, new session)
    stalls_recovered: int = 0
    muted: bool = False
    held_back: int = 0  # false starts held back: early replies dropped, never heard
    noise_ignored: int = 0  # sounds the VAD took for speech that were no voice
    barge_ins: int = 0  # interruptions confirmed (playback paused, then speech)
    resumed: int = 0  # false alarms: playback paused on a possible barge-in, then resumed
    _user_end: float | None = None  # end of the user's turn; cleared at the first reply audio

    @property
    def total_tokens(self) -> int:
        return self.tokens.total

    @property
    def reply_audio_s(self) -> float:
        return self.audio_bytes / SAMPLE_WIDTH / OUTPUT_RATE

    def on_event(self, event: object, t: float) -> float | None:
        """Count one event; returns a latency (seconds) when first reply audio was measured:
        from the end of the user's turn to the first audio chunk after it."""
        if isinstance(event, ev.AudioChunk):  # the hot path: ~50 per second while speaking
            self.audio_chunks += 1
            self.audio_bytes += len(event.pcm)
            if self._user_end is None:
                return None
            latency = max(0.0, t - self._user_end)
            self._user_end = None
            # an early estimate, for the latency records; what is shown as the latency is
            # the finished turn's (below), so the status line and the turn line agree
            self.first_audio_latency_s, self.latency_t = latency, t
            return latency
        if isinstance(event, ev.UserSpeechEnded | ev.UserText):
            self._user_end = t
        elif isinstance(event, ev.TurnEnded):
            self._turn_ended(event)
        elif isinstance(event, ev.Usage):
            self.tokens.add(event)
            self.last_usage = Tokens()
            self.last_usage.add(event)
        elif isinstance(event, ev.ToolCall):
            self.tool_calls += len(event.calls)
        elif isinstance(event, ev.Reconnect):
            if event.phase != "reconnecting":
                self.reconnects += 1
        elif isinstance(event, ev.MuteChanged):
            self.muted = event.muted
        elif isinstance(event, ev.Stall):
            if event.action == "recovered":
                self.stalls_recovered += 1
            elif event.action != "give_up":
                self.stalls += event.attempt == 1
                self.stall_steps += 1
        elif isinstance(event, ev.TurnHold):
            if event.state == "discarded":
                self.held_back += 1
            elif event.state == "noise":
                self.noise_ignored += 1
            elif event.state == "confirmed":
                self.barge_ins += 1
            elif event.state == "resumed":
                self.resumed += 1
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


@dataclass
class Summary:
    """The session's end: what ``run_talk`` returns and ``session_end`` records carry."""

    turns: int = 0
    spoken: int = 0
    silent: int = 0
    interrupted: int = 0
    held_back: int = 0  # false starts held back (an early reply dropped, never heard)
    noise_ignored: int = 0  # sounds the VAD took for speech that were no voice
    barge_ins: int = 0  # interruptions confirmed (playback paused, then speech)
    resumed: int = 0  # false alarms: playback paused on a possible barge-in, then resumed
    unanswered: int = 0  # utterances with no reply within reply_wait_s (also counted silent)
    latencies_s: list[float] = field(default_factory=list)
    seconds_in: float = 0.0
    seconds_sent: float = 0.0
    utterances: int = 0
    prompt_tokens: int = 0
    response_tokens: int = 0
    total_tokens: int = 0
    prompt_audio_tokens: int = 0
    prompt_text_tokens: int = 0
    response_audio_tokens: int = 0
    response_text_tokens: int = 0
    thoughts_tokens: int = 0
    cached_tokens: int = 0
    tool_use_tokens: int = 0
    cost_usd: float | None = None  # estimated from the price table (``voicecli.pricing``)
    duration_s: float = 0.0
    malformed: int = 0
    reconnects: int = 0
    stalls: int = 0  # the model went quiet (the watchdog's count)
    stall_steps: int = 0  # recovery steps taken for them
    stalls_recovered: int = 0
    ended_by_user: bool = False  # Ctrl-C, /quit: an utterance left waiting is no failure
    ended_idle: bool = False  # --idle-timeout ended it (also ended_by_user: a clean end)
    frames_sent: int = 0  # pictures of the shared screen, camera or video (voicecli.video)
    frames_unchanged: int = 0  # looks not sent because the picture had not changed
    video_bytes: int = 0
    images_sent: int = 0  # --image and /look
    watched_lines: int = 0  # --watch / --watch-file lines sent as context


def finish_summary(s: Summary, conv: Any) -> None:
    """Fill the summary from a finished ``Conversation``: its turn book, gate and stats."""
    b = conv.book
    s.turns = len(b.turns)
    s.spoken = b.count(TurnOutcome.SPOKEN)
    s.silent = b.count(TurnOutcome.SILENT)
    s.interrupted = b.count(TurnOutcome.INTERRUPTED)
    s.unanswered = b.count_no_reply() + (1 if b.pending_user_end is not None else 0)
    s.latencies_s = b.latencies()
    s.seconds_in = conv.gate.seconds_in
    s.seconds_sent = conv.gate.seconds_sent
    s.utterances = conv.gate.utterances
    s.duration_s = conv.rel()
    s.malformed = conv.transport.malformed
    st = conv.stats
    s.reconnects = st.reconnects
    s.stalls, s.stall_steps, s.stalls_recovered = st.stalls, st.stall_steps, st.stalls_recovered
    s.held_back, s.noise_ignored = st.held_back, st.noise_ignored
    s.barge_ins, s.resumed = st.barge_ins, st.resumed
    tok = st.tokens
    s.prompt_tokens, s.response_tokens, s.total_tokens = tok.prompt, tok.response, tok.total
    s.prompt_audio_tokens, s.prompt_text_tokens = tok.prompt_audio, tok.prompt_text
    s.response_audio_tokens, s.response_text_tokens = tok.response_audio, tok.response_text
    s.thoughts_tokens, s.cached_tokens, s.tool_use_tokens = tok.thoughts, tok.cached, tok.tool_use
    if conv.opt.prices is not None:
        s.cost_usd = round(summary_tokens(s).cost(conv.opt.prices), 6)


def summary_tokens(s: Summary) -> Tokens:
    return Tokens(
        prompt=s.prompt_tokens,
        response=s.response_tokens,
        total=s.total_tokens,
        prompt_audio=s.prompt_audio_tokens,
        prompt_text=s.prompt_text_tokens,
        response_audio=s.response_audio_tokens,
        response_text=s.response_text_tokens,
        thoughts=s.thoughts_tokens,
        cached=s.cached_tokens,
        tool_use=s.tool_use_tokens,
    )
