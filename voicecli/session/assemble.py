"""Build and run one ``talk`` or ``listen`` session from settings and a ``SessionSpec``.

In order: refuse what cannot work, open the devices (before connecting, so a device problem
shows first), start the simulator when asked, open the view, typed input and the history
recorder, then run the conversation with Ctrl-C handling; the summary is shown at the end.
The CLI, the tests and Python callers all come through ``run_session``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from voicecli import continuation
from voicecli.audio.base import AudioSource
from voicecli.config import Settings, redact
from voicecli.continuation import Plan
from voicecli.errors import UsageError, VoicecliError
from voicecli.history import HistoryRecorder, session_meta
from voicecli.live import capabilities
from voicecli.live.conversation import Summary
from voicecli.paths import check_paths
from voicecli.session import listen as co
from voicecli.session.audio import SessionAudio, open_listen_audio, open_talk_audio
from voicecli.session.engine import TalkRequest, run_talk
from voicecli.session.preflight import preflight
from voicecli.session.signals import ctrl_c_stops, stop_signals_interrupt
from voicecli.session.simulator import endpoint_name, simulator
from voicecli.session.spec import SessionSpec
from voicecli.tools import check_config
from voicecli.ui.summary import format_summary
from voicecli.ui.talk_ui import TalkUI, talk_ui
from voicecli.video.options import describe

SIM_WORDS = (
    "the simulator recognises no speech: 'you' lines are its scenario's script "
    '(or "(speech 1.2 s)"), not your words'
)


def run_session(settings: Settings, spec: SessionSpec) -> Summary:
    """One session from start to end; raises ``VoicecliError`` subclasses on failure.
    SIGTERM and SIGHUP end it as Ctrl-C does (see ``voicecli.session.signals``)."""
    with stop_signals_interrupt():
        return _run_session(settings, spec)


def _run_session(settings: Settings, spec: SessionSpec) -> Summary:
    settings = settings.with_overrides(history=spec.history, echo=spec.echo)
    check_config(settings)
    spec.check()
    _check_files(settings, spec)
    plan = _continuation(settings, spec)
    if plan is not None:
        spec = replace(spec, continues=(plan.conversation_id, plan.session_id))
    audio = _open_audio(settings, spec)
    where = endpoint_name(settings, spec.sim)
    scenario = spec.scenario
    if spec.kind == "listen" and spec.sim and scenario is None:
        scenario = co.sim_scenario()
    with (
        contextlib.closing(audio),
        simulator(settings, scenario, spec.sim) as settings,
        talk_ui(settings, json_out=spec.json_out, typed_input=spec.typed_input) as ui,
        _history(settings, spec, where, ui) as history,
    ):
        caps = capabilities.lookup(settings.model, "vertex" if settings.vertex else "developer")
        for note in audio.notes:
            ui.status(f"note: {note}")
        for problem in settings.file_warnings:
            ui.status(f"warning: {problem}")
        if spec.sim:  # the scenario's words are no recognition of yours: say so up front
            ui.status(f"note: {SIM_WORDS}")
        parts = _parts(settings, spec, audio, ui)
        about = f"; topics: {', '.join(spec.topics)}" if spec.topics else ""
        shared = describe(spec.share)
        ui.status(f"voicecli: {settings.model} via {where}; {parts.banner}{about}; {shared}")
        req = TalkRequest(
            input=spec.input if parts.source is None else None,
            source=parts.source,
            sinks=[*audio.sinks, *spec.sinks],
            output=spec.output,
            record=spec.record,
            transcript=spec.transcript,
            fast=spec.fast,
            observers=[*ui.observers, *history, *spec.observers],
            on_start=parts.on_start,
            with_tools=spec.tools,
            approver=spec.approver or ui.approver(spec.yes),
            caps=caps,
            connect=spec.connect,
            continuation=plan,
            keep_audio=history[0].audio_path if history else None,
            share=spec.share,
            in_step=spec.input is not None,
        )
        if spec.kind == "listen":
            summary = asyncio.run(co.run_listen(settings, spec.topics, req))
        else:
            summary = asyncio.run(run_talk(settings, req))
    ui.status(format_summary(summary))
    if audio.live is not None:
        from voicecli.ui.devices_view import format_audio_stats

        ui.status(format_audio_stats(audio.stats()))
    return summary


def _continuation(settings: Settings, spec: SessionSpec) -> Plan | None:
    """The plan for --continue / --session ID (None: a new conversation)."""
    if not spec.continue_last and spec.continue_id is None:
        return None
    from voicecli.history import HistoryStore, default_path

    path = spec.history_path or default_path()
    if not path.exists():
        raise UsageError("no conversations stored yet to continue", f"{path} does not exist")
    store = HistoryStore(path)
    try:
        return continuation.plan(store, spec.continue_id, settings)
    finally:
        store.close()


def _check_files(settings: Settings, spec: SessionSpec) -> None:
    """The input file, the output folders and whatever else needs no device or connection
    (``preflight``), checked before any banner is printed (with
    --json, a failure is also the one ``error`` record on stdout)."""
    from voicecli.audio.files import check_audio_file

    try:
        if spec.input is not None and spec.source is None:
            check_audio_file(spec.input)
        check_paths(  # before anything opens: no output may be an input or another output
            {"--input": spec.input, "--scenario": spec.scenario},
            {"--output": spec.output, "--record": spec.record, "--transcript": spec.transcript},
            audio_outputs=("--output", "--record"),
        )
        preflight(settings, spec)  # the model, the key, what is shared
    except VoicecliError as e:
        if spec.json_out:
            from voicecli.ui.jsonl import JsonLinesView

            JsonLinesView().error(e, settings.api_key)
        raise


def _open_audio(settings: Settings, spec: SessionSpec) -> SessionAudio:
    has_file = spec.input is not None or spec.source is not None
    if spec.kind == "listen":
        return open_listen_audio(
            settings, has_file=has_file, then_talk=spec.then_talk, quiet=spec.quiet
        )
    piped = spec.typed_input and not _isatty(sys.stdin)
    return open_talk_audio(settings, has_file=has_file, typed_only_ok=piped)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def _history(
    settings: Settings, spec: SessionSpec, where: str, ui: TalkUI
) -> Iterator[list[HistoryRecorder]]:
    """The history recorder as a list of observers (empty with history off)."""
    if not settings.history:
        yield []
        return
    name = str(spec.input or ("python" if spec.source is not None else "mic"))
    warn: Callable[[str], None] = lambda text: ui.status(f"warning: {text}")  # noqa: E731
    meta = session_meta(settings, where, name, command=spec.kind, continues=spec.continues)
    keep: Path | None = None
    if settings.audio_history:
        from voicecli.audio_history import new_recording_path

        try:
            keep = new_recording_path()
        except OSError as e:  # a read-only or full home: like a locked database, one warning
            what = (e.strerror or str(e)).lower()
            warn(f"history is off for this session: cannot write {e.filename}: {what}")
            yield []
            return
    recorder = HistoryRecorder(
        meta,
        spec.history_path,
        warn=warn,
        audio_cap_bytes=int(settings.audio_history_mb * 1_000_000),
    )
    if keep is not None:
        recorder.keep_audio(keep)
    try:
        yield [recorder]
    except VoicecliError as e:
        recorder.failed_with(e, redact(e.one_line(), settings.api_key))
        raise
    except Exception as e:  # a bug: recorded too, so the history says the run failed
        recorder.failed_with(e, redact(f"{type(e).__name__}: {e}", settings.api_key))
        raise
    finally:
        recorder.close()


@dataclass
class _Parts:
    source: AudioSource | None  # None: the engine reads spec.input
    banner: str  # what is heard, for the status line
    on_start: Callable[[Any], None]


def _parts(settings: Settings, spec: SessionSpec, audio: SessionAudio, ui: TalkUI) -> _Parts:
    on_start = ui.on_start(ctrl_c_stops(ui.status))
    if spec.source is not None:
        return _Parts(spec.source, "speaking from a Python source", on_start)
    if audio.live is not None and spec.input is None:
        return _Parts(ui.metered(audio.live.source), audio.live.status, on_start)
    if spec.input is None and ui.prompt is not None:  # no microphone: typed lines, to their end
        hold = co.HoldSource(settings.frame_ms)
        return _Parts(hold, "typing", co.typed_after(hold, ui.prompt, ctrl_c_stops(ui.status)))
    assert spec.input is not None
    if spec.kind == "talk":
        return _Parts(None, f"speaking {spec.input}", on_start)
    then = audio.then_source(settings.frame_ms) if spec.then_talk else None
    if isinstance(then, co.HoldSource) and ui.prompt is not None:
        on_start = co.typed_after(then, ui.prompt, ctrl_c_stops(ui.status))
    player = audio.player()
    source = co.file_source(settings, spec.input, fast=spec.fast, player=player, then=then)
    heard = f"listening to {spec.input}" + (" (not played)" if player is None else "")
    return _Parts(source, heard, on_start)
