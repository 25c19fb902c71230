"""One model reply: input transcription, latency, tool calls, paced audio, turn end.

``stream_reply`` runs as its own task so a barge-in can cancel it at any await point.
Faults from the scenario (close, drop, garbage frame, goAway) are injected here.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any, Protocol

import numpy as np

from voicecli.audio.synth import tone as synth_tone
from voicecli.sim import fidelity
from voicecli.sim import protocol as p
from voicecli.sim.records import SessionRecord, UserTurn
from voicecli.sim.scenario import Scenario, Turn
from voicecli.sim.validate import SetupInfo
from voicecli.sim.voice import OUTPUT_RATE, synthesize, tone_frequency, use_espeak

STALL_TONE_HZ = 1000.0  # fault stall_tone
GARBAGE_FRAME = b'{"serverContent": {"modelTurn": {"parts": [{"inlineData'  # truncated JSON


class SessionIO(Protocol):
    record: SessionRecord
    scenario: Scenario
    info: SetupInfo
    tool_waiters: dict[str, asyncio.Future[dict[str, Any]]]
    cancelled_tool_ids: set[str]
    answered_tool_ids: set[str]
    seeded_count: int
    system_text: str
    stalled: bool

    async def send(self, msg: dict[str, Any]) -> None: ...
    async def send_raw(self, data: bytes) -> None: ...
    async def close(self, code: int, reason: str) -> None: ...
    def abort(self) -> None: ...
    def schedule_goaway(self, time_left_s: float) -> None: ...
    def next_index(self) -> int: ...
    def stall(self) -> None: ...
    def fault_for(self, index: int, fault: str | None) -> str | None: ...
    async def finish_turn(self, turn: UserTurn) -> None: ...


def fill(template: str, heard: str, result: Any = None, **more: str) -> str:
    """Replace {heard}, {result}, {result.key.sub}, {seeded} (turns of initial history) and
    {system} (the current system instruction) in a reply template."""

    def sub(m: re.Match[str]) -> str:
        name, *keys = m.group(1).split(".")
        if name == "heard":
            return heard
        if name in more:
            return more[name]
        value = result
        if not keys and isinstance(value, dict) and len(value) == 1:
            (value,) = value.values()  # {"result": 21} -> 21
        for k in keys:
            value = value.get(k) if isinstance(value, dict) else None
        if value is None:
            return ""
        return value if isinstance(value, str) else json.dumps(value)

    return re.sub(r"\{(heard|seeded|system|result(?:\.[\w-]+)*)\}", sub, template)


def transcript_pieces(text: str, n_chunks: int) -> list[str]:
    """Split ``text`` into ``n_chunks`` pieces (some empty) that concatenate back to it."""
    words = text.split()
    pieces: list[str] = []
    for k in range(n_chunks):
        part = words[len(words) * k // n_chunks : len(words) * (k + 1) // n_chunks]
        joined = " ".join(part)
        pieces.append((" " + joined) if joined and any(pieces) else joined)
    return pieces


async def stream_reply(io: SessionIO, turn: UserTurn) -> None:
    scen = io.scenario
    turn.index = io.next_index()
    spec = scen.turn(turn.index)
    fault = io.fault_for(turn.index, spec.fault)
    if turn.source in ("audio", "manual"):
        turn.heard = spec.heard or f"(speech {turn.speech_s:.1f} s)"
        if io.info.input_transcription:
            # fidelity rule 6: a low-latency interim piece first, then the final text
            words = turn.heard.split()
            await io.send(p.interim_input_transcription(" ".join(words[: max(1, len(words) // 2)])))
            await io.send(p.input_transcription(turn.heard))
    if io.stalled:  # fidelity rule 13: transcription runs, nothing is generated
        return
    await asyncio.sleep(scen.latency_ms / 1000)
    if fault == "close_1007":
        await io.close(1007, "Request contains an invalid argument.")
        return
    if fault == "goaway":
        await io.send(p.go_away(scen.goaway_time_left_s))
        io.schedule_goaway(scen.goaway_time_left_s)
    prompt_audio_s, text_tokens = _prompt_size(turn)
    if fault == "stall_no_reply":  # rule 13: nothing at all
        io.stall()
        return
    if fault == "stall_empty_turn":  # rule 13: no audio, no text, no reason
        await io.send(p.turn_complete(p.usage(prompt_audio_s, text_tokens, 0.0)))
        io.stall()
        return
    if spec.silent:
        turn.silent = True
        await io.send(
            p.turn_complete(
                p.usage(prompt_audio_s, text_tokens, 0.0),
                reason="NEED_MORE_INPUT",
                waiting_for_input=True,
                interaction_status="IDLE" if io.info.caps.interaction_status else None,
            )
        )
        await io.finish_turn(turn)
        return
    result: Any = None
    if spec.tool_calls:
        outcome = await _tool_round(io, turn, spec)
        if outcome is None:  # cancelled or timed out: the turn ends without speech
            await io.send(p.turn_complete(p.usage(prompt_audio_s, text_tokens, 0.0)))
            await io.finish_turn(turn)
            return
        result = outcome
    template = spec.reply if spec.reply is not None else scen.default_reply
    text = fill(template, turn.heard, result, seeded=str(io.seeded_count), system=io.system_text)
    text = io.record.vision.fill(text)  # {frames}, {colour}, {watched}: what it saw
    turn.reply_text = text
    pcm = await synthesize(text, turn.index, spec.duration_s, scen.voice)
    if spec.level_dbfs is not None:
        pcm = at_level(pcm, spec.level_dbfs)
    if not use_espeak(scen.voice):
        turn.tone_hz = tone_frequency(turn.index)
    if fault == "stall_text_only":  # rule 13: the transcript comes, the audio does not
        await _stream_text_only(io, pcm, text)
        await io.send(p.generation_complete())
        await io.send(p.turn_complete(p.usage(prompt_audio_s, text_tokens, 0.0)))
        io.stall()
        return
    if await _stream_audio(io, turn, fault, pcm, text):
        io.stall()  # rule 13: the reply stopped (or became a tone); no turnComplete
        return
    if spec.sources and io.info.search:  # grounding comes with the reply, before its end
        await io.send(p.grounding(spec.sources, [turn.heard or ""]))
    if spec.urls and io.info.url_context:
        await io.send(p.url_context(spec.urls))
    await io.send(p.generation_complete())
    usage = p.usage(prompt_audio_s, text_tokens, turn.reply_audio_s)
    if io.info.caps.interaction_status:
        # fidelity rule 6: extended thinking reasons on after the turn (IN_PROGRESS), and the
        # interaction is over only with IDLE (the SDK's receive() ends there)
        await io.send(p.turn_complete(usage, interaction_status="IN_PROGRESS"))
        await asyncio.sleep(scen.latency_ms / 1000)
        await io.send(p.turn_complete(interaction_status="IDLE"))
    else:
        await io.send(p.turn_complete(usage))
    await io.finish_turn(turn)


def _prompt_size(turn: UserTurn) -> tuple[float, int]:
    """The user turn's audio seconds and text tokens (for usageMetadata)."""
    audio_s = (turn.end_s or 0.0) - (turn.start_s or 0.0) if turn.start_s is not None else 0.0
    return audio_s, len(turn.text) // 4 + 1 if turn.text else 0


