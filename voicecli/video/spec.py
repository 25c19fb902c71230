"""What the user asked to share (flags and config), checked before anything is opened."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from voicecli.errors import UsageError
from voicecli.video.frames import ChangeParams
from voicecli.video.sources import Region
from voicecli.video.watch import WatchParams, parse_command

MEDIA_RESOLUTIONS = ("low", "medium", "high")
MAX_FPS = 5.0


@dataclass
class ShareSpec:
    screen: int | None = None  # monitor (1 = first, 0 = all); None: no screen
    screen_region: Region | None = None
    screen_window: str | None = None  # a window title (X11, xdotool)
    camera: str | None = None  # index or device path
    video: Path | None = None
    images: list[Path] = field(default_factory=list)
    fps: float = 1.0
    long_side: int = 1024
    jpeg_quality: int = 80
    watch: list[str] | None = None  # argv
    watch_file: Path | None = None
    record_video: Path | None = None  # a zip of every picture sent; None: no frames kept
    change: ChangeParams = field(default_factory=ChangeParams)
    watch_params: WatchParams = field(default_factory=WatchParams)

    @property
    def pictures(self) -> bool:
        """Pictures will be sent (which shortens sessions without context compression)."""
        return bool(
            self.screen is not None
            or self.screen_window
            or self.camera is not None
            or self.video
            or self.images
        )

    @property
    def anything(self) -> bool:
        return self.pictures or self.watch is not None or self.watch_file is not None


def build_spec(
    *,
    screen: str | None = None,
    screen_region: str | None = None,
    screen_window: str | None = None,
    camera: str | None = None,
    video: Path | None = None,
    images: list[Path] | None = None,
    fps: float | None = None,
    long_side: int | None = None,
    watch: str | None = None,
    watch_file: Path | None = None,
    record_video: Path | None = None,
) -> ShareSpec:
    """The spec from CLI values; one clear UsageError for anything impossible."""
    monitor: int | None = None
    if screen is not None:
        try:
            monitor = int(screen)
        except ValueError:
            raise UsageError(
                f"--screen takes a monitor number, not {screen!r}",
                "--screen (first monitor), --screen 2, --screen 0 (all monitors)",
            ) from None
    elif screen_region or screen_window:
        monitor = 1
    if screen_region and screen_window:
        raise UsageError("--screen-region and --screen-window cannot be combined")
    if fps is not None and not 0 < fps <= MAX_FPS:
        raise UsageError(f"--fps must be above 0 and at most {MAX_FPS:g}", "default: 1")
    if long_side is not None and not 64 <= long_side <= 4096:
        raise UsageError("--max-size must be between 64 and 4096 pixels", "default: 1024")
    for path in [*(images or []), *([video] if video else [])]:
        if not path.is_file():
            raise UsageError(f"{path} not found", "check the path")
    if record_video is not None:
        if record_video.exists():
            raise UsageError(
                f"{record_video} exists; voicecli does not overwrite it", "choose a new file name"
            )
        parent = record_video.parent if str(record_video.parent) else Path(".")
        if not parent.is_dir():
            raise UsageError(f"cannot write {record_video}: folder {parent} does not exist")
    spec = ShareSpec(
        screen=monitor,
        screen_region=Region.parse(screen_region) if screen_region else None,
        screen_window=screen_window,
        camera=camera,
        video=video,
        images=list(images or []),
        fps=fps or 1.0,
        long_side=long_side or 1024,
        watch=parse_command(watch) if watch is not None else None,
        watch_file=watch_file,
        record_video=record_video,
    )
    if record_video is not None and not spec.pictures:
        raise UsageError("--record-video needs something to share (--screen, --camera, ...)")
    return spec
