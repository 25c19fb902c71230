"""Sharing with the model during a session: picture streams, one-off pictures, watches.

``Media`` is built from a ``ShareSpec``, opened before connecting (so a missing screen or
camera fails fast), attached to the conversation's transport, and run beside the
conversation. Each picture source lives on its own worker thread, where it is grabbed,
compared with the last picture sent, encoded and recorded; only changed pictures reach the
loop and the wire, at ``fps`` at most. A video file given with a scripted audio input is
driven by the audio position (``SyncedSource``), so its frames go out in step with the
speech, whatever the pacing. Watched output goes as context between the model's turns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
import threading
import time
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from voicecli.errors import VoicecliError
from voicecli.live import events as ev
from voicecli.live import messages as m
from voicecli.video.events import Sharing, WatchExit
from voicecli.video.frames import JPEG_MIME, ChangeDetector, encode_jpeg
from voicecli.video.sources import (
    CameraSource,
    ImageFileSource,
    PictureSource,
    ScreenSource,
    VideoFileSource,
)
from voicecli.video.spec import ShareSpec
from voicecli.video.watch import Batcher, FileFollower, run_command

log = logging.getLogger(__name__)

_ENDED = object()  # a source that has nothing more (a video file at its end)


class MediaTransport(Protocol):
    async def send(self, msg: m.ClientMessage) -> None: ...


class FrameRecorder:
    """``--record-video``: every picture sent, as JPEG files in a zip named by time and
    source. Written from the worker threads (never on the event loop)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip = zipfile.ZipFile(path, "x", compression=zipfile.ZIP_STORED)
        self._n = 0
        self._lock = threading.Lock()

    def add(self, jpeg: bytes, t: float, name: str) -> None:
        with self._lock:
            self._n += 1
            safe = "".join(c if c.isalnum() else "-" for c in name).strip("-")
            self._zip.writestr(f"{self._n:06d}_{t:09.3f}s_{safe}.jpg", jpeg)

    def close(self) -> None:
        with self._lock:
            self._zip.close()


