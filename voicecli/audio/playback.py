"""The playback jitter buffer: a pure state machine, no I/O, no clock, no threads.

Model audio arrives in bursts (often faster than real time, sometimes slower); a sound card
pulls fixed blocks at a steady rate. ``JitterBuffer`` sits between the two:

* a new stream waits for ``prebuffer_ms`` of audio (or for that long, whichever comes first)
  before it starts, so small delays between chunks do not become audible gaps. It also
  waits at least a margin (``min_wait_ms`` to start with): a sender pacing exactly at real
  time (one chunk per chunk length) leaves no margin at all when the first chunk alone fills
  the start-up buffer. The margin is sized from the jitter measured: each underrun grows it
  and the start-up buffer; a stream whose chunks arrived with less than ``close_ms`` still
  queued grows the margin by what was missing; clean streams relax both to their defaults;
* when the audio runs out mid-stream it plays silence. If more audio then arrives within
  ``gap_ms``, the silence was an underrun: it is counted, and the start-up buffer grows
  (``grow``, up to ``max_prebuffer_ms``) so a slow stream stops stuttering. A longer dry spell,
  or ``end()``, is the end of the stream, not an underrun;
* ``clear()`` drops everything queued at once (barge-in), after a ``fade_ms`` fade-out of
  what was playing, so the cut does not click;
* ``pause()`` holds playback where it is (a possible barge-in): nothing is taken, the
  queue keeps growing, no dry spell is counted; ``resume()`` plays on from the same sample,
  ``clear()`` ends the pause with the rest;
* it is bounded: beyond ``capacity_s`` the oldest audio is dropped and counted;
* ``played`` counts real samples handed out, so callers know where playback was cut off.

Time is counted in samples pulled, so tests drive it exactly. ``pull_into`` pulls a block
per call, silence where there is no audio (the tests and ``bench_devices``' virtual-time run
use it). The speaker's writer thread, which fills a device buffer ahead (``SpeakerSink``),
takes audio without padding (``take``), tells the time it waits with ``advance`` and says
when the device is about to run dry (``starve``); it owns the instance and uses it from its
thread only.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum

import numpy as np

from voicecli.audio.format import Int16Array


@dataclass(frozen=True)
class JitterParams:
    rate: int = 24000
    prebuffer_ms: float = 20.0  # start-up buffer of a new stream
    min_wait_ms: float = 10.0  # a stream never starts sooner than this after its first audio
    max_prebuffer_ms: float = 600.0  # how far underruns may grow it
    grow: float = 1.5  # start-up buffer x this after each underrun
    gap_ms: float = 1000.0  # a dry spell longer than this ends the stream
    capacity_s: float = 60.0  # queued audio beyond this: the oldest is dropped
    fade_ms: float = 5.0  # clear() fades out over this much of the queued audio
    close_ms: float = 5.0  # a playing stream's queue below this: a near miss

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError(f"rate must be positive, got {self.rate}")
        if self.prebuffer_ms < 0 or self.max_prebuffer_ms < self.prebuffer_ms:
            raise ValueError("need 0 <= prebuffer_ms <= max_prebuffer_ms")
        if not 0 <= self.min_wait_ms <= self.prebuffer_ms:
            raise ValueError("need 0 <= min_wait_ms <= prebuffer_ms")
        if self.grow < 1.0 or self.gap_ms < 0 or self.capacity_s <= 0 or self.fade_ms < 0:
            raise ValueError("need grow >= 1, gap_ms >= 0 and capacity_s > 0")

    def samples(self, ms: float) -> int:
        return round(ms * self.rate / 1000)


class PlayState(Enum):
    IDLE = "idle"  # nothing to play
    BUFFERING = "buffering"  # a stream started; waiting for the start-up buffer
    PLAYING = "playing"
    DRAINED = "drained"  # ran dry mid-stream: more audio soon means an underrun


class JitterBuffer:
    """``push`` audio in, ``pull_into`` blocks out (silence where there is none)."""

    def __init__(self, params: JitterParams | None = None) -> None:
        self.params = p = params or JitterParams()
        self.state = PlayState.IDLE
        self.target = p.samples(p.prebuffer_ms)  # current start-up buffer, in samples
        self._base = self.target
        self._max_target = p.samples(p.max_prebuffer_ms)
        self._gap = p.samples(p.gap_ms)
        self._min_wait = p.samples(p.min_wait_ms)  # the start-up margin, grows with jitter
        self._base_wait = self._min_wait
        self._close = p.samples(p.close_ms)
        self._low = -1  # least queued when a chunk arrived mid-stream (samples; -1: none)
        self._fade = p.samples(p.fade_ms)
        self._capacity = max(1, round(p.capacity_s * p.rate))
        self._chunks: deque[Int16Array] = deque()
        self._head = 0  # samples of _chunks[0] already played
        self.queued = 0
        self._ended = False
        self._waited = 0  # samples pulled while BUFFERING
        self._dry = 0  # samples of silence while DRAINED
        self._stream_underruns = 0
        self.paused = False  # pause(): audio is kept, nothing is played
        # counters (samples unless named otherwise)
        self.played = 0  # real audio handed out, all streams
        self.stream_played = 0  # real audio handed out in the current / last stream
        self.silence = 0  # silence handed out (idle, buffering, gaps)
        self.underruns = 0  # gaps inside a stream (count)
        self.underrun_samples = 0  # silence played inside those gaps
        self.overflow = 0  # dropped because the buffer was full
        self.cleared = 0  # dropped by clear()
        self.streams = 0

    # ------------------------------------------------------------------ producer side
    def push(self, samples: Int16Array, ahead: int = 0) -> None:
        """Queue ``samples``; ``ahead``: samples already pulled that have not been heard
        yet (a device buffer that a writer fills ahead), part of the margin they came with."""
        n = len(samples)
        if n == 0:
            return
        if self.state is PlayState.IDLE:
            self._new_stream()
        elif self._ended:  # a new stream while the last one's tail (or fade) still plays
            self.streams += 1
            self.stream_played = 0
            self._stream_underruns = 0
            self._ended = False
        elif self.state is PlayState.DRAINED:
            self.underruns += 1
            self._stream_underruns += 1
            self.underrun_samples += self._dry
            self.target = min(self._max_target, max(1, round(self.target * self.params.grow)))
            self._min_wait = min(self.target, round(self._min_wait * self.params.grow))
            self._rebuffer()
        elif self.state is PlayState.PLAYING and (self._low < 0 or self.queued + ahead < self._low):
            self._low = self.queued + ahead  # the margin this chunk arrived with
        self._chunks.append(samples)
        self.queued += n
        over = self.queued - self._capacity
        while over > 0 and self._chunks:
            left = len(self._chunks[0]) - self._head
            take = min(left, over)
            self._head += take
            self.queued -= take
            self.overflow += take
            over -= take
            if self._head >= len(self._chunks[0]):
                self._chunks.popleft()
                self._head = 0

    def end(self) -> None:
        """No more audio in this stream: play the rest now, and running dry is no underrun."""
        self._ended = True
        if self.state is PlayState.DRAINED:
            self.state = PlayState.IDLE

    def pause(self) -> None:
        """Hold playback where it is (a possible barge-in): audio keeps coming in."""
        self.paused = True

    def resume(self) -> None:
        """Play on from where ``pause`` held it."""
        self.paused = False

    def clear(self) -> int:
        """Drop everything queued (barge-in); returns how many samples were dropped. While
        playing, the next ``fade_ms`` are kept, faded out, and end the stream."""
        self.paused = False
        fade = np.zeros(0, dtype=np.int16)
        if self.state is PlayState.PLAYING and self._fade:
            fade = np.zeros(min(self._fade, self.queued), dtype=np.int16)
            self._copy_out(fade)
            ramp = np.linspace(1.0, 0.0, len(fade) + 1)[1:]
            fade = np.round(fade * ramp).astype(np.int16)
        dropped = self.queued
        self.cleared += dropped
        self._chunks.clear()
        self._head = 0
        self.queued = 0
        self._ended = False
        self.state = PlayState.IDLE
        if len(fade):
            self._chunks.append(fade)
            self.queued = len(fade)
            self.state = PlayState.PLAYING
            self._ended = True
        return dropped

    def _new_stream(self) -> None:
        if self.streams and not self._stream_underruns:
            if 0 <= self._low < self._close:  # nearly ran dry: more margin next time
                self._min_wait = min(self.target, self._min_wait + self._close - self._low)
            else:  # a clean stream: relax a little
                self.target = max(self._base, round(self.target * 0.9))
                self._min_wait = max(self._base_wait, round(self._min_wait * 0.9))
        self._low = -1
        self.streams += 1
        self.stream_played = 0
        self._stream_underruns = 0
        self._ended = False
        self._rebuffer()

    def _rebuffer(self) -> None:
        self.state = PlayState.BUFFERING
        self._waited = 0
        self._dry = 0

    # ------------------------------------------------------------------ consumer side
    @property
    def active(self) -> bool:
        """A stream is under way (buffering, playing, or in a gap that may still fill)."""
        return self.state is not PlayState.IDLE

    def pull(self, n: int) -> Int16Array:
        out = np.empty(n, dtype=np.int16)
        self.pull_into(out)
        return out

    def _start_left(self) -> int:
        """BUFFERING: samples of waiting left before the stream may start, with what is
        queued now: none once it has ended; the margin once the start-up buffer is full
        (the margin is never longer than the buffer); else as long as the buffer lasts."""
        if self._ended:
            return 0
        if self.queued >= self.target:
            return max(0, self._min_wait - self._waited)
        return max(0, self.target - self._waited)

    def _may_start(self) -> bool:
        """BUFFERING only: start playing once no waiting is left."""
        if self._start_left():
            return False
        self.state = PlayState.PLAYING
        return True

    # -- for a writer that fills a device buffer ahead (blocking writes): it plays nothing
    # while it waits, so time is told with ``advance``, and audio is taken without padding
    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def wait_left(self) -> int:
        """Samples of time until the state changes by itself: BUFFERING, until the stream
        starts if no more audio comes; DRAINED, until the dry spell ends the stream."""
        if self.state is PlayState.DRAINED:
            return max(0, self._gap - self._dry)
        return self._start_left() if self.state is PlayState.BUFFERING else 0

    def ready(self, n: int) -> bool:
        """PLAYING with ``n`` samples queued, or the stream's last ones."""
        return self.state is PlayState.PLAYING and (self.queued >= n or self._ended)

    def advance(self, n: int) -> None:
        """``n`` samples of time passed with no audio taken: BUFFERING waits (and may start
        playing), DRAINED stays dry (and ends after ``gap_ms``); nothing while paused."""
        if self.paused:
            return
        if self.state is PlayState.BUFFERING:
            self._waited += n
            self._may_start()
        elif self.state is PlayState.DRAINED:
            self._dry += n
            self.silence += n
            if self._dry > self._gap:
                self.state = PlayState.IDLE

    def take(self, out: Int16Array) -> int:
        """PLAYING: copy up to ``len(out)`` samples of audio, never silence; returns how
        many (none while paused). An ended stream with nothing left goes IDLE."""
        if self.state is not PlayState.PLAYING or self.paused:
            return 0
        got = self._copy_out(out)
        self.played += got
        self.stream_played += got
        if not self.queued and self._ended:
            self.state = PlayState.IDLE
        return got

    def starve(self) -> None:
        """PLAYING with nothing queued and more to come: the device will run dry, a gap
        begins (more audio within ``gap_ms`` counts as an underrun)."""
        if self.state is PlayState.PLAYING and not (self.queued or self._ended or self.paused):
            self.state = PlayState.DRAINED
            self._dry = 0

    def pull_into(self, out: Int16Array) -> int:
        """Fill ``out`` (1-D int16); returns how many samples are real audio (the rest is
        silence, at the end of the block; all silence while paused)."""
        n = len(out)
        if self.paused:
            out[:] = 0
            self.silence += n
            return 0
        st = self.state
        if st is PlayState.BUFFERING:
            if self._may_start():
                st = PlayState.PLAYING
            else:
                self._waited += n
        if st is not PlayState.PLAYING:
            out[:] = 0
            self.silence += n
            if st is PlayState.DRAINED:
                self._dry += n
                if self._dry > self._gap:
                    self.state = PlayState.IDLE
            return 0
        got = self._copy_out(out)
        self.played += got
        self.stream_played += got
        if got < n:
            out[got:] = 0
            self.silence += n - got
            if self._ended:
                self.state = PlayState.IDLE
            else:
                self.state = PlayState.DRAINED
                self._dry = n - got
        return got

    def _copy_out(self, out: Int16Array) -> int:
        n = len(out)
        pos = 0
        while pos < n and self._chunks:
            chunk = self._chunks[0]
            take = min(n - pos, len(chunk) - self._head)
            out[pos : pos + take] = chunk[self._head : self._head + take]
            pos += take
            self._head += take
            if self._head >= len(chunk):
                self._chunks.popleft()
                self._head = 0
        self.queued -= pos
        return pos

    def stats(self) -> dict[str, float | int]:
        rate = self.params.rate
        return {
            "played_s": round(self.played / rate, 3),
            "underruns": self.underruns,
            "underrun_s": round(self.underrun_samples / rate, 3),
            "overflow_s": round(self.overflow / rate, 3),
            "cleared_s": round(self.cleared / rate, 3),
            "prebuffer_ms": round(self.target * 1000 / rate, 1),
            "start_margin_ms": round(self._min_wait * 1000 / rate, 1),
            "streams": self.streams,
        }
