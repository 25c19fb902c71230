"""Keeping the model from hearing itself through the speakers (``--echo``).

* ``off``: the microphone is sent as it is (headphones).
* ``half``: ``HalfDuplex`` mutes the microphone while the speaker plays and for a short tail
  after it (the room's echo). Muted frames become digital silence, so the VAD gate sees no
  speech; the user cannot interrupt the model, but it never interrupts itself.
* ``aec``: ``EchoCanceller`` runs WebRTC's echo canceller (AEC3, the ``livekit`` package's
  ``AudioProcessingModule``, extra ``voicecli[aec]``). It is fed exactly the audio the
  speaker played, one 10 ms piece per 10 ms of microphone, lined up by the speaker's
  play-head times and the microphone's ADC timestamps, each reply moved to where its echo
  says it played (``echo_align``), and corrected by the echo delay it measures
  (``echo_path``). The echo is taken
  out and the user's voice gets through, so barge-in keeps working. While AEC3 converges
  (at least 1.5 s of model audio, until it takes 20 dB out of the echo, at most 4 s) the
  microphone is muted like ``half``; when no echo path is found (headphones) the microphone
  passes untouched. A tone from the model (the
  simulator's voice) is taken out by ``echo_tone`` instead: AEC3 does not learn tones.
* ``auto``: ``aec`` when livekit is installed, else ``half``.
"""

from __future__ import annotations

import importlib
import math
import statistics
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from functools import cache
from typing import Any, Protocol

import numpy as np

from voicecli.audio.base import INPUT_RATE, AudioSource
from voicecli.audio.echo_align import FractionalDelay, RunAligner
from voicecli.audio.echo_path import EchoPath, StreamClock
from voicecli.audio.echo_tone import ToneResidue
from voicecli.audio.format import Int16Array, int16_to_bytes, rms
from voicecli.audio.resample import Reframer, StreamResampler
from voicecli.errors import UsageError

ECHO_MODES = ("auto", "aec", "half", "off")
AEC_HINT = "pip install 'voicecli[aec]' (the livekit package), or use --echo half"
_PIECE = INPUT_RATE // 100  # the echo canceller works on 10 ms pieces
_PIECE_BYTES = _PIECE * 2


class PlayingSpeaker(Protocol):
    """What the half-duplex gate needs from the speaker."""

    @property
    def is_playing(self) -> bool: ...

    last_sound_end: float  # monotonic time the last real sample leaves the speaker


class RecordingSpeaker(PlayingSpeaker, Protocol):
    """What the echo canceller needs: the exact played blocks and their speaker times."""

    rate: int

    def played_blocks(self) -> list[tuple[float, Int16Array]]: ...


async def timed(source: AudioSource) -> AsyncIterator[tuple[bytes, float]]:
    """(frame, capture time): from the source if it knows (MicSource), else the arrival."""
    timed_frames = getattr(source, "timed_frames", None)
    if timed_frames is not None:
        async for item in timed_frames():
            yield item
        return
    async for frame in source.frames():
        yield frame, time.monotonic() - source.frame_ms / 1000


@cache
def aec_available() -> bool:
    try:
        importlib.import_module("livekit.rtc")
    except (ImportError, OSError):
        return False
    return True


def resolve_mode(mode: str, have_aec: bool | None = None) -> str:
    """The mode that will run: ``auto`` becomes ``aec`` or ``half``; ``aec`` without
    livekit is a UsageError naming the extra to install."""
    if mode not in ECHO_MODES:
        raise UsageError(f"unknown echo mode {mode!r}", "use --echo auto, aec, half or off")
    if mode in ("half", "off"):
        return mode  # livekit (~30 MB) is not even imported
    have = aec_available() if have_aec is None else have_aec
    if mode == "auto":
        return "aec" if have else "half"
    if mode == "aec" and not have:
        raise UsageError("--echo aec needs the livekit package", AEC_HINT)
    return mode


def describe(mode: str) -> str:
    """For the status line."""
    return {
        "aec": "echo: cancelled (WebRTC AEC)",
        "half": "echo: half-duplex (mic muted while the model speaks)",
        "off": "echo: off (use headphones)",
    }[mode]