class Stream:
    """One picture source on its own thread: grab, compare, encode, record."""

    def __init__(self, source: PictureSource, spec: ShareSpec, recorder: FrameRecorder | None):
        self.source = source
        self.spec = spec
        self.recorder = recorder
        self.detector = ChangeDetector(spec.change)
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="voicecli-video")
        self.period = 1.0 / spec.fps
        self.unchanged_streak = 0  # looks in a row that found nothing new
        self.poke = asyncio.Event()  # look now (the user started speaking or typing)
        self.next_t = 0.0
        self.ended = False
        self.task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self.executor, self.source.open)

    async def shot(self, t: float, force: bool = False) -> Any:
        """JPEG bytes when the picture changed (or ``force``), None when it did not,
        ``_ENDED`` when the source has nothing more."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self._shot, t, force)

    def _shot(self, t: float, force: bool) -> Any:
        picture = self.source.grab(t)
        if picture is None:
            return _ENDED
        if force:
            self.detector.reset()
        if not self.detector.changed(picture):
            return None
        jpeg = encode_jpeg(picture, self.spec.long_side, self.spec.jpeg_quality)
        if self.recorder is not None:
            self.recorder.add(jpeg, t, self.source.name)
        return jpeg

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(Exception):
            await loop.run_in_executor(self.executor, self.source.close)
        self.executor.shutdown(wait=False)


class Media:
    def __init__(self, spec: ShareSpec) -> None:
        self.spec = spec
        self.recorder = FrameRecorder(spec.record_video) if spec.record_video else None
        self.streams: list[Stream] = []
        self.synced: list[Stream] = []  # driven by the audio position (advance)
        self.frames_sent = 0
        self.frames_unchanged = 0
        self.video_bytes = 0
        self.images_sent = 0
        self.watched_lines = 0
        self.watched_dropped = 0
        self.watch_exits: list[int] = []
        self._shared: dict[str, asyncio.Task[Any] | None] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._transport: MediaTransport | None = None
        self._notify: Callable[[object], None] = lambda e: None
        self._busy: Callable[[], bool] = lambda: False
        self._t0 = time.monotonic()
        self._send_lock = asyncio.Lock()

    # ------------------------------------------------------------------ set-up
    async def open(self, synced_video: bool = False) -> None:
        """Open every source the spec names (errors here stop the run before connecting)."""
        s = self.spec
        sources: list[tuple[PictureSource, bool]] = []
        if s.screen is not None:
            sources.append((ScreenSource(s.screen, s.screen_region, s.screen_window), False))
        if s.camera is not None:
            sources.append((CameraSource(s.camera), False))
        if s.video is not None:
            sources.append((VideoFileSource(s.video), synced_video))
        try:
            for source, synced in sources:
                stream = Stream(source, s, self.recorder)
                (self.synced if synced else self.streams).append(stream)
                await stream.open()
            for path in s.images:  # read now: an unreadable image is an error up front
                ImageFileSource(path).open()
        except BaseException:
            await self.aclose()
            raise

    def attach(
        self,
        transport: MediaTransport,
        notify: Callable[[object], None],
        busy: Callable[[], bool],
    ) -> None:
        """``busy()``: the model is answering or about to (context would interrupt it)."""
        self._transport, self._notify, self._busy = transport, notify, busy

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Media]:
        """Start sharing what the spec asks for; everything stops on the way out."""
        self._t0 = time.monotonic()
        try:
            for path in self.spec.images:
                await self.send_image(path)
            for stream in self.streams:
                self._start(stream.source.name, self._stream_loop(stream))
            for stream in self.synced:
                self._shared[stream.source.name] = None
            if self.spec.watch is not None:
                argv = self.spec.watch
                self._start(f"watch `{shlex.join(argv)}`", self._watch_command(argv))
            if self.spec.watch_file is not None:
                path = self.spec.watch_file
                self._start(f"watch {path}", self._watch_file(path))
            self._status()
            yield self
        finally:
            await self.unshare(quiet=True)
            await self.aclose()

    def _start(self, name: str, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        self._shared[name] = task

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if self._shared.get(name) is t:
                del self._shared[name]
                self._status()
            if not t.cancelled() and t.exception() is not None:
                e = t.exception()
                msg = e.one_line() if isinstance(e, VoicecliError) else str(e)
                self._notify(ev.Notice(f"stopped sharing {name}: {msg}", "warning"))

        task.add_done_callback(done)

    async def aclose(self) -> None:
        for stream in [*self.streams, *self.synced]:
            await stream.close()
        self.streams, self.synced = [], []
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None

    # ------------------------------------------------------------------ pictures
    def rel(self) -> float:
        return time.monotonic() - self._t0

    async def _stream_loop(self, stream: Stream) -> None:
        """Live sources by the wall clock: one look per period, only changes are sent. A
        picture that stays the same is looked at less often (up to every ``IDLE_LOOK_S``),
        and at once when the user starts to speak or type, so a question is always asked
        about the current picture."""
        next_at = time.monotonic()
        while True:
            if not await self._look(stream, self.rel()):
                return
            next_at += look_interval(stream.period, stream.unchanged_streak)
            now = time.monotonic()
            if next_at < now:  # fell behind (a slow grab): skip, never burst
                next_at = now + stream.period
            stream.poke.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(next_at - now):
                    await stream.poke.wait()
                next_at = time.monotonic()

    def user_active(self) -> None:
        """The user started speaking or typing: every live stream looks now."""
        for stream in self.streams:
            stream.poke.set()

    def new_session(self) -> None:
        """The server started a new session (nothing resumed): what it had seen is gone,
        so the current pictures and the images are sent again."""
        for stream in [*self.streams, *self.synced]:
            stream.detector.reset()
            stream.poke.set()
        if self.spec.images and self._transport is not None:
            task = asyncio.ensure_future(self._resend_images())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _resend_images(self) -> None:
        for path in self.spec.images:
            await self.send_image(path)

    async def advance(self, t: float) -> None:
        """Audio position ``t`` (seconds) reached: send the synced frames due by then."""
        for stream in self.synced:
            while not stream.ended and stream.next_t <= t:
                if not await self._look(stream, stream.next_t):
                    stream.ended = True
                    self._shared.pop(stream.source.name, None)
                    self._status()
                stream.next_t += stream.period

    async def _look(
        self, stream: Stream, t: float, force: bool = False, one_off: bool = False
    ) -> bool:
        """One look at a stream; False when it has ended. ``one_off``: /look, counted as
        an image sent, not a stream frame."""
        got = await stream.shot(t, force)
        if got is _ENDED:
            self._notify(ev.Notice(f"{stream.source.name} ended"))
            return False
        if got is None:
            self.frames_unchanged += 1
            stream.unchanged_streak += 1
            return True
        stream.unchanged_streak = 0
        await self._send_picture(got)
        if one_off:
            self.images_sent += 1
        else:
            self.frames_sent += 1
        self._status()
        return True

    async def _send_picture(self, jpeg: bytes) -> None:
        assert self._transport is not None
        self.video_bytes += len(jpeg)
        await self._transport.send(m.VideoIn(jpeg, JPEG_MIME))

    async def send_image(self, path: Path) -> None:
        loop = asyncio.get_running_loop()
        src = ImageFileSource(path)

        def encode() -> bytes:
            src.open()
            picture = src.grab(0.0)
            assert picture is not None
            jpeg = encode_jpeg(picture, self.spec.long_side, self.spec.jpeg_quality)
            if self.recorder is not None:
                self.recorder.add(jpeg, self.rel(), src.name)
            return jpeg

        jpeg = await loop.run_in_executor(None, encode)
        await self._send_picture(jpeg)
        self.images_sent += 1
        self._notify(ev.Notice(f"sent {src.name} ({len(jpeg) // 1024} KB)"))
        self._status()

    async def look(self, what: str) -> str:
        """``/look [screen|camera|FILE]``: one picture now, changed or not."""
        what = what.strip() or (
            "camera" if self._has("camera") and not self._has("screen") else "screen"
        )
        if what in ("screen", "camera"):
            stream = next((s for s in self.streams if s.source.name.startswith(what)), None)
            if stream is not None:
                await self._look(stream, self.rel(), force=True, one_off=True)
                return f"sent the {what} now"
            source: PictureSource = ScreenSource() if what == "screen" else CameraSource()
            stream = Stream(source, self.spec, self.recorder)
            try:
                await stream.open()
                await self._look(stream, self.rel(), force=True, one_off=True)
            finally:
                await stream.close()
            return f"sent one picture of the {what}"
        path = Path(what)  # as typed, relative to the current folder
        await self.send_image(path)
        return f"sent {path.name}"

    def _has(self, prefix: str) -> bool:
        return any(s.source.name.startswith(prefix) for s in self.streams)

    # ------------------------------------------------------------------ watching
    async def _flush(self, batcher: Batcher, label: str, final: bool = False) -> None:
        """Send what the batcher has, between the model's turns, until it is empty
        (``final``) or forever."""
        assert self._transport is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10.0
        while not final or (batcher.pending and loop.time() < deadline):
            await asyncio.sleep(0.2)
            if self._busy():
                continue
            got = batcher.take(loop.time())
            if got is None:
                continue
            text, lines = got
            async with self._send_lock:
                await self._transport.send(m.ContextIn(f"[new output of {label}]\n{text}"))
            self.watched_lines += lines
            self.watched_dropped = batcher.lines_dropped
            self._status()

    async def _watch_command(self, argv: list[str]) -> None:
        label = f"`{shlex.join(argv)}`"
        batcher = Batcher(self.spec.watch_params)
        flusher = asyncio.ensure_future(self._flush(batcher, label))
        try:
            status = await run_command(argv, batcher.add)
        finally:
            flusher.cancel()
        await self._flush(batcher, label, final=True)
        self.watch_exits.append(status)
        how = f"exited with status {status}" if status >= 0 else f"was killed by signal {-status}"
        self._notify(WatchExit(shlex.join(argv), status, t=time.monotonic()))
        self._notify(ev.Notice(f"{label} {how}", "info" if status == 0 else "warning"))
        await self._when_idle()
        assert self._transport is not None
        async with self._send_lock:  # a short turn: a proactive model may speak up
            await self._transport.send(m.TextIn(f"[the watched command {label} {how}]"))

    async def _watch_file(self, path: Path) -> None:
        label = str(path)
        batcher = Batcher(self.spec.watch_params)
        follower = FileFollower(path, self.spec.watch_params.tail_lines)
        flusher = asyncio.ensure_future(self._flush(batcher, label))
        try:
            while True:
                for line in await asyncio.to_thread(follower.poll):
                    batcher.add(line)
                await asyncio.sleep(self.spec.watch_params.poll_s)
        finally:
            flusher.cancel()
            follower.close()

    async def _when_idle(self, limit_s: float = 30.0) -> None:
        end = time.monotonic() + limit_s
        while self._busy() and time.monotonic() < end:  # noqa: ASYNC110 (a polled predicate)
            await asyncio.sleep(0.2)

    # ------------------------------------------------------------------ control
    async def unshare(self, quiet: bool = False) -> None:
        """Stop every stream and watch (``/unshare``); nothing more is sent."""
        tasks = [t for t in self._shared.values() if t is not None]
        had = bool(self._shared)
        self._shared.clear()
        for stream in self.synced:
            stream.ended = True
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if had and not quiet:
            self._notify(ev.Notice("stopped sharing"))
        if had:
            self._status()

    @property
    def shared(self) -> tuple[str, ...]:
        return tuple(self._shared)

    def snapshot(self) -> Sharing:
        return Sharing(
            shared=self.shared,
            frames_sent=self.frames_sent,
            frames_unchanged=self.frames_unchanged,
            video_bytes=self.video_bytes,
            images_sent=self.images_sent,
            watched_lines=self.watched_lines,
            t=time.monotonic(),
        )

    def _status(self) -> None:
        self._notify(self.snapshot())


IDLE_LOOK_S = 3.0  # the longest gap between looks at a picture that does not change


def look_interval(period: float, unchanged_streak: int) -> float:
    """1x the period while things change; 2x after 5 unchanged looks, 3x after 10, and
    never more than ``IDLE_LOOK_S`` (nor less than the period)."""
    factor = 1 + min(2, unchanged_streak // 5)
    return max(period, min(period * factor, IDLE_LOOK_S))


class SyncedSource:
    """An audio source that moves the synced video along: before each audio frame is
    handed on, the frames of the video due by that audio position are sent."""

    def __init__(self, source: Any, media: Media) -> None:
        self.source = source
        self.frame_ms = source.frame_ms
        self.media = media

    async def frames(self) -> AsyncIterator[bytes]:
        pos = 0.0
        async for frame in self.source.frames():
            await self.media.advance(pos)
            pos += len(frame) / 2 / 16000
            yield frame

    async def aclose(self) -> None:
        await self.source.aclose()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.source, name)
