"""``voicecli doctor``: is everything in place for a conversation? Each check says what it
found and, when something is wrong, how to fix it. The key's value is never shown."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from voicecli import config as cfg
from voicecli.errors import ExitCode, VoicecliError


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    hint: str | None = None
    code: ExitCode = ExitCode.OK
    optional: bool = False  # a failure here does not make the doctor fail


def _failed(name: str, err: VoicecliError, optional: bool = False) -> Check:
    return Check(name, False, err.message, err.hint, err.exit_code, optional)


def check_portaudio() -> list[Check]:
    from voicecli.audio import devices

    try:
        mod = devices.sd()
    except VoicecliError as e:
        return [_failed("PortAudio", e, optional=True)]
    out = [Check("PortAudio", True, str(mod.get_portaudio_version()[1]))]
    try:
        found = devices.list_devices()
    except VoicecliError as e:
        return [*out, _failed("audio devices", e, optional=True)]
    ins = [d for d in found if d.inputs > 0]
    outs = [d for d in found if d.outputs > 0]
    default_in = next((d.name for d in found if d.default_input), None)
    default_out = next((d.name for d in found if d.default_output), None)
    ok = bool(ins and outs)
    out.append(
        Check(
            "audio devices",
            ok,
            f"{len(ins)} input, {len(outs)} output; default input: {default_in or 'none'}, "
            f"default output: {default_out or 'none'}",
            None if ok else "connect a microphone/speaker, or use --input FILE --output FILE",
            ExitCode.OK if ok else ExitCode.DEVICE,
            optional=True,
        )
    )
    return out


def check_key(settings: cfg.Settings, sim: bool = False) -> Check:
    """The user's own key (``settings`` as loaded, before --sim lends the simulator one)."""
    if settings.vertex and not sim:
        return Check("credentials", True, "Vertex AI (application default credentials)")
    if settings.key_problem is not None:
        problem = settings.key_problem
        return Check("API key", False, problem.message, problem.hint, ExitCode.AUTH)
    source = next((v for v in cfg.KEY_ENV_VARS if os.environ.get(v)), None)
    if source is None and settings.api_key:
        source = "config file or `voicecli key set`"
    if not settings.api_key and sim:
        return Check(
            "API key",
            False,
            "no key found (not needed with --sim: the simulator takes any key)",
            "for Gemini itself: export GEMINI_API_KEY=... or run `voicecli key set`",
            optional=True,
        )
    if not settings.api_key:
        return Check(
            "API key",
            False,
            "no key found",
            "export GEMINI_API_KEY=... or run `voicecli key set` (or try `--sim`)",
            ExitCode.AUTH,
        )
    return Check("API key", True, f"found in {source} (value hidden)")


def check_model(settings: cfg.Settings) -> Check:
    from voicecli.live import capabilities
    from voicecli.live.setup import build_config

    try:
        caps = capabilities.lookup(settings.model, "vertex" if settings.vertex else "developer")
        build_config(settings, caps)
    except VoicecliError as e:
        return _failed("model", e)
    feats = [f"proactive audio {caps.proactive_audio.value}", f"thinking {caps.thinking.value}"]
    return Check("model", True, f"{caps.name}: " + ", ".join(feats))


def check_endpoint(settings: cfg.Settings) -> Check:
    from voicecli.live import capabilities
    from voicecli.live.setup import build_config
    from voicecli.live.transport import open_transport

    where = settings.base_url or "Gemini (Google)"
    try:
        caps = capabilities.lookup(settings.model, "vertex" if settings.vertex else "developer")
        config = build_config(settings, caps)
    except VoicecliError as e:
        return _failed("endpoint", e)

    async def handshake() -> float:
        t0 = time.monotonic()
        async with open_transport(settings, config, setup_timeout=settings.setup_timeout):
            return time.monotonic() - t0

    try:
        seconds = asyncio.run(handshake())
    except VoicecliError as e:
        return _failed("endpoint", e)
    return Check("endpoint", True, f"{where}: TLS and setup handshake in {seconds * 1000:.0f} ms")


def run_checks(
    config_path: Path | None,
    overrides: Callable[[cfg.Settings], cfg.Settings],
    sim: bool = False,
) -> list[Check]:
    checks: list[Check] = []
    try:
        loaded = cfg.load(config_path)
        settings = overrides(loaded)
    except VoicecliError as e:
        return [_failed("config", e)]
    where = config_path or cfg.home_dir() / "config.toml"
    checks.append(
        Check("config", True, f"{where} {'(read)' if where.exists() else '(none; defaults)'}")
    )
    for problem in loaded.file_warnings:
        checks.append(
            Check("config permissions", False, problem, code=ExitCode.USAGE, optional=True)
        )
    checks += check_portaudio()
    key = check_key(loaded, sim)
    checks.append(key)
    model = check_model(settings)
    checks.append(model)
    if (key.ok or sim) and model.ok:
        checks.append(check_endpoint(settings))
    return checks


def exit_code(checks: list[Check]) -> int:
    for c in checks:
        if not c.ok and not c.optional:
            return int(c.code or ExitCode.FAILURE)
    return 0