async def close_cut(io: SessionIO, turn: UserTurn) -> None:
    """After ``interrupted`` (fidelity rule 12, LIVE_FACTS "Audio": clients of the service
    report interrupted -> turnComplete, aiden-firmware PR #644, langwatch/scenario PR #907):
    the reply's next ``late_chunks`` chunks and their transcript were already on their way,
    then a ``turnComplete`` closes the cut generation."""
    scen = io.scenario
    late = [turn.unsent.popleft() for _ in range(min(scen.late_chunks, len(turn.unsent)))]
    for chunk, _ in late:
        await io.send(p.audio_chunk(chunk))
        turn.late_audio_s = round(turn.late_audio_s + len(chunk) / 2 / OUTPUT_RATE, 4)
    text = "".join(x for _, x in late)
    if late and not text:  # a transcript runs ahead of its audio: the next words
        text = next((x for _, x in turn.unsent if x), "")
    if text and io.info.output_transcription:
        await io.send(p.output_transcription(text))
        turn.late_text = text
    turn.unsent.clear()
    if scen.turn_complete_after_interrupt:
        prompt_audio_s, text_tokens = _prompt_size(turn)
        usage = p.usage(prompt_audio_s, text_tokens, turn.reply_audio_s + turn.late_audio_s)
        status = "IDLE" if io.info.caps.interaction_status else None
        await io.send(p.turn_complete(usage, interaction_status=status))


