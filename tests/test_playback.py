"""The playback jitter buffer: start-up buffering, underruns, clear, played position."""

from __future__ import annotations

import numpy as np
import pytest

from voicecli.audio.playback import JitterBuffer, JitterParams, PlayState

RATE = 1000  # 1 sample = 1 ms keeps the arithmetic readable


def tone(n: int, value: int = 100) -> np.ndarray:
    return np.full(n, value, dtype=np.int16)


def jb(**kw: float) -> JitterBuffer:
    kw.setdefault("min_wait_ms", 0)
    kw.setdefault("fade_ms", 0)
    return JitterBuffer(JitterParams(rate=RATE, **kw))  # type: ignore[arg-type]


def test_waits_for_the_startup_buffer_then_plays_in_order() -> None:
    b = jb(prebuffer_ms=80)
    b.push(np.arange(1, 51, dtype=np.int16))  # 50 ms < 80 ms
    out = b.pull(10)
    assert not out.any() and b.state is PlayState.BUFFERING and b.played == 0
    b.push(np.arange(51, 101, dtype=np.int16))  # now 100 ms queued
    out = b.pull(30)
    assert out.tolist() == list(range(1, 31))
    assert b.state is PlayState.PLAYING and b.played == 30 and b.queued == 70


def test_a_full_first_chunk_still_waits_the_minimum() -> None:
    """A sender pacing at exactly real time: starting at once would leave no margin."""
    b = jb(prebuffer_ms=60, min_wait_ms=30)
    b.push(tone(80))  # one 80 ms chunk: more than the start-up buffer
    assert not b.pull(10).any() and not b.pull(10).any() and not b.pull(10).any()
    assert b.pull(10).tolist() == [100] * 10  # after 30 ms
    # the next chunk arriving 80 ms after the first finds 30 ms still queued
    b.pull(40)
    b.push(tone(80))
    assert b.queued == 110 and b.underruns == 0


def test_a_short_stream_starts_after_waiting_as_long_as_the_buffer() -> None:
    b = jb(prebuffer_ms=80)
    b.push(tone(20))
    for _ in range(8):  # 80 ms of waiting
        assert b.pull(10).sum() == 0
    assert b.pull(10).tolist() == [100] * 10


def test_end_plays_the_rest_without_waiting_and_is_no_underrun() -> None:
    b = jb(prebuffer_ms=80)
    b.push(tone(30))
    b.end()
    assert b.pull(40).tolist() == [100] * 30 + [0] * 10
    assert b.state is PlayState.IDLE and b.underruns == 0
    b.push(tone(100))  # a new stream
    assert b.streams == 2 and b.underruns == 0


def test_a_gap_inside_a_stream_is_an_underrun_and_grows_the_buffer() -> None:
    b = jb(prebuffer_ms=40, grow=1.5, gap_ms=1000)
    b.push(tone(40))
    assert b.pull(40).tolist() == [100] * 40
    gap = b.pull(30)  # the network is late: silence is played through the gap
    assert not gap.any() and b.state is PlayState.DRAINED
    assert b.underruns == 0  # not yet known: it could be the end of the stream
    b.push(tone(100, 7))
    assert b.underruns == 1 and b.underrun_samples == 30
    assert b.target == 60  # 40 ms x 1.5
    assert b.state is PlayState.BUFFERING
    assert b.pull(60).tolist() == [7] * 60
    assert b.silence == 30


def test_a_long_dry_spell_is_the_end_of_the_stream() -> None:
    b = jb(prebuffer_ms=0, gap_ms=100)
    b.push(tone(10))
    b.pull(10)
    for _ in range(11):
        b.pull(10)
    assert b.state is PlayState.IDLE
    b.push(tone(10))
    assert b.underruns == 0 and b.streams == 2


def test_clear_drops_everything_at_once_and_keeps_the_played_position() -> None:
    b = jb(prebuffer_ms=0)
    b.push(tone(1000))
    b.pull(250)
    assert b.clear() == 750
    assert b.queued == 0 and b.cleared == 750 and b.state is PlayState.IDLE
    assert b.stream_played == 250  # where the model was cut off
    assert not b.pull(50).any()  # nothing of the old stream is left
    assert b.underruns == 0
    b.push(tone(20, 9))
    assert b.pull(20).tolist() == [9] * 20 and b.stream_played == 20 and b.played == 270


def test_clear_while_playing_fades_out_instead_of_clicking() -> None:
    b = jb(prebuffer_ms=0, fade_ms=4)
    b.push(tone(100, 1000))
    b.pull(10)
    assert b.clear() == 86  # 90 queued: 4 kept for the fade
    assert b.pull(6).tolist() == [750, 500, 250, 0, 0, 0]
    assert b.state is PlayState.IDLE and b.underruns == 0
    b.push(tone(10))
    assert b.streams == 2


def test_bounded_the_oldest_audio_is_dropped_and_counted() -> None:
    b = jb(prebuffer_ms=0, capacity_s=0.1)  # 100 samples
    b.push(np.arange(0, 80, dtype=np.int16))
    b.push(np.arange(80, 160, dtype=np.int16))
    assert b.queued == 100 and b.overflow == 60
    assert b.pull(100).tolist() == list(range(60, 160))


def test_partial_blocks_and_many_small_chunks_keep_every_sample() -> None:
    b = jb(prebuffer_ms=0)
    data = np.arange(1000, dtype=np.int16)
    for i in range(0, 1000, 7):
        b.push(data[i : i + 7])
    out = np.concatenate([b.pull(33) for _ in range(31)])
    assert out[:1000].tolist() == data.tolist()
    assert b.played == 1000


