"""Issue 12: every known way a Live connection fails to open gives one line with a fix and a
documented exit code, through the real SDK (the simulator refuses the handshake)."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from google.genai import types

from voicecli.config import Settings
from voicecli.errors import ExitCode, VoicecliError
from voicecli.live.transport import open_transport
from voicecli.sim import Scenario, SimServer

CONFIG = types.LiveConnectConfig(response_modalities=[types.Modality.AUDIO])


async def open_error(settings: Settings) -> VoicecliError:
    with pytest.raises(VoicecliError) as info:
        async with open_transport(settings, CONFIG, setup_timeout=5):
            pass
    err = info.value
    assert "unexpected" not in err.one_line() and "\n" not in err.one_line()
    return err


def sim_settings(sim: SimServer, **kw: object) -> Settings:
    return Settings(base_url=sim.base_url, ca_file=str(sim.ca_path), api_key="k", **kw)  # type: ignore[arg-type]


async def test_404_names_the_version_and_the_fix() -> None:
    async with SimServer(Scenario()) as sim:
        err = await open_error(sim_settings(sim, api_version="v1"))
    assert err.exit_code == ExitCode.NETWORK
    assert "HTTP 404" in err.message and "API version v1 " in err.message
    assert sim.base_url in err.message
    assert "api_version" in (err.hint or "") and "--base-url" in (err.hint or "")


@pytest.mark.parametrize(
    ("status", "code", "words"),
    [
        (401, ExitCode.AUTH, "API key was rejected"),
        (403, ExitCode.AUTH, "may not use the Live API"),
        (429, ExitCode.SERVER, "quota"),
        (503, ExitCode.SERVER, "HTTP 503"),
    ],
)
async def test_http_status_at_the_handshake(status: int, code: ExitCode, words: str) -> None:
    async with SimServer(Scenario(handshake_status=status)) as sim:
        err = await open_error(sim_settings(sim))
        assert sim.refused_handshakes and sim.refused_handshakes[0][0] == status
    assert err.exit_code == code
    assert words in err.message and f"HTTP {status}" in err.message


async def test_untrusted_certificate_names_ssl_cert_file() -> None:
    async with SimServer(Scenario()) as sim:
        err = await open_error(Settings(base_url=sim.base_url, api_key="k"))
    assert err.exit_code == ExitCode.NETWORK
    assert "not trusted" in err.message
    assert "SSL_CERT_FILE" in (err.hint or "") and "ca_file" in (err.hint or "")


async def test_refused_port() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    err = await open_error(Settings(base_url=f"https://127.0.0.1:{port}", api_key="k"))
    assert err.exit_code == ExitCode.NETWORK
    assert err.message == f"cannot connect to 127.0.0.1:{port}: connection refused"


async def test_name_that_does_not_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real lookup: the resolver answers 'unknown name' for this host only."""
    real = socket.getaddrinfo

    def fake(host, *args, **kw):  # type: ignore[no-untyped-def]
        if host == "live.example.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    err = await open_error(Settings(base_url="https://live.example.invalid", api_key="k"))
    assert err.exit_code == ExitCode.NETWORK
    assert "cannot resolve live.example.invalid" in err.message


def test_cli_404_is_one_line_exit_7(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from voicecli.audio import synth

    wav = tmp_path / "in.wav"
    synth.make_utterances_wav(wav, [(0.5, 0.5)])
    with SimServer(Scenario()) as sim:
        env = {**sim.env(), "GEMINI_API_KEY": "k", "VOICECLI_API_VERSION": "v1"}
        import os

        env = {**os.environ, **env}
        proc = subprocess.run(
            [sys.executable, "-m", "voicecli", "talk", "--input", str(wav), "--no-history"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    assert proc.returncode == int(ExitCode.NETWORK), proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "HTTP 404" in errors[0] and "v1beta" in errors[0]
    assert "Traceback" not in proc.stderr and "report it" not in proc.stderr
