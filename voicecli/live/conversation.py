"""The conversation loop: audio source -> VAD gate -> Live session -> sinks and observers.

Two tasks share one transport: the uplink reads frames from an ``AudioSource``, classifies
and gates them, and sends what the gate lets through; the downlink turns server events into
playback (``AudioSink``), the two-sided recording, turn bookkeeping and observer callbacks
(view, transcript, history). Nothing here knows whether the audio comes from a file or a
microphone, or whether the server is the simulator or Google.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from voicecli.audio.base import (
    INPUT_RATE,
    OUTPUT_RATE,
    SAMPLE_WIDTH,
    AudioSink,
    AudioSource,
    PausableSink,
    frame_bytes,
)
from voicecli.audio.format import dbfs
from voicecli.audio.vad import Act, Gate, SpeechDetector
from voicecli.errors import ServerError, UsageError, VoicecliError
from voicecli.live import events as ev
from voicecli.live import messages as m
from voicecli.live.ports import (
    NoTools,
    Observer,
    Options,
    OutputClosed,
    Recorder,
    ToolHandler,
    Transport,
)
from voicecli.live.recovery import StallGuard
from voicecli.live.reply_hold import ReplyHold
from voicecli.live.settle import settle
from voicecli.live.stats import SessionStats, Summary, finish_summary
from voicecli.live.timeline import RecordingClock
from voicecli.live.tool_tasks import ToolTasks
from voicecli.live.turn_policy import TurnPolicy
from voicecli.live.turn_signals import CUT_CONTENT, ends_user_turn
from voicecli.live.turns import STOPPED, TurnBook
from voicecli.live.watchdog import Watchdog

log = logging.getLogger(__name__)

__all__ = [
    "Conversation",
    "NoTools",
    "Observer",
    "Options",
    "Recorder",
    "Summary",
    "ToolHandler",
    "Transport",
]

SEND_MS = 60  # audio goes out in messages of this much while the user speaks
SEND_BYTES = INPUT_RATE * SAMPLE_WIDTH * SEND_MS // 1000


class Conversation:
    def __init__(
        self,
        transport: Transport,
        source: AudioSource,
        detector: SpeechDetector | None,
        gate: Gate,
        *,
        sinks: Sequence[AudioSink] = (),
        recorder: Recorder | None = None,
        observers: Sequence[Observer] = (),
        tool_handler: ToolHandler | None = None,
        options: Options | None = None,
    ) -> None:
        self.transport = transport
        self.source = source
        self.detector = detector
        self.gate = gate
        self.sinks = list(sinks)
        self.recorder = recorder
        self.observers = list(observers)
        self.tool_handler = tool_handler or NoTools()
        self.opt = options or Options()
        self.book = TurnBook()
        self.summary = Summary()
        self.media: Any = None  # voicecli.video's Media while sharing (/look, /unshare)
        self._t0 = time.monotonic()
        self._changed = asyncio.Event()  # set whenever the turn state changes
        self._stop = asyncio.Event()
        self.stats = SessionStats()  # the session's counts (views and /stats read them)
        self._input_done = False
        self._last_speech: float | None = None
        # where the two-sided recording places audio (with --fast: by content, not by the
        # clock); what the history stores is on this timeline
        self.clock = RecordingClock(fast=self.opt.fast)
        for obs in self.observers:  # observers that store times (history) use its timeline
            use_clock = getattr(obs, "use_clock", None)
            if use_clock is not None:
                use_clock(self.clock)
        self._unsent = bytearray()  # gated audio not sent yet (at most SEND_MS)
        self._tool_tasks = ToolTasks(self)  # the model's calls, running
        self._reasoning = False  # interactionStatus IN_PROGRESS: more output may follow
        self.context: Any = None  # live.control.SessionContext: what /system ... change
        wd = Watchdog(self.opt.watchdog, self.opt.stall_s, tone_s=self.opt.stall_s)
        self.guard = StallGuard(self, wd)
        # when a voice starts a turn and when a reply may be heard (held while the user may
        # go on); holding needs client-driven turns in real time
        self.turn = TurnPolicy(
            self.opt.turn_eagerness,
            hold=self.opt.manual_activity and not self.opt.fast,
            barge_in_ms=self.opt.barge_in_ms,
            onset_ms=gate.params.onset_ms,
            frame_ms=gate.params.frame_ms,
        )
        self.hold = ReplyHold(self.turn, self._deliver, self._turn_hold)

    # ------------------------------------------------------------------------ helpers
    def rel(self, t: float | None = None) -> float:
        return (time.monotonic() if t is None else t) - self._t0

    @property
    def muted(self) -> bool:
        """``/mute``: the uplink sends nothing."""
        return self.stats.muted

    def uplink_seconds(self) -> tuple[float, float]:
        """Microphone audio heard and sent so far, seconds."""
        return self.gate.seconds_in, self.gate.seconds_sent

    def set_muted(self, muted: bool) -> None:
        self.notify(ev.MuteChanged(muted, t=time.monotonic()))

    def notify(self, event: ev.AnyEvent, t: float | None = None) -> None:
        """Count the event, then tell every observer. Events carry ``time.monotonic()`` (None:
        not stamped, taken as now); observers get it as seconds since the session start."""
        if t is None:
            t = self.rel(getattr(event, "t", None))
        self.stats.on_event(event, t)
        for obs in self.observers:
            try:
                obs.on_event(event, t)
            except OutputClosed:  # its reader went away (`| head -1`): end quietly
                self.request_stop()
            except Exception:  # an observer must never end the conversation
                log.exception("observer %r failed", obs)

    def _turn_hold(self, state: str) -> None:
        self.notify(ev.TurnHold(state, t=time.monotonic()))

    def _poke(self) -> None:
        self._changed.set()

    async def _wait_change(self, seconds: float) -> bool:
        self._changed.clear()
        try:
            async with asyncio.timeout(seconds):
                await self._changed.wait()
            return True
        except TimeoutError:
            return False

    # ------------------------------------------------------------------------ run
    async def run(self) -> Summary:
        """Until the input is over and answered, the user stops, or an error ends it."""
        self._t0 = time.monotonic()
        try:
            async with asyncio.TaskGroup() as tg:
                down = tg.create_task(self._downlink())
                main = tg.create_task(self._main())
                stop = tg.create_task(self._stop.wait())
                guard = tg.create_task(self.guard.run())
                await asyncio.wait({main, stop, down}, return_when=asyncio.FIRST_COMPLETED)
                if stop.done():
                    self._cut_reply()
                for task in (main, stop, down, guard):
                    task.cancel()
        except* VoicecliError as group:
            raise group.exceptions[0] from None
        finally:
            self._tool_tasks.cancel()
            self.hold.close()
            self._finish_summary()
        return self.summary

    def _cut_reply(self) -> None:
        """Stopped (Ctrl-C, /quit) while the model was answering: what it said so far ends
        as an interrupted turn (reason ``STOPPED``), so the views and the history keep it."""
        turn = self.book.current
        if turn is None or not (turn.model_text.strip() or turn.audio_s):
            return
        now = time.monotonic()
        cut = self.book.interrupted(now, by_server=False)  # no turnComplete closes it
        if cut is not None:
            cut.reason = STOPPED
            self._turn_ended(cut, now)

    def request_stop(self) -> None:
        """End the conversation cleanly (Ctrl-C, /quit): outputs are finalized by the caller."""
        self._stop.set()

    async def _main(self) -> None:
        await self._uplink()
        self._input_done = True
        await self._settle()

    def _finish_summary(self) -> None:
        finish_summary(self.summary, self)
        self.summary.ended_by_user = self._stop.is_set()

    # ------------------------------------------------------------------------ uplink
    async def _uplink(self) -> None:
        async for frame in self.source.frames():
            now = time.monotonic()
            due = self.book.no_reply_due(now, self.opt.reply_wait_s)
            if due and not self._tool_tasks and not self.guard.holds_reply_wait():
                self._no_reply(now)
            at = self.clock.user(len(frame) / SAMPLE_WIDTH / INPUT_RATE, self.rel(now))
            if self.recorder is not None:
                self.recorder.add_user(frame, at)
            if (
                self.muted or self._tool_tasks.hold_mic()
            ):  # nothing goes out; an utterance is closed
                if self.gate.is_open or self.gate.trailing:
                    await self._apply(self.gate.finish(stop_trailing=True), now)
                continue
            raw = speech = self.detector.is_speech(frame) if self.detector else True
            if self.detector is not None:  # a turn starts with a voice, not a keyboard
                speech, noise = self.turn.onset(frame, raw, self.gate.state, now)
                if noise:
                    self._turn_hold("noise")
            if not self.gate.is_open:  # while the model speaks: barge-in (pause, confirm)
                loud = dbfs(frame) >= self.opt.barge_in_dbfs
                busy = self.book.model_busy
                speech, act = self.turn.barge_in(raw, speech, loud, busy, now)
                self._playback(act)
            if speech and self.gate.is_open:
                self._last_speech = now
                self.clock.speech()
                self.book.user_speech(now)
            was_trailing = self.gate.trailing
            ended = await self._apply(self.gate.push(frame, speech), now)
            if self.opt.fast and (ended or (was_trailing and self.gate.quiet)):
                # fast mode: the next utterance waits for this answer; with server detection
                # the server first needs its trailing audio (silence, not the next speech)
                await self._trail_silence()
                await self._settle()
        await self._apply(self.gate.finish(), time.monotonic())
        if self.turn.unpause():  # the input is over: what was paused plays on
            self._playback("resume")
        await self._trail_silence()

    def _playback(self, act: str | None) -> None:
        """A possible barge-in pauses the sinks that play; a false alarm resumes them."""
        for sink in self.sinks if act else ():
            if isinstance(sink, PausableSink):
                sink.pause() if act == "pause" else sink.resume()
        if act:
            self._turn_hold("paused" if act == "pause" else "resumed")

    async def _trail_silence(self) -> None:
        """Server detection: keep sending silence until the server has ended the turn (or the
        gate gives up), paced in real time (fast mode: four times faster)."""
        silence = bytes(frame_bytes(self.gate.params.frame_ms))
        step = self.gate.params.frame_ms / 1000 / (4 if self.opt.fast else 1)
        next_at = time.monotonic()
        while self.gate.trailing and not self._stop.is_set():
            next_at += step
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            await self._apply(self.gate.push(silence, False, counted=True), time.monotonic())

    async def _apply(self, actions: list[Any], now: float) -> bool:
        """Carry out the gate's actions; True when an utterance ended."""
        ended = False
        for action in actions:
            if action.kind is Act.SEND:
                # sent in messages of SEND_MS (per-message work in the SDK and the websocket
                # was the biggest cost on the loop); anything else flushes first
                self._unsent += action.frame
                if len(self._unsent) >= SEND_BYTES:
                    await self._flush_audio()
                continue
            await self._flush_audio()
            if action.kind is Act.SPEECH_START:
                if self.opt.manual_activity:
                    await self.transport.send(m.ActivityStart())
                self.book.user_started(now)
                barge = self.turn.barge_confirmed(self.book.model_busy)
                if barge:  # a real interruption: "interrupted" clears what is paused
                    self._turn_hold("confirmed")
                if barge == "cut":  # ...the turn is over: none will come
                    self._clear_sinks()
                if self.turn.user_started():  # the user went on: the early reply is dropped
                    self._turn_hold("discarded")
                self.hold.changed()
                self.clock.speech_started(self.turn.onset_s(self.gate.params))
                self.notify(ev.UserSpeechStarted(t=now))
            elif action.kind is Act.SPEECH_END:
                if self.opt.manual_activity:
                    await self.transport.send(m.ActivityEnd())
                end = self._last_speech or now
                self.book.user_ended(end)
                self.guard.user_ended(end)
                self.turn.user_ended(end)
                self.clock.speech_ended()
                self.notify(ev.UserSpeechEnded(t=end))
                ended = True
            elif action.kind is Act.STREAM_END:
                await self.transport.send(m.StreamEnd())
        if not self.gate.is_open:
            await self._flush_audio()  # the utterance is over: nothing may wait
        return ended

    async def _flush_audio(self) -> None:
        if self._unsent and self._tool_tasks.hold_mic():
            self._unsent = bytearray()  # heard while a call is pending: not sent
        if self._unsent:
            data, self._unsent = bytes(self._unsent), bytearray()
            await self.transport.send(m.AudioIn(data))

    async def change_context(self, kind: str, value: str = "") -> None:
        """``/system``, ``/style``, ``/tools``, ``/tool``: changed on this connection (no
        reconnect, no user turn); raises a VoicecliError when it cannot be done."""
        if self.context is None:
            raise UsageError("this session cannot change its context")
        change = await self.context.change(self.transport, kind, value)
        self.notify(replace(change, t=time.monotonic()))

    async def send_text(self, text: str) -> None:
        """A typed turn into the same session."""
        now = time.monotonic()
        self.book.user_ended(now)
        self.guard.user_ended(now, text)
        self.notify(ev.UserText(text, t=now))
        await self._flush_audio()
        await self.transport.send(m.TextIn(text))

    # ------------------------------------------------------------------------ waiting
    async def _settle(self) -> None:
        await settle(self)  # until the model's turn is over (``live/settle.py``)

    def _no_reply(self, now: float) -> None:
        turn = self.book.no_reply(now)
        if turn is not None:
            self._turn_ended(turn, now)
            self._poke()

    # ------------------------------------------------------------------------ downlink
    async def _downlink(self) -> None:
        async for event in self.transport.events():
            if self._late(event):
                continue
            if isinstance(event, ev.InputTranscript):
                self.turn.heard(event.text)  # the commit window depends on what was heard
            admitted = self.turn.admit(event, time.monotonic())
            if isinstance(event, ev.Interrupted) and not admitted:
                # a held reply the service dropped (never heard): its late content and the
                # turnComplete closing it are dropped as a cut's are, and no turn is booked
                self.book.dropped(ev.when(event))
            self._deliver(admitted)
            self.hold.changed()
        if self.book.awaiting_reply or not self._input_done:
            raise ServerError("the server closed the session unexpectedly", "try again")

    def _late(self, event: ev.LiveEvent | ev.Reconnect) -> bool:
        """Late content of an interrupted generation is never played, recorded or shown,
        and the ``turnComplete`` closing it ends no turn (``TurnBook.late``, ``close_cut``)."""
        t = ev.when(event)
        if isinstance(event, ev.TurnComplete) and self.book.close_cut(t):
            self._reasoning = False
            return True
        return isinstance(event, CUT_CONTENT) and self.book.late(t)

    def _deliver(self, events: list[Any]) -> None:
        """Server events let through (or released by the turn policy's hold)."""
        for event in events:
            self._handle(event)
            self.guard.on_event(event)
            self.notify(event)
        self._poke()

    def _handle(self, event: ev.LiveEvent | ev.Reconnect) -> None:
        book = self.book
        now = ev.when(event)
        if ends_user_turn(event):
            self.gate.server_turn_ended()  # server detection: trailing audio may stop
        if isinstance(event, ev.AudioChunk):
            seconds = len(event.pcm) / SAMPLE_WIDTH / (event.rate or OUTPUT_RATE)
            book.model_audio(now, seconds, dbfs(event.pcm) > self.opt.silent_dbfs)
            for sink in self.sinks:
                sink.write(event.pcm)
            at = self.clock.model(seconds, self.rel(now))
            if self.recorder is not None:
                self.recorder.add_model(event.pcm, at)
        elif isinstance(event, ev.InputTranscript):
            book.user_text(event.text)
        elif isinstance(event, ev.OutputTranscript):
            book.model_text(event.text)
        elif isinstance(event, ev.Interrupted):
            self._clear_sinks()
            cut = self.clock.cut(self.rel(now))
            if self.recorder is not None:
                self.recorder.model_cut(cut)
            turn = book.interrupted(now)
            if turn is not None:
                self._turn_ended(turn, now)
        elif isinstance(event, ev.TurnComplete):
            self._flush_sinks()
            after_turn = book.current is None and book.pending_user_end is None
            if event.interaction_status == "IDLE" and self._reasoning and after_turn:
                self._reasoning = False  # background reasoning after a finished turn is over
                return
            self._reasoning = event.interaction_status == "IN_PROGRESS"
            if self.guard.swallows(event):
                return  # a stall, not a turn: the watchdog recovers
            reason = event.reason or ("WAITING_FOR_INPUT" if event.waiting_for_input else None)
            turn = book.turn_complete(now, reason)
            if turn is not None:
                self._turn_ended(turn, now)
        elif isinstance(event, ev.ToolCall):
            self._tool_tasks.start(event)
        elif isinstance(event, ev.ToolCallCancellation):
            self.tool_handler.cancel(event.ids)
        elif isinstance(event, ev.Reconnect) and event.phase == "reconnecting":
            lost = book.connection_lost(now)  # other phases: counted by the stats
            if lost is not None:
                self._turn_ended(lost, now)

    def _clear_sinks(self) -> None:
        self.turn.unpause()
        for sink in self.sinks:
            sink.clear()

    def _flush_sinks(self) -> None:
        """The model's turn is over: the sinks play what they hold (the speaker's stream
        ends, so running dry is no underrun)."""
        for sink in self.sinks:
            sink.flush()

    def _turn_ended(self, turn: Any, t: float) -> None:
        self._flush_sinks()
        self.notify(turn.ended_event(t, self.clock.turn_ended(self.rel(t))))