class HalfDuplex:
    """An AudioSource that mutes ``source`` while ``speaker`` plays, plus ``tail_ms``."""

    def __init__(self, source: AudioSource, speaker: PlayingSpeaker, tail_ms: int = 300) -> None:
        self.source = source
        self.speaker = speaker
        self.frame_ms = source.frame_ms
        self.tail_s = tail_ms / 1000
        self.muted_frames = 0

    def muted(self, captured_at: float) -> bool:
        return self.speaker.is_playing or captured_at < self.speaker.last_sound_end + self.tail_s

    async def frames(self) -> AsyncIterator[bytes]:
        async for frame, t in timed(self.source):
            if self.muted(t):
                self.muted_frames += 1
                yield bytes(len(frame))
            else:
                yield frame

    def stats(self) -> dict[str, float | int]:
        return {"mic_muted_s": round(self.muted_frames * self.frame_ms / 1000, 2)}

    async def aclose(self) -> None:
        await self.source.aclose()


class Canceller(Protocol):
    """An echo canceller working in place on 10 ms of 16 kHz mono PCM16."""

    def reverse(self, far: bytearray) -> None: ...
    def process(self, near: bytearray) -> None: ...
    def set_delay_ms(self, ms: int) -> None: ...


class WebRtcCanceller:
    """livekit's AudioProcessingModule (WebRTC AEC3 + high-pass filter)."""

    def __init__(self) -> None:
        try:
            rtc = importlib.import_module("livekit.rtc")
        except (ImportError, OSError) as exc:
            raise UsageError("--echo aec needs the livekit package", AEC_HINT) from exc
        self._apm = rtc.AudioProcessingModule(echo_cancellation=True, high_pass_filter=True)
        self._frame = rtc.AudioFrame

    def reverse(self, far: bytearray) -> None:
        self._apm.process_reverse_stream(self._frame(far, INPUT_RATE, 1, _PIECE))

    def process(self, near: bytearray) -> None:
        self._apm.process_stream(self._frame(near, INPUT_RATE, 1, _PIECE))

    def set_delay_ms(self, ms: int) -> None:
        self._apm.set_stream_delay_ms(ms)


