"""Assemble a conversation from settings: source, gate, sinks, observers, transport.

The CLI calls ``run_talk`` with what the user asked for; tests and benchmarks call it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from voicecli.audio.base import AudioSink, AudioSource
from voicecli.audio.files import ConversationRecorder, FileSource, WavSink, open_file_source
from voicecli.audio.vad import Gate, SpeechDetector, gate_params_for, make_detector
from voicecli.config import Settings
from voicecli.continuation import Plan
from voicecli.live import capabilities
from voicecli.live import events as ev
from voicecli.live.control import SessionContext
from voicecli.live.conversation import (
    Conversation,
    Observer,
    Options,
    Recorder,
    Summary,
    ToolHandler,
)
from voicecli.live.messages import Connect
from voicecli.live.reconnect import ReconnectPolicy
from voicecli.live.resilient import ResilientTransport
from voicecli.live.setup import build_config, turn_mode
from voicecli.live.transport import live_connect
from voicecli.paths import check_paths
from voicecli.pricing import prices_for
from voicecli.tools import ToolSet, make_approver, open_tools
from voicecli.tools.confirm import Approver
from voicecli.ui.transcript import TranscriptWriter
from voicecli.video import session as media_session
from voicecli.video.spec import ShareSpec

log = logging.getLogger(__name__)


@dataclass
class TalkRequest:
    """What one run should do besides the settings."""

    input: Path | None = None
    output: Path | None = None
    record: Path | None = None
    transcript: Path | None = None
    fast: bool = False
    observers: Sequence[Observer] = field(default_factory=list)
    sinks: Sequence[AudioSink] = field(default_factory=list)
    source: AudioSource | None = None  # overrides ``input`` (devices, tests)
    tool_handler: ToolHandler | None = None
    extra_instructions: str | None = None
    reply_wait_s: float = 8.0
    # called with the running Conversation (signal handlers, typed input, views)
    on_start: Callable[[Conversation], None] | None = None
    # declare and answer the tools the settings name (built-ins, [[tools]], MCP, search)
    with_tools: bool = False
    approver: Approver | None = None  # for confirm = true tools; None: ask on the terminal
    caps: capabilities.ModelCaps | None = None  # the model's entry, when already looked up
    connect: Connect | None = None  # how to open a connection; None: the SDK (live_connect)
    continuation: Plan | None = None  # --continue / --session: resume or seed
    keep_audio: Path | None = None  # the history's copy of the two-sided recording (FLAC)
    share: ShareSpec | None = None  # screen, camera, video, images, watched output
    in_step: bool = False  # the audio is a file: a --video file follows its position


def make_gate(settings: Settings, caps: capabilities.ModelCaps) -> Gate:
    overrides: dict[str, object] = {"enabled": settings.vad != "off"}
    if settings.pre_roll_ms is not None:
        overrides["pre_roll_ms"] = settings.pre_roll_ms
    if settings.hangover_ms is not None:
        overrides["hangover_ms"] = settings.hangover_ms
    params = gate_params_for(
        caps.honours_stream_end, frame_ms=settings.frame_ms, turns=turn_mode(settings), **overrides
    )
    return Gate(params)


def make_detector_for(settings: Settings) -> SpeechDetector | None:
    """The gate's detector. With ``--vad off`` everything is sent, but webrtcvad still says
    where utterances end (to wait for their answers, and to trail silence after the input)."""
    if settings.vad == "off":
        return make_detector("webrtc", settings.vad_aggressiveness)
    return make_detector(settings.vad, settings.vad_aggressiveness)


REALTIME_WINDOW_S = 0.8  # the recording's part kept in memory in real time (then ~1 s behind)


class TeeRecorder:
    """Both sides into more than one recording (``--record`` and the history's copy)."""

    def __init__(self, recorders: list[ConversationRecorder]) -> None:
        self.recorders = recorders

    def add_user(self, pcm16k: bytes, t: float) -> None:
        for r in self.recorders:
            r.add_user(pcm16k, t)

    def add_model(self, pcm24k: bytes, t: float) -> None:
        for r in self.recorders:
            r.add_model(pcm24k, t)

    def model_cut(self, t: float) -> None:
        for r in self.recorders:
            r.model_cut(t)


@contextlib.contextmanager
def _outputs(
    req: TalkRequest,
) -> Iterator[tuple[list[AudioSink], ConversationRecorder | TeeRecorder | None, list[Observer]]]:
    """Open the output files; all are finalized on the way out, whatever happened.

    Each is written as a partial file and renamed when closed; a run that wrote no audio to
    an audio file (or failed before writing anything to a transcript) leaves that file's
    target as it was."""
    sinks: list[AudioSink] = list(req.sinks)
    observers: list[Observer] = list(req.observers)
    recorder: ConversationRecorder | TeeRecorder | None = None
    outputs: list[WavSink | ConversationRecorder | TranscriptWriter] = []
    failed = True
    try:
        if req.output is not None:
            wav = WavSink(req.output)
            sinks.append(wav)
            outputs.append(wav)
        recorders = []
        for path in (req.record, req.keep_audio):  # --record, and the history's copy
            if path is not None:
                # real time: nothing is placed more than ~0.3 s back (the user's 0.2 s
                # batches), so the file trails by a second; --fast places replies back
                one = ConversationRecorder(path, window_s=5.0 if req.fast else REALTIME_WINDOW_S)
                recorders.append(one)
                outputs.append(one)
        if recorders:
            recorder = recorders[0] if len(recorders) == 1 else TeeRecorder(recorders)
        if req.transcript is not None:
            writer = TranscriptWriter(req.transcript)
            observers.insert(0, writer)
            outputs.append(writer)
        yield sinks, recorder, observers
        failed = False
    finally:
        first_error: BaseException | None = None
        for out in reversed(outputs):
            # an audio file is kept only with audio in it: a run stopped before the model
            # spoke leaves an existing file as it was and creates no empty one
            audio = isinstance(out, (WavSink, ConversationRecorder))
            keep = out.has_content if audio else not failed or out.has_content
            try:
                out.close(keep=keep)
            except Exception as exc:
                log.debug("closing %s failed", out, exc_info=True)
                first_error = first_error or exc
        if first_error is not None and not failed:
            raise first_error


async def run_talk(settings: Settings, req: TalkRequest) -> Summary:
    """One conversation from start to end; raises VoicecliError subclasses on failure."""
    caps = req.caps or capabilities.lookup(
        settings.model, "vertex" if settings.vertex else "developer"
    )
    if not req.with_tools:
        return await _run(settings, caps, req, None)
    approver = req.approver or make_approver(False)
    async with open_tools(settings, caps, approver) as tools:
        for obs in req.observers:
            obs.on_event(ev.Notice(tools.describe()), 0.0)
            left_out = tools.left_out_notice()
            if left_out is not None:
                obs.on_event(ev.Notice(left_out, "warning"), 0.0)
        return await _run(settings, caps, req, tools)


async def _run(
    settings: Settings, caps: capabilities.ModelCaps, req: TalkRequest, tools: ToolSet | None
) -> Summary:
    ctx = SessionContext(settings, caps, req.extra_instructions, tools)

    def make_config(handle: str | None, seed: bool = False) -> Any:
        return build_config(  # from the current context: a reconnect keeps /system changes
            ctx.settings,
            caps,
            extra_instructions=req.extra_instructions,
            tools=ctx.declarations(),
            resumption_handle=handle,
            silence_ms=gate.params.hangover_ms,
            seed_history=seed,
        )

    gate = make_gate(settings, caps)
    make_config(None)  # impossible combinations are refused before anything is opened
    check_paths(
        {"--input": req.input},
        {"--output": req.output, "--record": req.record, "--transcript": req.transcript},
        audio_outputs=("--output", "--record"),
    )
    source = req.source
    if source is None:
        if req.input is None:
            raise ValueError("run_talk needs an input file or a source")
        source = await open_file_source(  # off the loop: a named pipe may block
            req.input, frame_ms=settings.frame_ms, realtime=not req.fast
        )
    detector = make_detector_for(settings)
    options = Options(
        fast=req.fast,
        timeout_s=settings.timeout,
        reply_wait_s=req.reply_wait_s,
        manual_activity=turn_mode(settings) == "client",
        turn_eagerness=settings.turn_eagerness,
        prices=prices_for(settings.model, settings.tables),
        hold_audio_in_calls=not caps.audio_during_call,
        watchdog=settings.watchdog,
        stall_s=settings.stall_after,
        idle_s=settings.idle_timeout or None,
        idle_action=settings.idle_action,
    )
    plan = req.continuation
    with _outputs(req) as (sinks, file_recorder, observers):
        _notes_to(source, observers)
        recorder: Recorder | None = file_recorder  # placed by the conversation's clock
        connect = req.connect or live_connect(settings, setup_timeout=settings.setup_timeout)
        transport_cm = ResilientTransport(
            connect,
            make_config,
            policy=ReconnectPolicy(max_attempts=settings.reconnect_attempts),
            resume=settings.resume,
            initial_handle=plan.handle if plan else None,
            seed=[(t.role, t.text) for t in plan.seed] if plan else None,
            seed_budget=settings.continue_budget_tokens,  # a reconnect that cannot resume
        )
        async with (
            media_session.opened(req.share, in_step=req.in_step or req.input is not None) as media,
            transport_cm as transport,
        ):  # pictures are opened before connecting, so a missing screen fails first
            source = media_session.wrap_source(source, media)
            conv = Conversation(
                transport,
                source,
                detector,
                gate,
                sinks=sinks,
                recorder=recorder,
                observers=observers,
                tool_handler=req.tool_handler or (tools.handler if tools else None),
                options=options,
            )
            conv.context = ctx
            if plan is not None:
                conv.notify(continued_event(plan, transport), 0.0)
            media_session.attach(media, conv, transport, settings)
            if req.on_start is not None:
                req.on_start(conv)
            try:
                async with media.running():
                    summary = await conv.run()
                if not summary.ended_by_user:
                    await _drain(sinks)
                return summary
            finally:
                await source.aclose()
                media_session.fill_summary(media, conv.summary)
                _write_summary(observers, conv)


DRAIN_LIMIT_S = 30.0


async def _drain(sinks: Sequence[AudioSink]) -> None:
    """The run is over: let the last reply finish playing on sinks that play in real time
    (a reply that arrived at the end of the input would otherwise be cut off)."""
    for sink in sinks:
        drain = getattr(sink, "drain", None)
        if drain is None:
            continue
        try:
            async with asyncio.timeout(DRAIN_LIMIT_S):
                await drain()
        except TimeoutError:
            log.warning("the speaker did not finish playing within %.0f s", DRAIN_LIMIT_S)


def _file_sources(source: Any) -> list[FileSource]:
    """The files inside a source (a recording played along, or chained before the mic)."""
    if isinstance(source, FileSource):
        return [source]
    inner = [getattr(source, "source", None), *getattr(source, "sources", ())]
    return [f for s in inner if s is not None for f in _file_sources(s)]


def _notes_to(source: AudioSource, observers: Sequence[Observer]) -> None:
    """A file source's notes (cut-off file, NaN samples) shown like any other notice."""

    def note(text: str) -> None:
        for obs in observers:
            obs.on_event(ev.Notice(text, "warning"), 0.0)

    for file in _file_sources(source):
        for text in file.notes:
            note(text)
        file.on_note = note


def continued_event(plan: Plan, transport: ResilientTransport) -> ev.Continued:
    """What the view and history say about the path --continue took."""
    how = "resumed" if transport.opened_as == "resumed" else "seeded"
    if transport.refused_handle and plan.why_no_handle is None:
        plan.why_no_handle = transport.refused_handle
    return ev.Continued(
        plan.session_id,
        how,
        plan.message(how),
        seeded_turns=len(plan.seed) if how == "seeded" else 0,
        left_out_turns=plan.left_out if how == "seeded" else 0,
    )


def _write_summary(observers: Sequence[Observer], conv: Conversation) -> None:
    record = {"type": "session_end", "t": round(conv.rel(), 3), **asdict(conv.summary)}
    for obs in observers:
        if hasattr(obs, "on_session_end"):  # transcript, JSON-lines view, history
            try:
                obs.on_session_end(record)
            except Exception:
                log.exception("observer %r failed at the session end", obs)
