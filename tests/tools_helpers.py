"""Shared pieces of the tool tests: scenarios, settings and tiny programs made on the spot."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from voicecli.audio import synth
from voicecli.config import Settings
from voicecli.sim.scenario import Scenario

# writes its argv (after the script name) as JSON to the file named by $ARGV_OUT and stdout
ECHO_ARGV = (
    "import json, os, sys\n"
    "data = json.dumps(sys.argv[1:])\n"
    "open(os.environ['ARGV_OUT'], 'w').write(data)\n"
    "print(data)\n"
)

# starts a grandchild that sleeps, notes its pid in argv[1], then sleeps itself
SLEEPER = (
    "import subprocess, sys, time\n"
    "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    "open(sys.argv[1], 'w').write(str(p.pid))\n"
    "time.sleep(60)\n"
)


def scenario(*turns: dict[str, Any], **kw: Any) -> Scenario:
    data: dict[str, Any] = {"voice": "tone", "latency_ms": 50, "realtime": 0, **kw}
    data["turns"] = [{"duration_s": 0.3, **t} for t in turns]
    return Scenario.from_dict(data)


def utterances(path: Path, n: int) -> Path:
    synth.make_utterances_wav(path, [(0.8, 1.0)] * n, rate=16000)
    return path


def settings_for(sim: Any, tools: list[dict[str, Any]] | None = None, **kw: Any) -> Settings:
    tables: dict[str, Any] = {}
    if tools is not None:
        tables["tools"] = tools
    if "mcp_servers" in kw:
        tables["mcp_servers"] = kw.pop("mcp_servers")
    return Settings(
        base_url=sim.base_url, ca_file=str(sim.ca_path), api_key="test-key", tables=tables, **kw
    )


def command_tool(name: str, script: str, *args: str, **over: Any) -> dict[str, Any]:
    params = {a.strip("{}"): {"type": "string"} for a in args if a.startswith("{")}
    return {
        "name": name,
        "description": f"test tool {name}",
        "command": [sys.executable, "-c", script, *args],
        "parameters": params,
        "confirm": False,
        **over,
    }


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def wait_gone(pid: int, seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.02)
    return False
