"""Raw-websocket clients (camelCase, standard base64) and the foreground `run_sim`."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys

import pytest
import websockets

from voicecli.sim import Scenario, SimServer, Turn
from voicecli.sim.testing import speechlike

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"


async def test_camel_case_client_and_standard_base64() -> None:
    scen = Scenario(
        voice="tone", latency_ms=10, realtime=0, turns=[Turn(reply="ok", duration_s=0.1)]
    )
    async with SimServer(scen) as sim:
        url = sim.base_url.replace("https://", "wss://") + PATH
        async with websockets.connect(
            url, ssl=sim.client_ssl_context(), additional_headers={"x-goog-api-key": "k"}
        ) as ws:
            setup = {
                "model": "models/gemini-2.5-flash-native-audio-preview-12-2025",
                "generationConfig": {"responseModalities": ["AUDIO"]},
                "proactivity": {"proactive_audio": True},
            }
            await ws.send(json.dumps({"setup": setup}))
            assert json.loads(await ws.recv()) == {"setupComplete": {}}
            pcm = speechlike(0.5)
            blob = {"mimeType": "audio/pcm;rate=16000", "data": base64.b64encode(pcm).decode()}
            await ws.send(json.dumps({"realtimeInput": {"mediaChunks": [blob]}}))
            await ws.send(json.dumps({"realtimeInput": {"audioStreamEnd": True}}))
            kinds = []
            while True:
                msg = json.loads(await ws.recv())
                kinds += list(msg.get("serverContent", {}))
                if msg.get("serverContent", {}).get("turnComplete"):
                    break
        rec = sim.last_session
    assert "modelTurn" in kinds and "generationComplete" in kinds
    assert rec.api_version == "v1beta"
    assert rec.turns[0].ended_by == "stream_end"
    assert rec.audio_in_s == 0.5


async def test_bad_first_message_and_json() -> None:
    async with SimServer(Scenario(voice="tone")) as sim:
        url = sim.base_url.replace("https://", "wss://") + PATH
        for payload in ("not json", json.dumps({"realtimeInput": {}})):
            async with websockets.connect(
                url, ssl=sim.client_ssl_context(), additional_headers={"x-goog-api-key": "k"}
            ) as ws:
                await ws.send(payload)
                with pytest.raises(websockets.ConnectionClosed) as info:
                    await ws.recv()
                assert info.value.rcvd is not None and info.value.rcvd.code == 1007


async def test_stop_closes_open_sessions_with_1001() -> None:
    sim = await SimServer(Scenario(voice="tone")).start()
    url = sim.base_url.replace("https://", "wss://") + PATH
    async with websockets.connect(
        url, ssl=sim.client_ssl_context(), additional_headers={"x-goog-api-key": "k"}
    ) as ws:
        await ws.send(json.dumps({"setup": {"model": "models/gemini-3.8-live"}}))
        await ws.recv()
        await sim.stop()
        with pytest.raises(websockets.ConnectionClosed) as info:
            await ws.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 1001


def test_run_sim_prints_exports_and_stops_on_ctrl_c(tmp_path: object) -> None:
    code = f"from voicecli.sim import run_sim; run_sim(cert_dir={str(tmp_path)!r})"
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(2)]
        assert lines[0].startswith("export GOOGLE_GEMINI_BASE_URL=https://127.0.0.1:")
        assert lines[1] == f"export SSL_CERT_FILE={tmp_path}/ca.pem"
        proc.send_signal(signal.SIGINT)
        try:
            assert proc.wait(30) == 0  # generous: a loaded CI machine
        except subprocess.TimeoutExpired:
            proc.kill()
            _out, err = proc.communicate()
            raise AssertionError(f"run_sim did not stop on SIGINT; stderr: {err[-3000:]}") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
