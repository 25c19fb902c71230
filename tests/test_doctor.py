"""`voicecli doctor`: every check reports, with a fix hint; the key value is never shown."""

from __future__ import annotations

from test_cli_errors import SECRET, run_cli

from voicecli.errors import ExitCode


def test_doctor_against_the_simulator_passes() -> None:
    proc = run_cli("doctor", "--sim")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok endpoint:" in proc.stdout and "TLS and setup handshake" in proc.stdout
    assert "ok model: gemini-3.8-live" in proc.stdout
    # no key anywhere: the simulator lends one, but the doctor must not claim one was found
    assert "-- API key: no key found (not needed with --sim" in proc.stdout
    assert "found in" not in proc.stdout


def test_doctor_sim_reports_the_users_own_key() -> None:
    proc = run_cli("doctor", "--sim", env={"GEMINI_API_KEY": SECRET})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok API key: found in GEMINI_API_KEY (value hidden)" in proc.stdout
    assert SECRET not in proc.stdout + proc.stderr


def test_doctor_without_key_fails_with_hint() -> None:
    proc = run_cli("doctor")
    assert proc.returncode == int(ExitCode.AUTH)
    assert "!! API key: no key found (fix: export GEMINI_API_KEY" in proc.stdout


def test_doctor_reports_rejected_key_and_hides_it(sim_factory) -> None:
    sim = sim_factory(api_key="only-this-one")
    proc = run_cli("doctor", env={**sim.env(), "GEMINI_API_KEY": SECRET})
    assert proc.returncode == int(ExitCode.AUTH)
    assert "ok API key: found in GEMINI_API_KEY (value hidden)" in proc.stdout
    assert "!! endpoint: the server rejected the API key (1007: API key not valid." in proc.stdout
    assert "1007 None" not in proc.stdout
    assert SECRET not in proc.stdout + proc.stderr


def test_doctor_reports_bad_config(tmp_path) -> None:
    bad = tmp_path / "c.toml"
    bad.write_text("frame_ms = 7\n")
    proc = run_cli("doctor", "--config", str(bad))
    assert proc.returncode == int(ExitCode.USAGE)
    assert "!! config: " in proc.stdout  # issue 31: the file and line are named too
    assert "c.toml:1: frame_ms must be 10, 20 or 30" in proc.stdout


def test_doctor_reports_unknown_model() -> None:
    proc = run_cli("doctor", "--sim", "--model", "gemini-0-nope")
    assert proc.returncode == int(ExitCode.MODEL)
    assert "!! model: unknown Live model" in proc.stdout
