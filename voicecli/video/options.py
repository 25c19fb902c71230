"""The sharing flags of ``talk`` and ``listen``, declared once (typer annotations)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from voicecli.commands.options import Opt

if TYPE_CHECKING:
    from voicecli.video.spec import ShareSpec

# Flags whose value may be left out, and what they then mean.
OPTIONAL_VALUES = {"--screen": "1", "--camera": "0"}


def fill_optional_values(args: list[str]) -> list[str]:
    """``--screen`` alone means ``--screen 1``, ``--camera`` alone ``--camera 0`` (click
    options need a value; this supplies it when the next word is another flag or none)."""
    out: list[str] = []
    for i, arg in enumerate(args):
        out.append(arg)
        if arg == "--":
            out.extend(args[i + 1 :])
            break
        if arg in OPTIONAL_VALUES and (i + 1 == len(args) or args[i + 1].startswith("-")):
            out.append(OPTIONAL_VALUES[arg])
    return out


SHARING = "Sharing"


def _opt(*decls: str, help: str, metavar: str = "", hidden: bool = False) -> Any:
    """Finer options are hidden from --help (kept short for new users) and in the README."""
    return typer.Option(*decls, help=help, rich_help_panel=SHARING, metavar=metavar, hidden=hidden)


ScreenOpt = Annotated[
    str | None,
    _opt("--screen", metavar="[MONITOR]", help="Share a monitor (1; 0 = all)."),
]
ScreenRegionOpt = Annotated[
    str | None,
    _opt("--screen-region", metavar="X,Y,W,H", help="Only this part.", hidden=True),
]
ScreenWindowOpt = Annotated[
    str | None, _opt("--screen-window", metavar="TITLE", help="Only this window.", hidden=True)
]
CameraOpt = Annotated[
    str | None,
    _opt("--camera", metavar="[DEVICE]", help="Share a webcam (index or path)."),
]
VideoOpt = Annotated[
    Path | None,
    _opt("--video", metavar="FILE", help="Share a video file's frames."),
]
ImageOpt = Annotated[
    list[Path] | None,
    _opt("--image", metavar="FILE", help="Send a picture first (repeatable)."),
]
FpsOpt = Annotated[
    float | None, _opt("--fps", metavar="N", help="Pictures per second.", hidden=True)
]
MaxSizeOpt = Annotated[
    int | None,
    _opt("--max-size", metavar="PX", help="Long side of pictures.", hidden=True),
]
ProactiveVideoOpt = Annotated[
    bool | None,
    _opt("--proactive-video", help="Model may speak up about new pictures.", hidden=True),
]
MediaResOpt = Annotated[
    str | None,
    _opt("--media-resolution", metavar="LEVEL", help="low|medium|high.", hidden=True),
]
WatchOpt = Annotated[
    str | None,
    _opt("--watch", metavar="CMD", help="Run CMD, share its output."),
]
WatchFileOpt = Annotated[
    Path | None,
    _opt("--watch-file", metavar="FILE", help="Share new lines (tail -F)."),
]
RecordVideoOpt = Annotated[
    Path | None,
    _opt("--record-video", metavar="FILE", help="Keep pictures sent (zip).", hidden=True),
]

SHARE_OPTS = (
    Opt("screen", ScreenOpt),
    Opt("screen_region", ScreenRegionOpt),
    Opt("screen_window", ScreenWindowOpt),
    Opt("camera", CameraOpt),
    Opt("video", VideoOpt),
    Opt("image", ImageOpt),
    Opt("fps", FpsOpt),
    Opt("max_size", MaxSizeOpt),
    Opt("media_resolution", MediaResOpt, setting="media_resolution"),
    Opt("proactive_video", ProactiveVideoOpt, setting="proactive_video"),
    Opt("watch", WatchOpt),
    Opt("watch_file", WatchFileOpt),
    Opt("record_video", RecordVideoOpt),
)


def share_spec(flags: Any, settings: Any) -> ShareSpec | None:
    """The ShareSpec a command line asks for (None: nothing to share)."""
    return spec_from_flags(
        settings,
        screen=flags["screen"],
        screen_region=flags["screen_region"],
        screen_window=flags["screen_window"],
        camera=flags["camera"],
        video=flags["video"],
        images=flags["image"],
        fps=flags["fps"],
        max_size=flags["max_size"],
        watch=flags["watch"],
        watch_file=flags["watch_file"],
        record_video=flags["record_video"],
    )


def spec_from_flags(settings: Any, **flags: Any) -> ShareSpec | None:
    """The ShareSpec for the flags (fps and size from the settings when not given)."""
    flags["fps"] = flags.get("fps") or settings.video_fps
    flags["long_side"] = flags.pop("max_size", None) or settings.video_max_size
    from voicecli.video.spec import build_spec  # numpy and PIL: not for parsing or --help

    spec = build_spec(**flags)
    return spec if spec.anything else None


def describe(spec: ShareSpec | None) -> str:
    """What the start-up status line says is shared (privacy: always said)."""
    if spec is None:
        return "sharing nothing"
    parts = []
    if spec.screen is not None:
        what = f"window {spec.screen_window!r}" if spec.screen_window else f"screen {spec.screen}"
        if spec.screen_region:
            r = spec.screen_region
            what += f" region {r.left},{r.top},{r.width}x{r.height}"
        parts.append(what)
    if spec.camera is not None:
        parts.append(f"camera {spec.camera}")
    if spec.video is not None:
        parts.append(f"video {spec.video.name}")
    parts += [f"image {p.name}" for p in spec.images]
    if spec.watch is not None:
        parts.append(f"output of `{shlex.join(spec.watch)}`")
    if spec.watch_file is not None:
        parts.append(f"new lines of {spec.watch_file}")
    return f"sharing {', '.join(parts)} (at most {spec.fps:g} fps, {spec.long_side} px)"
