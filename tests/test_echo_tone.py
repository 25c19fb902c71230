"""The tone residue remover behind ``--echo aec`` (pure, synthesized signals)."""

from __future__ import annotations

import numpy as np
import pytest
from test_echo_path import far_signal

from voicecli.audio.echo_path import PIECE
from voicecli.audio.echo_tone import ToneResidue


def tone(seconds: float, hz: float, amp: float = 9830.0) -> np.ndarray:
    return amp * np.sin(2 * np.pi * hz * np.arange(round(seconds * 16000)) / 16000)


def run(far: np.ndarray, near: np.ndarray) -> tuple[np.ndarray, ToneResidue]:
    tr = ToneResidue()
    out = []
    for k in range(0, len(far) - PIECE + 1, PIECE):
        tr.push_far(far[k : k + PIECE].astype("<i2").tobytes())
        piece = bytearray(near[k : k + PIECE].astype("<i2").tobytes())
        tr.clean(piece)
        out.append(np.frombuffer(bytes(piece), "<i2"))
    return np.concatenate(out).astype(np.float64), tr


def db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x * x) + 1e-9))


def echo_of(far: np.ndarray, delay: int = 640) -> np.ndarray:
    return np.concatenate([np.zeros(delay), far[:-delay]])


def test_each_new_tone_is_taken_out_from_its_first_pieces() -> None:
    # silence, a tone, silence, another tone: AEC3 lets each new tone's echo through
    gap = np.zeros(8000)
    far = np.concatenate([gap, tone(1.0, 440), gap, tone(1.0, 550), tone(0.5, 660)])
    near = echo_of(far) + np.random.default_rng(0).normal(0, 20, len(far))
    out, _ = run(far, near)
    for start in (8000, 32000, 48000):  # each tone's echo arrives 40 ms after the far end
        a = start + 640 + 3 * PIECE
        assert db(near[a : a + 8000]) - db(out[a : a + 8000]) > 40


def test_the_users_voice_survives_a_tone_echo() -> None:
    far = tone(2.0, 660)
    user = far_signal(2.0, seed=4)
    out, _ = run(far, echo_of(far) + user)
    a = 8000
    assert abs(db(out[a:]) - db(user[a:])) < 1.5  # what is left is the user


def test_speech_from_the_model_is_left_to_the_canceller() -> None:
    far = far_signal(2.0)
    near = echo_of(far)
    out, tr = run(far, near)
    assert tr.pieces == 0 and np.array_equal(out, near[: len(out)].astype("<i2"))


def test_a_steady_tone_is_fitted_once() -> None:
    # looked at every 50 ms, the tone's estimate moves by a fraction of a Hz: the basis and
    # its pseudo-inverse are kept, and the echo still goes
    far = tone(3.0, 523.3)
    near = echo_of(far)
    out, tr = run(far, near)
    assert tr.fits <= 2
    a = 8000
    assert db(near[a:]) - db(out[a:]) > 40


def test_speech_is_looked_at_seldom_and_a_tone_after_it_still_goes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # speech with 50 ms gaps between words: a gap is no new start (each look is an
    # 8192-point FFT; restarting the onset looks at every gap made ~27 a second)
    words = []
    for k in range(10):
        words += [far_signal(0.25, seed=k), np.zeros(800)]
    speech = np.concatenate(words)
    looks = 0
    look = ToneResidue._look

    def counted(self: ToneResidue) -> None:
        nonlocal looks
        looks += 1
        look(self)

    monkeypatch.setattr(ToneResidue, "_look", counted)
    _, tr = run(speech, echo_of(speech))
    assert looks <= 25  # 3 s of speech: 20 (restarted at each gap: 80)
    assert tr.pieces == 0  # and none of it was cleaned as a tone
    far = np.concatenate([speech, np.zeros(4000), tone(1.0, 440)])
    near = echo_of(far)
    out, _ = run(far, near)
    a = len(speech) + 4000 + 640 + 3 * PIECE  # the tone's echo, from its fourth piece
    assert db(near[a : a + 8000]) - db(out[a : a + 8000]) > 40
