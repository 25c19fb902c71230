"""The README keeps up with the CLI: every flag of every command is mentioned there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from voicecli.cli import app

README = (Path(__file__).parent.parent / "README.md").read_text()


def _commands() -> dict[str, object]:
    group = typer.main.get_command(app)
    return dict(group.commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "name", ["talk", "listen", "say", "overview", "doctor", "sim", "devices", "history"]
)
def test_every_flag_is_in_the_readme(name: str) -> None:
    command = _commands()[name]
    flags = set()
    for param in command.params:  # type: ignore[attr-defined]
        for opt in [*param.opts, *getattr(param, "secondary_opts", [])]:
            if opt.startswith("--") and opt != "--help":
                flags.add(opt)
    missing = sorted(f for f in flags if not re.search(re.escape(f) + r"\b", README))
    assert not missing, f"{name}: not in README.md: {missing}"


def test_readme_opens_with_the_two_commands() -> None:
    head = README.split("## ")[0]
    assert "make demo\nmake test" in head


def test_make_says_what_it_does_before_each_slow_step(tmp_path: Path) -> None:
    import subprocess

    root = Path(__file__).parent.parent
    venv = tmp_path / "venv"
    dry = subprocess.run(
        ["make", "-n", "-B", "venv", "demo", f"VENV={venv}"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    slow = [i for i, line in enumerate(dry) if " -m venv " in line or "pip install" in line]
    slow += [i for i, line in enumerate(dry) if "voicecli demo" in line]
    assert len(slow) == 4, dry
    for i in slow:  # the line before each slow command tells the user what is happening
        assert dry[i - 1].startswith('echo "make: '), (dry[i - 1], dry[i])
    sysdeps = (root / "scripts" / "sysdeps.sh").read_text()
    assert sysdeps.index('echo "sysdeps: updating') < sysdeps.index("apt-get update")
