"""Issue 31, item 3: ``--help`` answers fast because parsing imports nothing heavy.

A fresh interpreter prints the help of the CLI and of each command (as ``voicecli ... --help``
does); google-genai, numpy, the simulator and the session engine must stay unimported (they
cost about a second). The timing itself is measured in ``bench/bench_help.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("google.genai", "numpy", "voicecli.sim", "voicecli.session.engine", "PIL", "soxr")

SCRIPT = """
import contextlib, io, json, sys
from voicecli.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


@pytest.mark.parametrize(
    "args",
    [["--help"], ["talk", "--help"], ["listen", "--help"], ["say", "--help"],
     ["doctor", "--help"], ["history", "show", "--help"], ["models", "--help"]],
)  # fmt: skip
def test_help_imports_nothing_heavy(args: list[str]) -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["code"] == 0, out.stderr
    modules = result["modules"]
    loaded = [h for h in HEAVY if any(m == h or m.startswith(h + ".") for m in modules)]
    assert loaded == []
