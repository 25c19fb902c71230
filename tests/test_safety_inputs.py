"""Issue 18 items 6-9 and issue 14 item 2: impossible settings refused in one line, bad
inputs said out loud (NaN, cut-off WAVs, a pipe with no writer), exit codes as the README
says, `key set` never writes through a link, and --fast --record keeps the conversation's
own timeline."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import make_scenario
from test_cli_errors import assert_one_line_error, run_cli, sim_env

from voicecli import config as cfg
from voicecli.audio import synth
from voicecli.audio.files import FileSource
from voicecli.cli import main
from voicecli.errors import ConfigError, ExitCode
from voicecli.sim.scenario import Scenario

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def speech(tmp_path: Path) -> Path:
    path = tmp_path / "q.wav"
    synth.make_utterances_wav(path, [(0.8, 0.6)], rate=16000)
    return path


def _code(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    assert len([x for x in err.splitlines() if x.startswith("error:")]) <= 1, err
    return code, err


# ------------------------------------------------------------------ item 6: combinations
@pytest.mark.parametrize(
    "flags,words",
    [
        ({"vad": "off", "turn_detection": "manual"}, "vad = off cannot go"),
        ({"vad": "off", "turn_detection": "client"}, "vad = off cannot go"),
        ({"timeout": float("nan")}, "timeout must be a float"),
        ({"timeout": "inf"}, "timeout must be a float"),
        ({"language": "xx_!!"}, "not a BCP-47 code"),
        ({"voice": "Not a voice!"}, "not a voice name"),
        ({"base_url": "not a url"}, "is not a URL"),
        ({"base_url": "ftp://example.com"}, "is not a URL"),
    ],
)
def test_impossible_settings_are_refused(flags: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(words)):
        cfg.load(flags=flags, env={})


def test_a_fractional_integer_setting_is_not_cut(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("vad_aggressiveness = 2.7\n")
    with pytest.raises(ConfigError, match="vad_aggressiveness must be a int, not 2.7"):
        cfg.load(path, env={})
    path.write_text("vad_aggressiveness = 2.0\n")
    assert cfg.load(path, env={}).vad_aggressiveness == 2


def test_talk_refuses_bad_flags_in_one_line(speech: Path, capsys) -> None:
    for argv in (
        ["--vad", "off", "--turn-detection", "manual"],
        ["--timeout", "nan"],
        ["--language", "xx_!!"],
        ["--base-url", "not a url"],
    ):
        code, err = _code(capsys, "talk", "--input", str(speech), *argv)
        assert code == int(ExitCode.USAGE), (argv, err)


# ------------------------------------------------------------------ item 7: clear lines
def test_non_utf8_config_is_one_line(tmp_path: Path, speech: Path, capsys) -> None:
    config = tmp_path / "c.toml"
    config.write_bytes(b'model = "gemini-3.8-live"\n# caf\xe9\n')
    code, err = _code(capsys, "talk", "--input", str(speech), "--config", str(config))
    assert code == int(ExitCode.USAGE) and "not UTF-8" in err, err


def test_key_set_and_remove_refuse_a_folder_and_a_link(tmp_path: Path, capsys) -> None:
    key_path = cfg.key_file()
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.mkdir()
    for argv in (["key", "set"], ["key", "remove"]):
        sys.stdin = __import__("io").StringIO("AIzaSy-valid-key\n")
        code, err = _code(capsys, *argv)
        assert code == int(ExitCode.USAGE) and "is a folder" in err, err
    key_path.rmdir()
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("not a key")
    key_path.symlink_to(elsewhere)
    sys.stdin = __import__("io").StringIO("AIzaSy-valid-key\n")
    code, err = _code(capsys, "key", "set")
    assert code == int(ExitCode.USAGE) and "symbolic link" in err, err
    assert elsewhere.read_text() == "not a key"
    sys.stdin = __import__("io").StringIO("AIzaSy\u200bvalid\n")
    key_path.unlink()
    code, err = _code(capsys, "key", "set")
    assert code == int(ExitCode.AUTH) and "invisible character at position 7" in err, err
    assert not key_path.exists()
    sys.stdin = sys.__stdin__


@pytest.mark.parametrize(
    "text,words",
    [
        ('realtime = "fast"\n', "realtime must be a number"),
        ('latency_ms = "soon"\n', "latency_ms must be an integer"),
        ("[[turns]]\nheard = 5\n", "heard must be a string"),
        ("[[turns]]\nsilent = 1\n", "silent must be a bool"),
        ('[[turns]]\ntool_calls = [{name = "x", args = "y"}]\n', "args must be a dict"),
    ],
)
def test_scenario_fields_of_the_wrong_type_are_refused(text: str, words: str) -> None:
    import tomllib

    with pytest.raises(ConfigError, match=re.escape(words)):
        Scenario.from_dict(tomllib.loads(text))


# ------------------------------------------------------------------ item 8: inputs
async def _all_frames(src: FileSource) -> bytes:
    return b"".join([f async for f in src.frames()])


def test_nan_samples_are_sent_as_silence_with_a_notice(tmp_path: Path) -> None:
    path = tmp_path / "nan.wav"
    x = np.concatenate([np.full(8000, 0.1), np.full(1600, np.nan), np.full(8000, -0.1)])
    sf.write(path, x.astype(np.float32), 16000, subtype="FLOAT")
    src = FileSource(path, realtime=False)
    notes: list[str] = []
    src.on_note = notes.append
    pcm = np.frombuffer(asyncio.run(_all_frames(src)), dtype="<i2")
    assert pcm.min() > -32000  # no -32768 spikes
    assert len(notes) == 1 and "not numbers" in notes[0]


def test_talk_says_what_is_wrong_with_its_input(sim_factory, tmp_path: Path) -> None:
    path = tmp_path / "nan.wav"
    speech = synth.speech_like(0.8, 16000).astype(np.float64) / 32768
    x = np.concatenate([np.zeros(8000), speech, np.full(800, np.nan), np.zeros(16000)])
    sf.write(path, x.astype(np.float32), 16000, subtype="FLOAT")
    proc = run_cli("talk", "--input", str(path), "--fast", "--no-tools", env=sim_env(sim_factory()))
    assert proc.returncode == 0, proc.stderr
    assert "warning: nan.wav has samples that are not numbers" in proc.stderr
    assert "RuntimeWarning" not in proc.stderr


def test_a_wav_shorter_than_its_header_says_so(tmp_path: Path) -> None:
    full = tmp_path / "full.wav"
    synth.make_utterances_wav(full, [(1.0, 2.0)], rate=16000)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(full.read_bytes()[: 44 + 16000 * 2])
    src = FileSource(cut, realtime=False)
    assert len(src.notes) == 1 and "shorter than its header says" in src.notes[0], src.notes
    assert "1.0 s of 3.5 s" in src.notes[0]


def test_a_named_pipe_with_no_writer_does_not_hang(sim_factory, tmp_path: Path) -> None:
    fifo = tmp_path / "in.wav"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        [sys.executable, "-m", "voicecli", "talk", "--input", str(fifo), "--no-tools"],
        env={**os.environ, **sim_env(sim_factory())},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    deadline = time.monotonic() + 30
    while not any(line.startswith("voicecli:") for line in lines) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # now waiting for a writer on the pipe: the loop must still answer
    assert proc.poll() is None, lines
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=15)
    reader.join(5)
    err = "".join(lines)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "stopped" in err, err


def test_a_named_pipe_with_a_writer_is_spoken(sim_factory, speech: Path, tmp_path) -> None:
    fifo = tmp_path / "piped.wav"
    os.mkfifo(fifo)
    data = speech.read_bytes()
    writer = threading.Thread(target=fifo.write_bytes, args=(data,), daemon=True)
    writer.start()
    proc = run_cli("talk", "--input", str(fifo), "--fast", "--no-tools", env=sim_env(sim_factory()))
    assert proc.returncode == 0, proc.stderr
    assert "done: 1 turn" in proc.stderr


# ------------------------------------------------------------------ item 9: exit codes
def test_the_readme_exit_code_table_is_the_code() -> None:
    text = README.read_text()
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", section, flags=re.M))
    assert sorted(int(c) for c in rows) == sorted(int(c) for c in ExitCode)


def test_output_write_errors_have_their_own_code(speech: Path, sim_factory, tmp_path) -> None:
    proc = run_cli(
        "talk",
        "--input",
        str(speech),
        "--fast",
        "--no-tools",
        "--output",
        "/dev/full",
        env=sim_env(sim_factory()),
    )
    assert_one_line_error(proc, ExitCode.OUTPUT, "/dev/full")
    proc = run_cli(  # a key: a keyless run is refused first (issue 31, before any banner)
        "talk", "--input", str(speech), "--transcript", "/proc/nope.jsonl",
        env={"GEMINI_API_KEY": "placeholder-key"},
    )  # fmt: skip
    assert_one_line_error(proc, ExitCode.OUTPUT, "/proc/nope.jsonl")


def test_a_1011_after_all_retries_is_the_servers_doing(speech, sim_factory, tmp_path) -> None:
    scenario = make_scenario(
        'voice = "tone"\nrepeat_faults = true\n[[turns]]\nfault = "close_1011"\n'
        '[[turns]]\nfault = "close_1011"\n[[turns]]\nfault = "close_1011"\n',
        tmp_path,
    )
    env = {**sim_env(sim_factory(scenario)), "VOICECLI_RECONNECT_ATTEMPTS": "1"}
    proc = run_cli("talk", "--input", str(speech), "--fast", "--no-tools", env=env)
    assert_one_line_error(proc, ExitCode.SERVER, "1011")


# ------------------------------------------------------------------ issue 14 item 2
def _active(x: np.ndarray, rate: int, thr: float = 500.0) -> tuple[float, float]:
    win = rate // 50
    n = len(x) // win
    rms = np.sqrt((x[: n * win].astype(np.float64).reshape(n, win) ** 2).mean(axis=1))
    idx = np.nonzero(rms > thr)[0]
    return idx[0] * win / rate, (idx[-1] + 1) * win / rate


def test_fast_record_puts_each_reply_after_its_utterance(sim_factory, tmp_path) -> None:
    wav = tmp_path / "two.wav"
    synth.make_utterances_wav(wav, [(1.2, 1.0), (1.2, 1.0)], rate=16000)
    scenario = make_scenario(
        'voice = "tone"\nlatency_ms = 50\nrealtime = 0\n'
        '[[turns]]\nreply = "one"\nduration_s = 1.5\n[[turns]]\nreply = "two"\nduration_s = 1.5\n',
        tmp_path,
    )
    rec = tmp_path / "r.wav"
    proc = run_cli(
        "talk",
        "--input",
        str(wav),
        "--fast",
        "--no-tools",
        "--record",
        str(rec),
        env=sim_env(sim_factory(scenario)),
    )
    assert proc.returncode == 0, proc.stderr
    data, rate = sf.read(rec, dtype="int16")
    user, model = data[:, 0], data[:, 1]
    first_user = _active(user[: int(2.2 * rate)], rate)
    first_reply = _active(model[: int(first_user[1] * rate) + int(2.0 * rate)], rate)
    assert first_reply[0] >= first_user[1] - 0.05, (first_user, first_reply)
    # the second utterance comes after the first reply, and its reply after it
    later_user = _active(user[int(first_reply[1] * rate) :], rate)
    assert later_user[0] > 0
    assert len(data) / rate >= 0.5 + 2.2 * 2 + 1.5 * 2 - 0.3


def test_redaction_hides_keys_as_words_and_in_headers_only() -> None:
    from voicecli import keys

    keys.remember_secret("e")
    keys.remember_secret("AIzaSyLONG-key_123")
    cases = {
        "every message keeps its letters": "every message keeps its letters",
        "cannot write e.wav": "cannot write e.wav",
        "the key 'e' was rejected": "the key '***' was rejected",
        "GEMINI_API_KEY=e": "GEMINI_API_KEY=***",
        "> x-goog-api-key: some-unknown-key": "> x-goog-api-key: ***",
        "[('x-goog-api-key', 'e')]": "[('x-goog-api-key', '***')]",
        "GET /v1?key=AIzaOther&alt=json": "GET /v1?key=***&alt=json",
        "bad header AIzaSyLONG-key_123.": "bad header ***.",
        "AIzaSyLONG-key_1234 is another": "AIzaSyLONG-key_1234 is another",
    }
    for text, want in cases.items():
        assert keys.redact(text) == want, text
