"""Benchmark screen sharing: CPU and bytes per minute at 1 fps, change-detection cost.

    python bench/bench_video.py [--seconds 20] [--size 1920x1080]

A private Xvfb display shows a desktop-like picture (panels, text lines) in a full-screen
window; the window either stays as it is (a static screen) or scrolls a panel of text every
0.5 s (a changing screen: a terminal panel scrolling test output). voicecli's screen sharing (``voicecli.video.share.Media`` with
``--screen 1 --fps 1``: grab with mss, compare a 1/16 sample with the last picture sent,
encode changed pictures as JPEG, long side 1024) runs for ``--seconds`` on each, beside a
naive baseline in the same run that encodes and sends every frame. Sent pictures go to a
counting transport (the wire cost is the bytes counted; the real SDK adds a base64 copy).
CPU is this process's ``time.process_time`` (all its threads), scaled to one minute; the
Xvfb server and the window are other processes and not counted.

Change detection per frame: ``ChangeDetector.changed`` on a full-size frame, against a naive
comparison of every pixel (``np.array_equal`` of the whole frame and its copy).

Needs Xvfb and python3-tk (``make testdeps``); stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from voicecli.live.messages import VideoIn  # noqa: E402
from voicecli.video.frames import ChangeDetector, Picture  # noqa: E402
from voicecli.video.share import Media  # noqa: E402
from voicecli.video.spec import build_spec  # noqa: E402

DESKTOP = r"""
import sys, threading, tkinter
from PIL import Image, ImageDraw, ImageTk
W, H, change = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "change"
root = tkinter.Tk()
root.geometry(f"{W}x{H}+0+0")
label = tkinter.Label(root, borderwidth=0)
label.pack()
def desktop(k):
    img = Image.new("RGB", (W, H), (40, 44, 52))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, W, 28], fill=(30, 30, 30))
    d.rectangle([40, 60, W // 2 - 20, H - 40], fill=(250, 250, 250))
    d.rectangle([W // 2, 60, W - 40, H - 40], fill=(20, 20, 20))
    for i in range(40):
        d.text((60, 80 + i * 22), f"def function_{i}(x): return x * {i}  # line {i}", fill=(0, 0, 0))
        n = i + k  # the terminal panel scrolls: one new line of output per step
        d.text((W // 2 + 20, 80 + i * 22), f"$ tests/test_{n}.py::test_case_{n * 7 % 100} PASSED", fill=(0, 220, 0))
    return ImageTk.PhotoImage(img)
state = {"k": 0, "photo": desktop(0)}
label.configure(image=state["photo"])
def tick():
    state["k"] += 1
    state["photo"] = desktop(state["k"])
    label.configure(image=state["photo"])
    root.after(500, tick)
if change:
    root.after(500, tick)
threading.Thread(target=lambda: (sys.stdin.read(), root.after(0, root.destroy)), daemon=True).start()
root.after(300, lambda: print("ready", flush=True))
root.mainloop()
"""


class CountingTransport:
    def __init__(self) -> None:
        self.pictures = 0
        self.bytes = 0

    async def send(self, msg: object) -> None:
        if isinstance(msg, VideoIn):
            self.pictures += 1
            self.bytes += len(msg.data)


class AlwaysChanged(ChangeDetector):
    """The naive baseline: every frame counts as new (sent every second)."""

    def changed(self, picture: Picture) -> bool:
        return True


def start_desktop(display: str, w: int, h: int, mode: str) -> object:
    import subprocess

    proc = subprocess.Popen(
        [sys.executable, "-c", DESKTOP, str(w), str(h), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "DISPLAY": display},
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise SystemExit("the desktop window did not start (python3-tk installed?)")
    time.sleep(0.5)
    return proc


async def share_for(seconds: float, naive: bool) -> tuple[float, CountingTransport, Media]:
    media = Media(build_spec(screen="1", fps=1.0))
    await media.open()
    if naive:
        for stream in media.streams:
            stream.detector = AlwaysChanged()
    transport = CountingTransport()
    media.attach(transport, lambda e: None, lambda: False)
    cpu0 = time.process_time()
    async with media.running():
        await asyncio.sleep(seconds)
    return time.process_time() - cpu0, transport, media


def detection_cost(w: int, h: int, n: int = 300) -> tuple[float, float]:
    """Seconds per frame: (unchanged frame, changed frame, naive full compare)."""
    rng = np.random.default_rng(0)
    raw = bytearray(rng.integers(0, 255, h * w * 4, dtype=np.uint8).tobytes())
    same = Picture.from_buffer(bytearray(raw), w, h, "BGRX")
    det = ChangeDetector()
    det.changed(Picture.from_buffer(raw, w, h, "BGRX"))
    t0 = time.perf_counter()
    for _ in range(n):
        det.changed(same)
    unchanged = (time.perf_counter() - t0) / n
    other = bytearray(raw)
    other[1000:1400] = bytes(400)  # a few pixels differ: the thumbnail step runs
    moved = Picture.from_buffer(other, w, h, "BGRX")
    t0 = time.perf_counter()
    for _ in range(n // 10):
        det.changed(moved)
    changed = (time.perf_counter() - t0) / (n // 10)
    a = np.frombuffer(raw, np.uint8).reshape(h, w, 4)
    b = a.copy()
    t0 = time.perf_counter()
    for _ in range(n // 10):
        np.array_equal(a[:, :, :3], b[:, :, :3])
    naive = (time.perf_counter() - t0) / (n // 10)
    return unchanged, changed, naive


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--size", default="1920x1080")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    if shutil.which("Xvfb") is None:
        raise SystemExit("Xvfb is not installed (make testdeps)")
    from video_helpers import xvfb

    scale = 60.0 / args.seconds
    print(f"screen {w}x{h}, 1 fps, {args.seconds:.0f} s per run, figures per minute")
    print(
        f"{'screen':<9} {'sharing':<22} {'CPU s/min':>10} {'% core':>7} {'pictures':>9} {'KB/min':>8}"
    )
    with xvfb(w, h) as display:
        os.environ["DISPLAY"] = display
        for mode in ("static", "change"):
            proc = start_desktop(display, w, h, mode)
            try:
                for naive in (False, True):
                    cpu, tr, media = asyncio.run(share_for(args.seconds, naive))
                    name = "naive: every frame" if naive else "voicecli (changes only)"
                    print(
                        f"{mode:<9} {name:<22} {cpu * scale:>10.3f} {cpu / args.seconds * 100:>6.2f}% "
                        f"{tr.pictures * scale:>9.0f} {tr.bytes * scale / 1024:>8.0f}"
                    )
            finally:
                proc.stdin.close()  # type: ignore[attr-defined]
                proc.wait(5)  # type: ignore[attr-defined]
    runs = [detection_cost(w, h) for _ in range(3)]
    same, moved, naive = (statistics.median(r[k] for r in runs) for k in range(3))
    print(
        f"change detection per {w}x{h} frame: unchanged {same * 1e6:.0f} us, "
        f"changed (thumbnail step) {moved * 1e6:.0f} us; "
        f"naive compare of every RGB value: {naive * 1e6:.0f} us"
    )


if __name__ == "__main__":
    main()
