"""Built-in tools: harmless, local, fast. On by default (``--no-tools`` turns them off).

The clock and timezone, a calculator, the current folder and a little about the machine
(uptime, load, battery). None of them writes anything or reaches the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import platform
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from voicecli.tools.base import FunctionTool, ToolFailure, ToolSpec
from voicecli.tools.calc import CalcError, evaluate


def local_zone_name() -> str | None:
    """The IANA name of the local timezone when it can be found (TZ, /etc/localtime)."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and "/" in tz and not tz.startswith("/"):
        return tz
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        return None
    marker = "zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else None


def _offset(value: dt.timedelta | None) -> str:
    minutes = int((value or dt.timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


async def current_time(args: dict[str, Any]) -> dict[str, Any]:
    zone_name = args.get("timezone")
    if zone_name:
        try:
            now = dt.datetime.now(ZoneInfo(str(zone_name)))
        except (ZoneInfoNotFoundError, ValueError):
            raise ToolFailure(
                f"unknown timezone {zone_name!r}; use an IANA name like Europe/Paris"
            ) from None
        name: str | None = str(zone_name)
    else:
        now = dt.datetime.now().astimezone()
        name = local_zone_name()
    return {
        "date": now.date().isoformat(),
        "time": now.strftime("%H:%M:%S"),
        "weekday": now.strftime("%A"),
        "timezone": name or now.tzname(),
        "abbreviation": now.tzname(),
        "utc_offset": _offset(now.utcoffset()),
        "iso": now.isoformat(timespec="seconds"),
    }


async def calculate(args: dict[str, Any]) -> dict[str, Any]:
    expression = args.get("expression")
    if not isinstance(expression, str):
        raise ToolFailure("calculate needs an 'expression' string, e.g. '2 * (3 + 4)'")
    try:
        return {"expression": expression, "result": evaluate(expression)}
    except CalcError as e:
        raise ToolFailure(str(e)) from None


async def working_directory(args: dict[str, Any]) -> dict[str, Any]:
    cwd = Path.cwd()
    return {"name": cwd.name or str(cwd), "path": str(cwd)}


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _battery() -> dict[str, Any] | None:
    base = Path("/sys/class/power_supply")
    try:
        batteries = sorted(p for p in base.iterdir() if p.name.startswith("BAT"))
    except OSError:
        return None
    for bat in batteries:
        capacity = _read(str(bat / "capacity"))
        if capacity and capacity.isdigit():
            return {"percent": int(capacity), "status": _read(str(bat / "status")) or "unknown"}
    return None


def _system_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "os": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    uptime = _read("/proc/uptime")
    if uptime:
        seconds = int(float(uptime.split()[0]))
        info["uptime_s"] = seconds
        info["uptime"] = (
            f"{seconds // 86400} d {seconds % 86400 // 3600} h {seconds % 3600 // 60} min"
        )
    if hasattr(os, "getloadavg"):
        with contextlib.suppress(OSError):
            info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    battery = _battery()
    if battery is not None:
        info["battery"] = battery
    return info


async def system_info(args: dict[str, Any]) -> dict[str, Any]:
    return await asyncio.to_thread(_system_info)


def builtin_tools() -> list[FunctionTool]:
    return [
        FunctionTool(
            ToolSpec(
                "get_current_time",
                "Current local date, time, weekday and timezone; or the time in another "
                "timezone when one is given.",
                {
                    "type": "object",
                    "properties": {
                        "timezone": {
                            "type": "string",
                            "description": "Optional IANA timezone, e.g. Asia/Tokyo",
                        }
                    },
                },
            ),
            current_time,
        ),
        FunctionTool(
            ToolSpec(
                "calculate",
                "Evaluate an arithmetic expression exactly (+ - * / // % **, parentheses, "
                "sqrt, log, sin, cos, tan, factorial, round, pi, e).",
                {
                    "type": "object",
                    "properties": {
                        "expression": {
                            "type": "string",
                            "description": "The expression, e.g. (17.5 * 3) / 4",
                        }
                    },
                    "required": ["expression"],
                },
            ),
            calculate,
        ),
        FunctionTool(
            ToolSpec(
                "get_working_directory",
                "Name and path of the folder the user started voicecli in.",
            ),
            working_directory,
        ),
        FunctionTool(
            ToolSpec(
                "get_system_info",
                "The user's computer: operating system, uptime, load and battery level.",
            ),
            system_info,
        ),
    ]
