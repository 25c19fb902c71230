"""Issue 18 item 1 and issue 14 item 7: no output overwrites an input or another output
(links included), outputs appear only when complete, and the extension picks the format."""

from __future__ import annotations

import itertools
import os
import wave
from pathlib import Path

import pytest
import soundfile as sf
from test_cli_errors import SECRET, assert_one_line_error, run_cli, sim_env

from voicecli.audio import synth
from voicecli.cli import main
from voicecli.errors import ExitCode

ROLES = ("--input", "--output", "--record", "--transcript")


@pytest.fixture
def speech(tmp_path: Path) -> Path:
    path = tmp_path / "q.wav"
    synth.make_utterances_wav(path, [(0.3, 0.5)], rate=16000)
    return path


def _args(paths: dict[str, Path]) -> list[str]:
    return [x for role, p in paths.items() for x in (role, str(p))]


def _refused(capsys: pytest.CaptureFixture[str], argv: list[str], *words: str) -> None:
    code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == int(ExitCode.USAGE), err
    assert len(lines) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize("a,b", list(itertools.combinations(ROLES, 2)))
@pytest.mark.parametrize("link", ["same", "symlink", "hardlink"])
def test_same_file_matrix_is_refused_before_anything_is_opened(
    a: str, b: str, link: str, speech: Path, tmp_path: Path, capsys
) -> None:
    before = speech.read_bytes()
    paths = {r: tmp_path / f"{r.strip('-')}.out" for r in ROLES}
    paths["--input"] = speech
    paths["--output"] = tmp_path / "o.wav"
    paths["--record"] = tmp_path / "r.wav"
    shared = speech if a == "--input" else tmp_path / "shared.wav"
    paths[a] = shared
    if link == "same":
        paths[b] = shared
    else:
        other = tmp_path / "alias.wav"
        if not shared.exists():
            shared.write_bytes(b"precious")
        (os.symlink if link == "symlink" else os.link)(shared, other)
        paths[b] = other
    kept = shared.read_bytes() if shared.exists() else None
    _refused(capsys, ["talk", *_args(paths)], a, b)
    assert speech.read_bytes() == before
    if kept is not None:
        assert shared.read_bytes() == kept
    # nothing was created: no output, no partial file
    made = {p.name for p in tmp_path.iterdir()} - {speech.name, "shared.wav", "alias.wav"}
    assert made == set(), made


def test_listen_and_say_refuse_overwriting_their_input(speech: Path, tmp_path, capsys) -> None:
    before = speech.read_bytes()
    _refused(capsys, ["listen", "--input", str(speech), "--quiet", "--output", str(speech)])
    _refused(capsys, ["listen", "--input", str(speech), "--quiet", "--record", str(speech)])
    assert speech.read_bytes() == before
    text = tmp_path / "t.txt"
    text.write_text("Hello there.")
    _refused(capsys, ["say", "--file", str(text), "--out", str(text)], "--file", "--out")
    link = tmp_path / "t.wav"
    link.symlink_to(text)
    _refused(capsys, ["say", "--file", str(text), "--out", str(link)], "--file", "--out")
    assert text.read_text() == "Hello there."
    notes = tmp_path / "notes.wav"
    notes.write_text("# notes")
    _refused(capsys, ["overview", str(notes), "--out", str(notes)], "NOTES")
    assert notes.read_text() == "# notes"


def test_unknown_output_extension_is_refused_in_one_line(speech: Path, tmp_path, capsys) -> None:
    _refused(
        capsys, ["talk", "--input", str(speech), "--output", str(tmp_path / "o.aiff")], ".flac"
    )
    _refused(capsys, ["say", "hi", "--out", str(tmp_path / "o.xyz")], "o.xyz")
    assert list(tmp_path.iterdir()) == [speech]


def test_a_failed_run_leaves_existing_outputs_untouched(speech: Path, tmp_path: Path) -> None:
    out, rec, tr = tmp_path / "o.wav", tmp_path / "r.wav", tmp_path / "t.jsonl"
    for p in (out, rec, tr):
        p.write_bytes(b"a good file from yesterday")
    proc = run_cli(
        "talk",
        "--input",
        str(speech),
        "--output",
        str(out),
        "--record",
        str(rec),
        "--transcript",
        str(tr),
    )  # no key: fails at the connection
    assert_one_line_error(proc, ExitCode.AUTH, "no API key")
    for p in (out, rec, tr):
        assert p.read_bytes() == b"a good file from yesterday"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.wav", "q.wav", "r.wav", "t.jsonl"]


def test_outputs_take_the_format_of_their_extension(sim_factory, speech: Path, tmp_path) -> None:
    sim = sim_factory()
    link_target = tmp_path / "real.flac"
    link_target.write_bytes(b"old")
    link = tmp_path / "link.flac"
    link.symlink_to(link_target)
    proc = run_cli(
        "talk",
        "--input",
        str(speech),
        "--fast",
        "--output",
        str(link),
        "--record",
        str(tmp_path / "r.ogg"),
        "--transcript",
        str(tmp_path / "t.jsonl"),
        env=sim_env(sim),
    )
    assert proc.returncode == 0, proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    assert link.is_symlink()  # written through the link, which stays a link
    assert sf.info(str(link_target)).format == "FLAC"
    assert sf.info(str(link_target)).frames > 0
    rec = sf.info(str(tmp_path / "r.ogg"))
    assert (rec.format, rec.subtype, rec.channels) == ("OGG", "VORBIS", 2)
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]
    if "MP3" in sf.available_formats():
        say = run_cli("say", "Hello.", "--out", str(tmp_path / "s.mp3"), env=sim_env(sim))
        assert say.returncode == 0, say.stderr
        assert sf.info(str(tmp_path / "s.mp3")).format == "MP3"
    plain = run_cli("say", "Hello.", "--out", str(tmp_path / "s.wav"), env=sim_env(sim))
    assert plain.returncode == 0, plain.stderr
    with wave.open(str(tmp_path / "s.wav")) as w:
        assert w.getnframes() > 0
