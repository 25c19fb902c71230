"""Issue 31, item 7: following ``voicecli sim``'s printout works. Its export lines, pasted
as they are into a shell with no key of its own, are enough for ``voicecli say``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def test_the_printed_exports_are_enough_for_say(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("API_KEY")}
    sim = subprocess.Popen(
        [sys.executable, "-m", "voicecli", "sim", "--port", "0", "--cert-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert sim.stdout is not None and sim.stderr is not None
        exports = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = sim.stderr.readline()
            if "serving scenario" in line or not line:
                break
        os.set_blocking(sim.stdout.fileno(), False)
        exports = [line for line in sim.stdout.read().splitlines() if line.startswith("export")]
        assert any(line.startswith("export GEMINI_API_KEY=") for line in exports), exports
        script = "\n".join([*exports, f'voicecli say "hello there" --out {tmp_path}/s.wav'])
        out = subprocess.run(
            ["bash", "-c", f'voicecli() {{ "{sys.executable}" -m voicecli "$@"; }}\n{script}'],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert (tmp_path / "s.wav").stat().st_size > 1000
    finally:
        sim.terminate()
        sim.wait(10)