def at_level(pcm: bytes, level_dbfs: float) -> bytes:
    """``pcm`` scaled so its RMS is ``level_dbfs`` (a reply that is audio but near silence)."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    rms = float(np.sqrt(np.mean(x * x))) if x.size else 0.0
    if rms == 0.0:
        return pcm
    gain = 32768.0 * 10 ** (level_dbfs / 20) / rms
    return np.clip(np.rint(x * gain), -32768, 32767).astype("<i2").tobytes()


async def _tool_round(io: SessionIO, turn: UserTurn, spec: Turn) -> Any:
    calls: list[dict[str, Any]] = []
    for k, c in enumerate(spec.tool_calls):
        cid = c.id or f"call-{io.record.id}-{turn.index}-{k}"
        # fidelity rule 7: a tool declared with parametersJsonSchema gets no arguments
        args = {} if fidelity.empty_args(c.name, io.info) else c.args
        calls.append({"id": cid, "name": c.name, "args": args})
        turn.tool_call_ids.append(cid)
    loop = asyncio.get_running_loop()
    futures: dict[str, asyncio.Future[dict[str, Any]]] = {
        str(c["id"]): loop.create_future() for c in calls
    }
    io.tool_waiters.update(futures)
    msg = p.tool_call(calls)
    io.record.tool_calls.extend(calls)
    try:
        await io.send(msg)
        if spec.duplicate_tool_call:
            await io.send(msg)
        if spec.cancel_tool_after_ms is not None:
            await asyncio.sleep(spec.cancel_tool_after_ms / 1000)
            await cancel_tools(io, turn)
            return None
        try:
            async with asyncio.timeout(io.scenario.tool_timeout_s):
                results = [await f for f in futures.values()]
        except TimeoutError:
            io.record.warn(f"no toolResponse for {', '.join(futures)} in time")
            await cancel_tools(io, turn)
            return None
        return results[0]
    finally:
        for cid in futures:
            io.tool_waiters.pop(cid, None)


async def cancel_tools(io: SessionIO, turn: UserTurn) -> None:
    """Send toolCallCancellation for this turn's calls that have no response yet."""
    done = io.answered_tool_ids | io.cancelled_tool_ids
    open_ids = [cid for cid in turn.tool_call_ids if cid not in done]
    if open_ids:
        io.cancelled_tool_ids.update(open_ids)
        turn.tool_cancelled = True
        await io.send(p.tool_call_cancellation(open_ids))


async def _stream_text_only(io: SessionIO, pcm: bytes, text: str) -> None:
    """Fault stall_text_only: the reply's output transcription, paced as its audio would
    be, with no audio."""
    scen = io.scenario
    n = max(1, round(len(pcm) / 2 / OUTPUT_RATE * 1000 / scen.chunk_ms))
    for piece in transcript_pieces(text, n):
        await asyncio.sleep(scen.chunk_ms / 1000 / scen.realtime if scen.realtime > 0 else 0)
        if piece and io.info.output_transcription:
            await io.send(p.output_transcription(piece))


async def _stream_tone(io: SessionIO) -> None:
    """Fault stall_tone: the audio degenerates into a steady 1 kHz tone, with no output
    transcription, for ``stall_tone_s`` (paced in real time)."""
    scen = io.scenario
    chunk_s = scen.chunk_ms / 1000
    chunk = synth_tone(STALL_TONE_HZ, chunk_s, OUTPUT_RATE, 0.3).tobytes()
    start, sent = time.monotonic(), 0.0
    while sent < scen.stall_tone_s:
        delay = start + sent / (scen.realtime or 1.0) - time.monotonic()
        await asyncio.sleep(max(0.0, delay))
        await io.send(p.audio_chunk(chunk))
        sent += chunk_s


async def _stream_audio(
    io: SessionIO, turn: UserTurn, fault: str | None, pcm: bytes, text: str
) -> bool:
    """The reply's audio and transcript, paced; True when a stall fault stopped it."""
    scen = io.scenario
    chunk_bytes = max(2, round(OUTPUT_RATE * scen.chunk_ms / 1000) * 2)
    chunks = [pcm[i : i + chunk_bytes] for i in range(0, len(pcm), chunk_bytes)] or [b""]
    pieces = transcript_pieces(text, len(chunks))
    turn.unsent.extend(zip(chunks, pieces, strict=True))  # what a barge-in leaves in flight
    stops = ("close_1011", "drop", "garbage", "stall_mid_reply", "stall_tone")
    fault_at = len(chunks) // 2 if fault in stops else -1
    start = time.monotonic()
    sent_s = 0.0
    for k, chunk in enumerate(chunks):
        if k == fault_at:
            if fault == "stall_mid_reply":
                return True
            if fault == "stall_tone":
                turn.unsent.clear()
                io.stall()  # stuck from here: the tone is all this generation gives
                await _stream_tone(io)
                return True
            if fault == "close_1011":
                await io.close(1011, "Internal error encountered.")
                return False
            if fault == "drop":
                io.abort()
                return False
            await io.send_raw(GARBAGE_FRAME)
        if scen.realtime > 0:
            delay = start + sent_s / scen.realtime - time.monotonic()
            await asyncio.sleep(max(0.0, delay))
        else:
            await asyncio.sleep(0)
        turn.unsent.popleft()
        await io.send(p.audio_chunk(chunk))
        if pieces[k] and io.info.output_transcription:
            await io.send(p.output_transcription(pieces[k]))
        sent_s += len(chunk) / 2 / OUTPUT_RATE
        turn.reply_audio_s = round(sent_s, 4)
    return False
