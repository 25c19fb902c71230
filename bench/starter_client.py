"""The naive baseline of ``bench_starter.py``: a Live client shaped like Google's cookbook
starter (our own code, written for the comparison; nothing copied).

Its shape, which is what the benchmark compares against: PyAudio-style *blocking* streams
(python-sounddevice ``RawInputStream.read`` / ``RawOutputStream.write`` on worker threads),
16 kHz mono capture in 1024-frame chunks, every chunk streamed (no gate, no echo control),
the server's 24 kHz audio written to the speaker as it arrives (no jitter buffer, no
resampler: the device is opened at the model's rates), the queue of unplayed audio dropped
on ``interrupted``. Ctrl-C (SIGINT) ends it.

    python bench/starter_client.py --base-url https://127.0.0.1:PORT   (GEMINI_API_KEY, SSL_CERT_FILE)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal

import sounddevice as sd
from google import genai
from google.genai import types

CHUNK = 1024
IN_RATE, OUT_RATE = 16000, 24000


async def main(base_url: str, model: str) -> None:
    client = genai.Client(
        api_key=os.environ["GEMINI_API_KEY"],
        http_options=types.HttpOptions(base_url=base_url, api_version="v1beta"),
    )
    config = types.LiveConnectConfig(response_modalities=[types.Modality.AUDIO])
    to_speaker: asyncio.Queue[bytes] = asyncio.Queue()
    to_server: asyncio.Queue[bytes] = asyncio.Queue(maxsize=5)
    mic = sd.RawInputStream(samplerate=IN_RATE, channels=1, dtype="int16", blocksize=CHUNK)
    spk = sd.RawOutputStream(samplerate=OUT_RATE, channels=1, dtype="int16")
    mic.start()
    spk.start()

    async def capture() -> None:
        while True:
            data, _overflowed = await asyncio.to_thread(mic.read, CHUNK)
            await to_server.put(bytes(data))

    async def send(session: object) -> None:
        while True:
            pcm = await to_server.get()
            await session.send_realtime_input(  # type: ignore[attr-defined]
                audio=types.Blob(data=pcm, mime_type="audio/pcm;rate=16000")
            )

    async def receive(session: object) -> None:
        while True:
            async for msg in session.receive():  # type: ignore[attr-defined]
                sc = msg.server_content
                if sc is None:
                    continue
                if sc.interrupted:
                    while not to_speaker.empty():
                        to_speaker.get_nowait()
                if sc.model_turn:
                    for part in sc.model_turn.parts or []:
                        if part.inline_data and part.inline_data.data:
                            to_speaker.put_nowait(part.inline_data.data)

    async def play() -> None:
        while True:
            pcm = await to_speaker.get()
            await asyncio.to_thread(spk.write, pcm)

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with client.aio.live.connect(model=model, config=config) as session:
        tasks = [
            asyncio.create_task(c)
            for c in (capture(), send(session), receive(session), play(), stop.wait())
        ]
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in tasks:
            t.cancel()
        for t in done:
            if not t.cancelled() and t.exception() is not None:
                raise t.exception()  # type: ignore[misc]
    # the worker threads may sit in a blocking read: leave without waiting for them
    os._exit(0)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--model", default="gemini-3.8-live")
    a = ap.parse_args()
    asyncio.run(main(a.base_url, a.model))
