"""Echo handling without devices: mode resolution, the half-duplex gate, the AEC wiring."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import numpy as np
import pytest

from voicecli.audio import echo
from voicecli.audio.echo import EchoCanceller, HalfDuplex, resolve_mode, with_echo_control
from voicecli.errors import UsageError

FRAME = 640  # 20 ms at 16 kHz


class TimedSource:
    """Frames with given capture times, like MicSource.timed_frames."""

    frame_ms = 20

    def __init__(self, items: list[tuple[bytes, float]], on_frame=None) -> None:  # type: ignore[no-untyped-def]
        self.items = items
        self.on_frame = on_frame
        self.closed = False

    async def timed_frames(self) -> AsyncIterator[tuple[bytes, float]]:
        for i, item in enumerate(self.items):
            if self.on_frame:
                self.on_frame(i)
            yield item

    async def frames(self) -> AsyncIterator[bytes]:
        async for f, _ in self.timed_frames():
            yield f

    async def aclose(self) -> None:
        self.closed = True


class FakeSpeaker:
    rate = 16000

    def __init__(self) -> None:
        self.is_playing = False
        self.last_sound_end = -math.inf
        self.blocks: list[tuple[float, np.ndarray]] = []

        self.per_call: int | None = None  # release blocks as if played in real time

    def played_blocks(self) -> list[tuple[float, np.ndarray]]:
        n = len(self.blocks) if self.per_call is None else self.per_call
        out, self.blocks = self.blocks[:n], self.blocks[n:]
        return out


def loud(n: int = FRAME) -> bytes:
    return np.full(n // 2, 1000, dtype="<i2").tobytes()


def test_auto_resolves_to_aec_only_when_livekit_is_there() -> None:
    assert resolve_mode("auto", have_aec=True) == "aec"
    assert resolve_mode("auto", have_aec=False) == "half"
    assert resolve_mode("half", have_aec=True) == "half"
    assert resolve_mode("off", have_aec=False) == "off"
    assert resolve_mode("aec", have_aec=True) == "aec"
    with pytest.raises(UsageError, match="livekit"):
        resolve_mode("aec", have_aec=False)
    with pytest.raises(UsageError, match="unknown echo mode"):
        resolve_mode("loud", have_aec=True)


def test_describe_names_every_mode() -> None:
    assert "half-duplex" in echo.describe("half")
    assert "AEC" in echo.describe("aec")
    assert "headphones" in echo.describe("off")


async def test_half_duplex_mutes_while_playing_and_for_the_tail() -> None:
    spk = FakeSpeaker()
    # frames captured at t = 0.00, 0.02, ... 0.98
    items = [(loud(), i * 0.02) for i in range(50)]

    def script(i: int) -> None:
        spk.is_playing = 10 <= i < 20  # playing while frames 10..19 are read
        if i == 20:
            spk.last_sound_end = 0.40  # the last sample left the speaker at 0.40 s

    gate = HalfDuplex(TimedSource(items, script), spk, tail_ms=300)  # type: ignore[arg-type]
    out = [f async for f in gate.frames()]
    silent = [i for i, f in enumerate(out) if not any(f)]
    # muted while playing (10..19) and until 0.40 + 0.30 = 0.70 s (frame 35 is at 0.70)
    assert silent == list(range(10, 35))
    assert gate.muted_frames == 25
    assert all(len(f) == FRAME for f in out)
    await gate.aclose()
    assert gate.source.closed  # type: ignore[attr-defined]


class SubtractingCanceller:
    """A perfect canceller for a 1:1 echo ``lag`` pieces late: near - far of then."""

    def __init__(self, lag: int = 0) -> None:
        self.far: list[np.ndarray] = [np.zeros(160, np.int16)] * lag
        self.delays: list[int] = []

    def reverse(self, far: bytearray) -> None:
        self.far.append(np.frombuffer(bytes(far), "<i2").copy())

    def set_delay_ms(self, ms: int) -> None:
        self.delays.append(ms)

    def process(self, near: bytearray) -> None:
        x = np.frombuffer(bytes(near), "<i2").astype(np.int32)
        f = self.far.pop(0) if self.far else np.zeros_like(x)
        near[:] = np.clip(x - f, -32768, 32767).astype("<i2").tobytes()


def played_and_heard(
    seconds: float, delay_pieces: int = 0, gain: float = 1.0, seed: int = 1
) -> tuple[list[tuple[float, np.ndarray]], list[tuple[bytes, float]]]:
    """What a speaker played (10 ms blocks at t = 0.00, 0.01, ...) and what the mic heard:
    the same audio ``delay_pieces`` x 10 ms later, times ``gain``, in 20 ms frames."""
    rng = np.random.default_rng(seed)
    n = round(seconds * 100)
    far = [rng.integers(-3000, 3000, 160).astype(np.int16) for _ in range(n)]
    played = [(i * 0.01, b) for i, b in enumerate(far)]
    heard = [np.zeros(160, np.int16)] * delay_pieces + [(b * gain).astype(np.int16) for b in far]
    frames = [
        (np.concatenate(heard[i : i + 2]).astype("<i2").tobytes(), i * 0.01)
        for i in range(0, n - 1, 2)
    ]
    return played, frames


async def test_echo_canceller_interleaves_one_far_piece_per_near_piece() -> None:
    spk = FakeSpeaker()
    spk.blocks, items = played_and_heard(1.0)
    canc = SubtractingCanceller()
    aec = EchoCanceller(TimedSource(items), spk, canceller=canc)  # type: ignore[arg-type]
    aec.WARMUP_PIECES = 0
    out = [f async for f in aec.frames()]
    assert aec.near_pieces == 100 and aec.far_missing == 0
    # soxr at equal rates is an identity: the far end lines up and the echo is gone
    assert all(not np.frombuffer(f, "<i2").any() for f in out)
    assert max(canc.delays) <= 10


async def test_echo_canceller_unmutes_once_it_has_converged() -> None:
    """A canceller that takes the echo out: muted for the first 1.5 s of far end only."""
    spk = FakeSpeaker()
    spk.blocks, items = played_and_heard(2.0, delay_pieces=3)  # a 30 ms echo path
    aec = EchoCanceller(TimedSource(items), spk, canceller=SubtractingCanceller(lag=3))  # type: ignore[arg-type]
    aec.tones.push_far = lambda piece: None  # type: ignore[method-assign]  # noise, no tones
    _ = [f async for f in aec.frames()]
    assert aec.stats()["aec_warmup_muted_s"] == pytest.approx(1.5, abs=0.02)


async def test_echo_canceller_stays_muted_while_the_echo_is_not_taken_out() -> None:
    """A fixed 1.5 s once let AEC3's leftover echo through and the model interrupted itself:
    the microphone stays muted until the echo is 20 dB down, at most 4 s."""
    spk = FakeSpeaker()
    spk.blocks, items = played_and_heard(5.0, delay_pieces=3)  # a 30 ms echo path
    spk.per_call = 2  # 20 ms of played audio per 20 ms mic frame
    aec = EchoCanceller(TimedSource(items), spk, canceller=NullCanceller())  # type: ignore[arg-type]
    out = b"".join([f async for f in aec.frames()])
    assert aec.shifts == 0
    pcm = np.frombuffer(out, "<i2")
    assert not pcm[: 64000 - 640].any()  # 4 s of far end: muted
    assert pcm[64000 + 640 :].any()  # then the canceller's output, as a last resort
    assert aec.stats()["aec_warmup_muted_s"] == pytest.approx(4.0, abs=0.02)


async def test_a_near_piece_waits_for_its_far_piece() -> None:
    """The speaker hands a block over only after the mic frame captured at the same time was
    read (the virtual devices do): the near piece is held back a frame, not paired with
    silence (the holes kept AEC3 from converging)."""
    spk = FakeSpeaker()
    played, items = played_and_heard(1.2)
    items = items[5:]  # the speaker is already playing when the microphone starts
    pending = list(played)
    now = [0.0]

    def on_frame(i: int) -> None:
        # a frame is read 25 ms after its capture; by then the speaker has handed over only
        # the blocks that started by 5 ms into the frame
        captured = items[i][1]
        now[0] = captured + 0.025
        while pending and pending[0][0] <= captured + 0.005:
            spk.blocks.append(pending.pop(0))

    canc = SubtractingCanceller()
    aec = EchoCanceller(
        TimedSource(items, on_frame=on_frame),
        spk,
        canceller=canc,
        clock=lambda: now[0],  # type: ignore[arg-type]
    )
    aec.WARMUP_PIECES = 0
    aec.tones.push_far = lambda piece: None  # type: ignore[method-assign]
    out = [f async for f in aec.frames()]
    # only the very last piece goes without: the source ended before its block was handed over
    assert aec.far_missing == 1 and aec.far_waits > 0
    assert len(out) == len(items) and all(len(f) == FRAME for f in out)
    assert all(not np.frombuffer(f, "<i2").any() for f in out[:-1])  # each with its own


async def test_echo_canceller_shifts_the_far_end_when_the_echo_comes_first() -> None:
    """Timestamps off by 60 ms: the mic hears each block 60 ms before the far end is fed.
    The echo path detector measures it and the far end is moved ahead."""
    spk = FakeSpeaker()
    played, items = played_and_heard(6.0, delay_pieces=2)
    spk.blocks = [(t + 0.08, b) for t, b in played]  # stamped 80 ms late: echo 60 ms early
    spk.per_call = 2  # 20 ms of played audio per 20 ms mic frame
    aec = EchoCanceller(TimedSource(items), spk, canceller=NullCanceller())  # type: ignore[arg-type]
    _ = [f async for f in aec.frames()]
    assert aec.shifts == 1
    assert aec.shift == pytest.approx(0.09, abs=0.006)  # 60 ms early -> 30 ms late
    assert aec.path.coupled and aec.path.delay is not None
    assert abs(aec.path.delay - 480) <= 16  # 30 ms at 16 kHz


class CountingCanceller(SubtractingCanceller):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def process(self, near: bytearray) -> None:
        self.calls += 1
        super().process(near)


async def test_without_an_echo_path_the_canceller_is_not_run() -> None:
    """Headphones: the microphone never hears the speaker. Once the echo path detector has
    judged so, AEC3 is not fed any more (its output would not be sent), and the microphone
    passes untouched."""
    spk = FakeSpeaker()
    spk.blocks, _ = played_and_heard(6.0)
    spk.per_call = 2  # handed over as they play
    rng = np.random.default_rng(9)
    mic = [rng.integers(-2000, 2000, 320).astype("<i2").tobytes() for _ in range(300)]
    canc = CountingCanceller()
    aec = EchoCanceller(TimedSource([(f, i * 0.02) for i, f in enumerate(mic)]), spk, canc)
    aec.tones.push_far = lambda piece: None  # type: ignore[method-assign]  # noise, no tones
    out = [f async for f in aec.frames()]
    assert not aec.path.coupled
    assert canc.calls < 300  # of 600 pieces: only until the path was judged
    assert out[-100:] == mic[-100:]


class NullCanceller:
    def reverse(self, far: bytearray) -> None:
        pass

    def set_delay_ms(self, ms: int) -> None:
        pass

    def process(self, near: bytearray) -> None:
        pass


def test_with_echo_control_wraps_for_the_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    src, spk = TimedSource([]), FakeSpeaker()
    monkeypatch.setattr(echo, "aec_available", lambda: False)
    wrapped, text = with_echo_control(src, spk, "auto")  # type: ignore[arg-type]
    assert isinstance(wrapped, HalfDuplex) and "half" in text
    wrapped, text = with_echo_control(src, spk, "off")  # type: ignore[arg-type]
    assert wrapped is src


def test_echo_off_and_half_never_import_livekit() -> None:
    """livekit costs ~30 MB of memory: only the modes that may cancel import it."""
    import subprocess
    import sys

    code = (
        "import sys; from voicecli.audio.echo import resolve_mode; "
        "assert resolve_mode('off') == 'off' and resolve_mode('half') == 'half'; "
        "print(any(m.startswith('livekit') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


class WritingSpeaker(FakeSpeaker):
    """Hands its blocks over up to 100 ms before they play, like the writer thread."""

    def __init__(self, blocks: list[tuple[float, np.ndarray]], now: list[float]) -> None:
        super().__init__()
        self.pending, self.now = blocks, now

    def played_blocks(self) -> list[tuple[float, np.ndarray]]:
        out = []
        while self.pending and self.pending[0][0] <= self.now[0] + 0.1:
            out.append(self.pending.pop(0))
        return out


def two_replies(moved: int) -> tuple[list[tuple[float, np.ndarray]], list[tuple[bytes, float]]]:
    """Noise replies at 0-1 s and from 2.0037 s (off the 10 ms grid), 16 kHz; the mic hears
    each 30 ms after it played, but the second played ``moved`` samples later than the
    speaker's play-head said (a stream started for each reply). Each reply ends with the
    150 ms of silence the writer pads it with."""
    rng = np.random.default_rng(3)
    seconds, rate = 3.2, 16000
    heard = np.zeros(round(seconds * rate))
    played: list[tuple[float, np.ndarray]] = []
    for start, real in ((0, 0), (32059, 32059 + moved)):  # in samples
        x = rng.integers(-3000, 3000, rate).astype(np.int16)
        x = np.concatenate([x, np.zeros(2400, np.int16)])  # the writer pads the end
        played += [(start / rate + i / 100, x[i * 160 : (i + 1) * 160]) for i in range(115)]
        heard[real + 480 : real + 480 + rate] += x[:rate]
    pcm = heard.astype("<i2")
    frames = [(pcm[i : i + 320].tobytes(), i / rate) for i in range(0, len(pcm) - 319, 320)]
    return played, frames


@pytest.mark.parametrize("moved", [0, 64, -37])
async def test_each_reply_is_lined_up_with_its_echo(moved: int) -> None:
    """The speaker's stream starts for each reply, a few ms differently every time, and
    off the microphone's 10 ms grid: the reply's far end is placed on the grid and moved
    to where its echo says it played, so the canceller sees one delay (the subtracting
    canceller leaves nothing only then)."""
    played, items = two_replies(moved)
    now = [0.0]

    def on_frame(i: int) -> None:
        now[0] = items[i][1] + 0.025

    spk = WritingSpeaker(played, now)
    aec = EchoCanceller(
        TimedSource(items, on_frame=on_frame),
        spk,  # type: ignore[arg-type]
        canceller=SubtractingCanceller(lag=3),
        clock=lambda: now[0],
    )
    aec.WARMUP_PIECES = 0
    aec.tones.push_far = lambda piece: None  # type: ignore[method-assign]  # noise, no tones
    out = np.frombuffer(b"".join([f async for f in aec.frames()]), "<i2")
    assert len(out) == len(items) * 320  # nothing lost, nothing added
    assert aec.align.ref == pytest.approx(480, abs=0.1)
    assert aec.align.fixes == ([] if moved == 0 else [pytest.approx(moved / 16000, abs=4e-6)])
    assert not out.any()  # both replies' echo gone


def test_the_exit_line_claims_an_echo_path_only_when_it_was_measured() -> None:
    """The canceller assumes an echo path until shown otherwise: the exit line names a
    path only with its measured delay, and says nothing was cancelled when nothing played."""
    from voicecli.ui.devices_view import format_audio_stats

    base = {"aec_echo_path": 1, "aec_echo_delay_ms": -1, "aec_replies": 0}
    assert "echo canceller on (no reply played through it)" in format_audio_stats(base)
    replies = {"aec_replies": 3, "aec_reduction_median_db": 40.0, "aec_reduction_min_db": 20.0}
    tone = format_audio_stats({**base, **replies})
    assert "echo cancelled by 40 dB (least 20 dB) over 3 replies" in tone
    assert "echo path" not in tone
    measured = format_audio_stats({**base, **replies, "aec_echo_delay_ms": 34})
    assert "echo path 34 ms, cancelled by 40 dB" in measured
    assert "no echo path" in format_audio_stats({**base, "aec_echo_path": 0})