def test_clean_streams_relax_the_grown_buffer_back_towards_the_base() -> None:
    b = jb(prebuffer_ms=40, grow=2.0, gap_ms=50)
    b.push(tone(40))
    b.pull(50)
    b.push(tone(40))  # underrun: target 80
    assert b.target == 80
    b.end()
    b.pull(200)
    b.push(tone(10))  # next stream after one with an underrun: no relaxing
    assert b.target == 80
    b.end()
    b.pull(200)
    b.push(tone(10))  # after a clean stream: 10 % back
    assert b.target == 72


def test_params_are_checked() -> None:
    with pytest.raises(ValueError):
        JitterParams(rate=0)
    with pytest.raises(ValueError):
        JitterParams(prebuffer_ms=100, max_prebuffer_ms=50)


def test_the_start_margin_grows_with_the_jitter_measured() -> None:
    """Chunks larger than the start-up buffer: only the margin protects against jitter."""
    b = jb(prebuffer_ms=20, min_wait_ms=10, close_ms=5, grow=1.5)
    b.push(tone(80))
    assert not b.pull(10).any()  # the margin: 10 ms
    b.pull(85)  # the next chunk is 5 ms late: the stream ran dry
    b.push(tone(80))
    assert b.underruns == 1 and b.stats()["start_margin_ms"] == 15


def test_a_near_miss_widens_the_margin_of_the_next_stream() -> None:
    b = jb(prebuffer_ms=20, min_wait_ms=10, close_ms=5)
    b.push(tone(80))
    b.pull(10)
    b.pull(78)
    b.push(tone(40))  # arrived with 2 ms queued: 3 ms short of close_ms
    b.end()
    b.pull(200)
    b.push(tone(80))
    assert b.underruns == 0 and b.stats()["start_margin_ms"] == 13


# -- a writer that fills a device buffer ahead (SpeakerSink): time by advance, audio by take
def test_a_writer_waits_in_real_time_then_takes_audio_without_padding() -> None:
    b = jb(prebuffer_ms=20, min_wait_ms=20)
    b.push(tone(80))
    assert b.state is PlayState.BUFFERING and b.wait_left == 20 and not b.ready(20)
    b.advance(15)
    assert b.state is PlayState.BUFFERING and b.wait_left == 5
    b.advance(5)
    assert b.state is PlayState.PLAYING and b.ready(20)
    out = np.zeros(50, dtype=np.int16)
    assert b.take(out) == 50 and b.take(out) == 30  # never padded with silence
    assert b.state is PlayState.PLAYING and b.played == 80 and b.silence == 0
    assert not b.ready(20)  # nothing queued and the stream goes on: not ready


def test_a_writer_that_starves_counts_the_gap_as_an_underrun() -> None:
    b = jb(prebuffer_ms=20, gap_ms=500)
    b.push(tone(30))
    b.advance(20)
    b.take(np.zeros(30, dtype=np.int16))
    b.starve()  # the device is about to run dry with nothing queued
    assert b.state is PlayState.DRAINED and b.wait_left == 500
    b.advance(40)
    b.push(tone(30))  # late: an underrun of the 40 ms the device went without
    assert b.underruns == 1 and b.underrun_samples == 40
    assert b.state is PlayState.BUFFERING


def test_a_dry_spell_ends_the_stream_for_a_writer_too() -> None:
    b = jb(prebuffer_ms=10, gap_ms=100)
    b.push(tone(10))
    b.advance(10)
    b.take(np.zeros(10, dtype=np.int16))
    b.starve()
    b.advance(101)
    assert b.state is PlayState.IDLE and b.underruns == 0


def test_an_ended_stream_goes_idle_once_taken() -> None:
    b = jb(prebuffer_ms=50)
    b.push(tone(30))
    b.end()
    assert b.wait_left == 0 and not b.ready(40)  # still BUFFERING until told the time
    b.advance(0)
    assert b.ready(40)  # its last samples
    assert b.take(np.zeros(40, dtype=np.int16)) == 30 and b.state is PlayState.IDLE


def test_audio_the_device_still_holds_is_part_of_the_margin() -> None:
    """A chunk that finds the jitter buffer empty but 30 ms in the device is no near miss."""
    b = jb(prebuffer_ms=10, close_ms=5)
    b.push(tone(20))
    b.advance(10)
    b.take(np.zeros(20, dtype=np.int16))
    b.push(tone(20), ahead=30)
    assert b._low == 30  # noqa: SLF001 - the margin the chunk came with


def test_pause_holds_playback_and_resume_plays_on_from_the_same_sample() -> None:
    """A possible barge-in: nothing plays while paused (no underrun, no end of stream), what
    arrives meanwhile is kept, and resume plays every sample in order."""
    b = jb(prebuffer_ms=0, gap_ms=50)
    b.push(np.arange(1, 41, dtype=np.int16))
    assert b.pull(10).tolist() == list(range(1, 11))
    b.pause()
    for _ in range(20):  # 200 ms paused: longer than gap_ms
        assert not b.pull(10).any()
    b.push(np.arange(41, 81, dtype=np.int16))
    b.starve()
    b.advance(100)
    assert b.state is PlayState.PLAYING and b.underruns == 0
    b.resume()
    assert b.pull(70).tolist() == list(range(11, 81))
    assert b.played == 80 and b.underruns == 0


def test_a_writer_takes_nothing_while_paused_and_clear_ends_the_pause() -> None:
    b = jb(prebuffer_ms=0)
    b.push(tone(30))
    b.advance(0)  # BUFFERING -> PLAYING
    out = np.zeros(10, dtype=np.int16)
    assert b.take(out) == 10
    b.pause()
    assert b.take(out) == 0 and b.queued == 20
    b.clear()
    assert not b.paused and b.queued == 0
