"""Everything a session can check before it prints anything: the model and its features,
the key, the pictures and the display to share. Problems found later (a device that will
not open, a server that refuses) come after the banner; these must not."""

from __future__ import annotations

from voicecli.config import Settings
from voicecli.live import capabilities
from voicecli.session.spec import SessionSpec


def preflight(settings: Settings, spec: SessionSpec) -> None:
    """Raise the first problem that needs no connection and no device to find."""
    caps = capabilities.lookup(settings.model, "vertex" if settings.vertex else "developer")
    capabilities.resolve(
        caps, proactive=settings.proactive, affective=settings.affective, thinking=settings.thinking
    )
    if not spec.sim and spec.connect is None:
        from voicecli.live.transport import require_key

        require_key(settings, spec.kind)
    if spec.share is not None:
        _check_share(spec)


def _check_share(spec: SessionSpec) -> None:
    share = spec.share
    assert share is not None
    from voicecli.video.sources import ImageFileSource, ScreenSource

    for path in share.images:
        ImageFileSource(path).open()
    if share.screen is not None:  # opening it is cheap and says what is wrong (no display)
        screen = ScreenSource(share.screen, share.screen_region, share.screen_window)
        try:
            screen.open()
        finally:
            screen.close()