class EchoCanceller:
    """An AudioSource: ``source`` (16 kHz) with the speaker's echo taken out.

    The played audio is resampled to 16 kHz and cut into 10 ms pieces stamped with the time
    they reached the speaker. Each run of it (a reply: the speaker starts its stream for each)
    starts on the microphone's 10 ms grid, so its pieces pair with near pieces exactly, and
    is moved, to a fraction of a sample, to where its echo came (``RunAligner``); the near
    pieces of a run's first 300 ms wait for that. Each
    10 ms of microphone audio is processed right after exactly one far piece, the one
    played ``shift`` after its capture time: the canceller sees a steady interleave and a
    constant delay (bursty or jittery feeding makes AEC3 diverge). ``EchoPath`` measures
    the real echo delay; when the echo comes too early (AEC3 cannot cancel an echo that
    precedes its far end) or very late, ``shift`` is corrected. A near piece whose far piece
    has not been handed over yet waits for it (up to ``HOLD_S``, during a reply only) rather
    than going with silence. Without an echo path (headphones) the raw microphone passes.
    While AEC3 converges (after the echo path appeared or moved: at least 1.5 s of far end,
    until the recent echo is ``CONVERGED_DB`` down, at most 4 s) the microphone is muted
    like ``half``.
    """

    LEAD_S = 0.05  # the far piece may lead its near piece by up to this...
    LAG_S = 0.005  # ...or lag by this much; outside, the far queue is re-aligned to +-LAG_S
    DELAY_RANGE_S = (0.005, 0.25)  # measured echo delays outside: shift to DELAY_TARGET_S
    DELAY_TARGET_S = 0.03
    WARMUP_PIECES = 150  # at least 1.5 s of far end muted while AEC3 converges...
    CONVERGED_DB = 20.0  # ...until it takes this much out of the last 0.3 s of echo...
    WARMUP_MAX_PIECES = 400  # ...or for at most 4 s (the user talking over it keeps it low)
    TAIL_PIECES = 30  # and 300 ms after the far end goes quiet
    IDLE_PIECES = 100  # the far end silent for 1 s: the canceller is skipped
    HOLD_S = 0.06  # a near piece waits up to this long after its capture for its far piece

    def __init__(
        self,
        source: AudioSource,
        speaker: RecordingSpeaker,
        canceller: Canceller | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.speaker = speaker
        self.frame_ms = source.frame_ms
        self.canceller = canceller or WebRtcCanceller()
        self.path = EchoPath()
        self.align = RunAligner()
        self.tones = ToneResidue()
        self.shift = 0.0  # the far piece played at capture time + shift goes with a near one
        self._far_rs = StreamResampler(speaker.rate, INPUT_RATE)
        self._far_cut = Reframer(_PIECE_BYTES)
        # the speaker's times are play-head counts, exact: any step is a new run
        self._far_clock = StreamClock(speaker.rate, slack_s=0.001)
        self._near_clock = StreamClock(INPUT_RATE)
        self._far_t0 = 0.0  # time of the 16 kHz far sample 0 (since the last clock jump)
        self._run_t = 0.0  # speaker time of the run's first sample
        self._run_blocks: list[bytes] | None = None  # the run so far, until it is located
        self._run_delay: FractionalDelay | None = None  # the part of its move below a sample
        self._far_n = 0  # 16 kHz far samples cut into pieces since then
        self._far: deque[tuple[float, bytes]] = deque(maxlen=300)  # 3 s
        self._silence = bytes(_PIECE_BYTES)
        self._tight = True  # (re)aligning: the next far piece must be within LAG_S
        self._far_active = 0  # loud far pieces since the echo path appeared
        self._far_quiet = 10**9  # pieces since the far end was last loud
        self.far_dropped = 0  # too old when their near piece came: re-aligned
        self.far_missing = 0  # never came: silence fed instead
        self.far_waits = 0  # near pieces held back for a far piece still on its way
        self._clock = clock
        self._pending: deque[tuple[float, bytes]] = deque()  # near pieces waiting for far
        self._out = Reframer(source.frame_ms * INPUT_RATE // 1000 * 2)
        self.near_pieces = 0
        self.shifts = 0
        self.warmup_muted = 0
        self.idle_pieces = 0
        self.tone_pieces = 0  # pieces cleaned of a tone instead of going through AEC3
        self._hint = -1
        # echo reduction of each reply (a run of loud far end): microphone vs. output energy
        self.reductions_db: deque[float] = deque(maxlen=200)
        self._reply_in = self._reply_out = 0.0
        self._recent: deque[tuple[float, float]] = deque(maxlen=30)  # (mic, out) energies
        self._converged = False

    def _converging(self) -> bool:
        """Still muting: too little far end since the echo path appeared, or AEC3 takes
        out less than CONVERGED_DB of the recent echo (a fixed 1.5 s was sometimes too short:
        the leftover echo interrupted the model)."""
        if self._far_active < self.WARMUP_PIECES:
            return True
        if self._far_active >= self.WARMUP_MAX_PIECES or self._converged:
            return False
        mic = sum(e[0] for e in self._recent)
        out = sum(e[1] for e in self._recent)
        self._converged = mic > 0 and 10 * math.log10(mic / max(out, 1.0)) >= self.CONVERGED_DB
        return not self._converged

    def _collect_far(self) -> None:
        """The blocks played since the last call, on the far clock, resampled and cut into
        10 ms pieces; a run of blocks without a jump goes through the resampler at once
        (one call for several blocks: it runs for every microphone frame)."""
        run: list[bytes] = []
        for t_play, block in self.speaker.played_blocks():
            t, jumped = self._far_clock.place(t_play, len(block))
            if jumped or self._far_clock.count == len(block):  # (re)start at this block
                self._far_pieces(run, end=True)
                run = []
                self._start_run(t)
            run.append(int16_to_bytes(block))
        self._far_pieces(run)

    def _start_run(self, t: float) -> None:
        """A new run of far end starts at ``t``: it is placed on the near grid with
        silence at the speaker's rate before it (so the resampled pieces keep one sample
        phase from run to run), and kept until ``align`` has located its echo."""
        self._far_t0, self._far_n, self._tight = self._on_near_grid(t), 0, True
        self._run_t = t
        self._run_blocks = self._run_delay = None
        self._far_pieces([bytes(2 * round((t - self._far_t0) * self.speaker.rate))])
        self._run_blocks = []
        self.align.restart(t)

    def _on_near_grid(self, t: float) -> float:
        """The latest time <= ``t`` a far piece must start at to be processed with a near
        piece exactly (``shift`` after its capture). A run cut from any other point would
        pair with its near pieces up to 5 ms off, a different amount for every run: AEC3
        converges on one delay, and lost 15-30 dB at each reply whose pairing moved."""
        anchor = self._near_clock.anchor
        if anchor is None:
            return t
        phase = anchor + self.shift
        return phase + math.floor((t - phase) * 100) / 100

    def _far_pieces(self, run: list[bytes], end: bool = False) -> None:
        """Cut into pieces on the far clock; ``end``: the run is over, so the resampler's
        tail goes with it (left in, it would come out at the start of the next run, which
        would then be stamped up to ~30 ms early) and the next run starts a fresh piece."""
        if self._run_blocks is not None:
            self._run_blocks += run
        data = b"".join(run)
        if self._run_delay is not None:
            data = self._run_delay.process(data)
        data = self._far_rs.process(data) if data else b""
        if end:
            data += self._far_rs.flush()
        pieces = self._far_cut.push(data)
        if end:
            self._far_cut.flush(pad=False)
        for piece in pieces:
            t = self._far_t0 + self._far_n / INPUT_RATE
            self._far.append((t, piece))
            self.align.push_far(t, piece)
            self._far_n += _PIECE

    def _far_for(self, captured: float, wait: bool) -> tuple[bytes | None, float | None]:
        """The far piece to process with the near piece ``captured``; (None, None) when it
        is still on its way and ``wait`` allows holding the near piece back for it."""
        far, want = self._far, captured + self.shift
        while far and far[0][0] < want - self.LAG_S:
            far.popleft()
            self.far_dropped += 1
        if far and far[0][0] <= want + (self.LAG_S if self._tight else self.LEAD_S):
            self._tight = False
            t, piece = far.popleft()
            return piece, t
        if wait and not far and self._far_clock.anchor is not None:  # the speaker plays
            # a block not handed over yet (a speaker that reports blocks once played, as
            # the old callback one did, up to ~30 ms late); feeding silence and then
            # skipping the late piece punched holes in the far end AEC3 never converged through
            self.far_waits += 1
            return None, None
        self.far_missing += 1
        return self._silence, None

    def _move_run(self, fix: float) -> None:
        """The current far run really played ``fix`` seconds later than its speaker times:
        it is resampled again from that point of the grid (moving the pieces' times instead
        would pair them with their near pieces up to 5 ms off; moving whole 16 kHz samples
        would change the sample phase AEC3 converged on)."""
        blocks, self._run_blocks = self._run_blocks, None
        if blocks is None:
            return
        start = self._far_t0 - 0.5 / INPUT_RATE
        self._far = deque([(t, p) for t, p in self._far if t < start], maxlen=300)
        self._far_rs.flush()
        self._far_cut.flush(pad=False)
        at = (self._run_t + fix - self._far_t0) * self.speaker.rate  # samples
        whole = round(at)
        self._run_delay = FractionalDelay(at - whole)
        k = whole - FractionalDelay.TAPS // 2  # the filter's own delay
        data = b"".join(blocks)
        self._far_n = 0
        self._far_pieces([bytes(2 * k) + data if k >= 0 else data[-2 * k :]])

    def _follow_delay(self) -> None:
        """Shift the far end when the measured echo delay is out of AEC3's comfort range."""
        if self.path.delay is None:
            return
        d = self.path.delay / INPUT_RATE
        low, high = self.DELAY_RANGE_S
        if not low <= d <= high:
            # by whole pieces: the far runs stay on the near grid (_on_near_grid)
            self.shift += round((self.DELAY_TARGET_S - d) * 100) / 100
            self.shifts += 1
            self._tight = True
            self.path.reset_delay()
            self._restart_warmup()  # AEC3 converges again

    def _restart_warmup(self) -> None:
        self._far_active = 0
        self._converged = False
        self._recent.clear()

    def _process(self, frame: bytes, t: float) -> bytes:
        """The processed pieces that are ready: those of ``frame`` and of earlier frames
        whose far pieces have come since, in order (empty while one is held back)."""
        self._collect_far()
        for k in range(0, len(frame) - _PIECE_BYTES + 1, _PIECE_BYTES):
            captured, _ = self._near_clock.place(t + k / 2 / INPUT_RATE, _PIECE)
            piece = frame[k : k + _PIECE_BYTES]
            self._pending.append((captured, piece))
            self.align.push_near(captured, piece)
        return self._drain(final=False)

    def _drain(self, final: bool) -> bytes:
        out = bytearray()
        now = self._clock()
        while self._pending:
            captured, raw = self._pending[0]
            if self.align.holds(captured + self.shift):
                # a new far run: its near pieces wait until its echo is located
                fix = self.align.locate(now) if self.path.coupled else 0.0
                if fix is None and not final:
                    break
                self.align.cancel()
                if fix:
                    self._move_run(fix)
                self._run_blocks = None
            wait = (
                not final
                and now - captured < self.HOLD_S
                and self._far_quiet < self.IDLE_PIECES  # idle: no echo to wait for
            )
            piece, _ = self._far_for(captured, wait)
            if piece is None:
                break
            self._pending.popleft()
            out += self._cancel(raw, piece)
        return bytes(out)

    def _cancel(self, raw: bytes, piece: bytes) -> bytes:
        """One 10 ms near piece with its far piece: the microphone to send."""
        loud = piece is not self._silence and _loud(piece)
        if not loud and self._far_quiet >= self.IDLE_PIECES:
            # the speaker has been silent a while: no echo to cancel, save the CPU (the
            # canceller sees both streams skip together, so its delay stays the same)
            self._far_quiet += 1
            self.idle_pieces += 1
            return raw
        near = bytearray(raw)
        was_coupled = self.path.coupled
        if was_coupled:
            self._run_canceller(near, piece)
        # else the microphone does not hear the speaker (headphones): what the canceller
        # would make of it is not sent, so it is not run (it converges again if an echo
        # path appears: the microphone is muted meanwhile)
        self.near_pieces += 1
        self.path.push(piece, raw)
        if self.path.coupled and not was_coupled:
            self._restart_warmup()  # a new echo path: AEC3 converges again
        self._follow_delay()
        if loud:
            self._far_active += 1
            self._far_quiet = 0
            if was_coupled:
                e_in, e_out = _energy(raw), _energy(near)
                self._reply_in += e_in
                self._reply_out += e_out
                self._recent.append((e_in, e_out))
        else:
            self._far_quiet += 1
            if self._far_quiet == self.TAIL_PIECES and self._reply_in > 0:
                self.reductions_db.append(
                    round(10 * math.log10(self._reply_in / max(self._reply_out, 1.0)), 1)
                )
                self._reply_in = self._reply_out = 0.0
        if not self.path.coupled:
            return raw
        if self._far_quiet < self.TAIL_PIECES and self._converging():
            self.warmup_muted += 1
            return self._silence
        return bytes(near)

    def _run_canceller(self, near: bytearray, piece: bytes) -> None:
        """Take the echo of ``piece`` out of ``near``, in place."""
        self.tones.push_far(piece)
        if self.tones.freqs:
            # a tone: AEC3 does not learn it (see echo_tone.py), so it is not run (its
            # two calls are the biggest cost here; it sees both streams skip together)
            self.tones.clean(near)
            self.tone_pieces += 1
            return
        self.canceller.reverse(bytearray(piece))
        # the delay hint: the measured echo delay once known (AEC3 finds it itself;
        # every FFI call costs CPU, so it is sent only when it changes)
        hint = self.path.delay
        hint = 0 if hint is None else max(0, hint * 1000 // INPUT_RATE)
        if hint != self._hint:
            self.canceller.set_delay_ms(hint)
            self._hint = hint
        self.canceller.process(near)

    def stats(self) -> dict[str, float | int]:
        delay = self.path.delay
        red = list(self.reductions_db)
        return {
            "aec_echo_path": int(self.path.coupled),
            "aec_echo_delay_ms": -1 if delay is None else round(delay * 1000 / INPUT_RATE),
            "aec_shifts": self.shifts,
            "aec_far_realigned": self.far_dropped,
            "aec_far_missing": self.far_missing,
            "aec_far_waits": self.far_waits,
            "aec_warmup_muted_s": round(self.warmup_muted * _PIECE / INPUT_RATE, 2),
            "aec_replies": len(red),
            "aec_reduction_min_db": min(red, default=0.0),
            "aec_reduction_median_db": statistics.median(red) if red else 0.0,
        }

    async def frames(self) -> AsyncIterator[bytes]:
        """Frames of the source's size; while a near piece waits for its far piece they
        come up to ``HOLD_S`` late (during a reply only), never reordered or dropped."""
        async for frame, t in timed(self.source):
            for out in self._out.push(self._process(frame, t)):
                yield out
        for out in self._out.push(self._drain(final=True)):
            yield out
        for out in self._out.flush(pad=True):
            yield out

    async def aclose(self) -> None:
        await self.source.aclose()


def _energy(piece: bytes | bytearray) -> float:
    x = np.frombuffer(bytes(piece), "<i2").astype(np.float64)
    return float(np.dot(x, x))


def _loud(piece: bytes, floor: float = 10 ** (-50 / 20)) -> bool:
    return rms(piece) > floor


def with_echo_control(
    source: AudioSource, speaker: Any, mode: str, tail_ms: int = 300
) -> tuple[AudioSource, str]:
    """Wrap ``source`` for the resolved ``mode``; returns the source and a status string."""
    mode = resolve_mode(mode)
    if mode == "half":
        return HalfDuplex(source, speaker, tail_ms), describe(mode)
    if mode == "aec":
        return EchoCanceller(source, speaker), describe(mode)
    return source, describe(mode)
