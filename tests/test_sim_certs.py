"""Simulator certificates: one CA per folder, reused and never replaced while a simulator
runs with it; each simulator signs its own server certificate; a busy port is one line."""

from __future__ import annotations

import asyncio
import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from voicecli.errors import UsageError
from voicecli.sim import certs
from voicecli.sim.server import SimServer
from voicecli.sim.testing import sdk_client


async def _handshake(sim: SimServer, ca_path: Path) -> None:
    """A real TLS + setup handshake through the SDK, trusting only ``ca_path``."""
    client = sdk_client(sim.base_url, ca_path)
    async with client.aio.live.connect(model="gemini-3.8-live", config={}):
        pass


def test_the_ca_is_private_and_reused(tmp_path: Path) -> None:
    first = certs.shared_authority(tmp_path)
    pem = (tmp_path / "ca.pem").read_bytes()
    first.close()
    again = certs.shared_authority(tmp_path)
    again.close()
    assert (tmp_path / "ca.pem").read_bytes() == pem
    assert (tmp_path / "ca.key").stat().st_mode & 0o777 == 0o600
    ctx = certs.client_context(again.ca_path)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname


def test_a_ca_in_use_is_never_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    running = certs.shared_authority(tmp_path)
    pem = (tmp_path / "ca.pem").read_bytes()
    monkeypatch.setattr(certs, "CA_RENEW_DAYS", 10_000)  # the stored CA now looks too old
    second = certs.shared_authority(tmp_path)
    try:
        assert (tmp_path / "ca.pem").read_bytes() == pem  # the running one stays trusted
        assert second.ca_path != running.ca_path and second.private_dir is not None
    finally:
        second.close()
        running.close()
    assert second.ca_path.parent.exists() is False
    renewed = certs.shared_authority(tmp_path)  # nobody uses it now: replaced
    renewed.close()
    assert (tmp_path / "ca.pem").read_bytes() != pem


async def test_two_simulators_share_one_ca_and_both_stay_trusted(tmp_path: Path) -> None:
    a = await SimServer(cert_dir=tmp_path).start()
    try:
        pem = a.ca_path.read_bytes()
        b = await SimServer(cert_dir=tmp_path).start()
        try:
            assert b.ca_path == a.ca_path and a.ca_path.read_bytes() == pem
            assert a.port != b.port
            await asyncio.gather(_handshake(a, a.ca_path), _handshake(b, b.ca_path))
        finally:
            await b.stop()
        with pytest.raises(UsageError, match="port is in use"):
            await SimServer(cert_dir=tmp_path, port=a.port).start()
        assert a.ca_path.read_bytes() == pem
        await _handshake(a, a.ca_path)  # the first one is still trusted
    finally:
        await a.stop()
    left = sorted(p.name for p in await asyncio.to_thread(lambda: list(tmp_path.iterdir())))
    assert left == ["ca.key", "ca.lock", "ca.pem"]


async def test_busy_port_is_one_line_and_keeps_the_running_ca(tmp_path: Path) -> None:
    a = await SimServer(cert_dir=tmp_path).start()
    try:
        pem = a.ca_path.read_bytes()
        env = {**os.environ, "VOICECLI_HOME": str(tmp_path / "home")}
        args = ["sim", "--port", str(a.port), "--cert-dir", str(tmp_path)]
        proc = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "voicecli", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip().splitlines() == [
            f"error: cannot listen on 127.0.0.1:{a.port}: the port is in use (another voicecli "
            "sim?) (stop that one, or pick another --port (--port 0 picks a free one))"
        ]
        assert a.ca_path.read_bytes() == pem
        await _handshake(a, a.ca_path)
    finally:
        await a.stop()
