"""How sharing plugs into a conversation (the one place ``talk`` calls).

``open_media`` opens what the spec names before anything connects; ``attach`` ties the
running ``Media`` to the conversation (its transport, its observers, its idea of when the
model is busy) and makes it reachable for ``/look`` and ``/unshare`` as ``conv.media``;
``fill_summary`` copies the counters into the session summary (history, JSON lines, /stats).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from voicecli.config import Settings
from voicecli.live import events as ev
from voicecli.video.share import Media, SyncedSource
from voicecli.video.spec import ShareSpec

VIDEO_LIMIT_NOTE = (
    "context compression is off: a session with video ends after about 2 minutes "
    "(context_compression = true lifts the limit)"
)


@contextlib.asynccontextmanager
async def opened(spec: ShareSpec | None, *, in_step: bool) -> AsyncIterator[Media]:
    """The sources the spec names, open (closed on the way out). ``in_step``: the audio
    comes from a file, so a --video file follows its position. With nothing to share the
    Media is idle (``/look`` can still send one picture)."""
    media = Media(spec or ShareSpec())
    await media.open(synced_video=in_step)
    try:
        yield media
    finally:
        await media.aclose()


def wrap_source(source: Any, media: Media | None) -> Any:
    if media is None or not media.synced:
        return source
    return SyncedSource(source, media)


def attach(media: Media, conv: Any, transport: Any, settings: Settings) -> None:
    def notify(event: object) -> None:
        conv.notify(event, conv.rel())

    def busy() -> bool:  # a reply is due or under way: context now would interrupt it
        return bool(conv.book.awaiting_reply)

    media.attach(transport, notify, busy)
    conv.media = media
    conv.observers.append(MediaObserver(media))
    if media.spec.pictures and not settings.context_compression:
        notify(ev.Notice(VIDEO_LIMIT_NOTE, "warning"))


class MediaObserver:
    """Session events the sharing reacts to: the user starting to speak or type (look
    now), a new session after a reconnect (send the pictures again)."""

    def __init__(self, media: Media) -> None:
        self.media = media

    def on_event(self, event: object, t: float) -> None:
        if isinstance(event, ev.UserSpeechStarted | ev.UserText):
            self.media.user_active()
        elif isinstance(event, ev.Reconnect) and event.phase == "new_session":
            self.media.new_session()


def fill_summary(media: Media, summary: Any) -> None:
    summary.frames_sent = media.frames_sent
    summary.frames_unchanged = media.frames_unchanged
    summary.video_bytes = media.video_bytes
    summary.images_sent = media.images_sent
    summary.watched_lines = media.watched_lines
