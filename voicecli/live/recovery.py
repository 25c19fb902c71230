"""Recovering from a silent stall (and ending an idle session): feeds the conversation's events to the ``Watchdog`` and
carries out its steps on the transport.

* nudge: the user's last words sent again as text (not journaled: a later resume must not
  send them twice); skipped when no words are known;
* resume: the transport moves to a new connection with the latest handle (what the server
  did not confirm, the stalled utterance among it, is sent again);
* new_session: a new session seeded with the conversation so far;
* give_up: the utterance is left to the ordinary no-reply wait.

A step the transport cannot take (one connection, no resumption) is skipped. Each step and
the recovery are ``ev.Stall`` events (status line, view, JSON lines, stats, history).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

from voicecli.audio.base import OUTPUT_RATE, SAMPLE_WIDTH
from voicecli.audio.format import dbfs
from voicecli.live import events as ev
from voicecli.live import messages as m
from voicecli.live.idle import IdleTimer, idle_text
from voicecli.live.watchdog import State, Step, Watchdog, is_tonal

TICK_S = 0.1  # how often the watchdog is asked


class StallGuard:
    """One per conversation; ``conv`` is the ``live.conversation.Conversation``."""

    def __init__(self, conv: Any, watchdog: Watchdog) -> None:
        self.conv = conv
        self.wd = watchdog
        # --idle-timeout: the guard also watches for a session with no speech at all
        self.idle = IdleTimer(conv.opt.idle_s, last=time.monotonic())
        self._words = ""  # what the user said (or typed) last: the nudge
        self._shown = 0  # steps shown for the stall in progress

    # --- fed by the conversation ---------------------------------------------------------
    def user_ended(self, t: float, text: str | None = None) -> None:
        self.idle.activity(t)
        if not self.wd.recovering:
            self._words = text or ""
        self.wd.user_ended(t)

    def holds_reply_wait(self) -> bool:
        """True while the watchdog owns the wait for a reply (no ``NO_REPLY`` booking)."""
        return self.wd.enabled and self.wd.state in (State.WAITING, State.RECOVERING)

    def tools_idle(self, t: float) -> None:
        self.wd.tool_running(False, t)

    def swallows(self, event: ev.TurnComplete) -> bool:
        """A ``turnComplete`` that is a stall (empty, or a transcript without audio): not
        booked as a turn; the recovery starts."""
        reason = event.reason or ("WAITING_FOR_INPUT" if event.waiting_for_input else None)
        kind = self.wd.turn_complete(
            ev.when(event), reason=reason, in_progress=event.interaction_status == "IN_PROGRESS"
        )
        if kind is None:
            return False
        self._restart_book(time.monotonic())
        return True

    def on_event(self, event: object) -> None:
        wd, t = self.wd, ev.when(event)
        if isinstance(event, ev.AudioChunk):
            seconds = len(event.pcm) / SAMPLE_WIDTH / (event.rate or OUTPUT_RATE)
            audible = dbfs(event.pcm) > self.conv.opt.silent_dbfs
            tonal = audible and (wd.transcribing or wd.recovering) and is_tonal(event.pcm)
            if audible:
                self.idle.activity(t)
            after = wd.model_audio(t, seconds, audible, tonal)
            if after is not None:
                kind = wd.recovered_kind or ""
                self._tell(ev.Stall(kind, "recovered", after_s=round(after, 3)))
        elif isinstance(event, ev.OutputTranscript):
            wd.transcribing = True
            wd.output_text(t)
        elif isinstance(event, ev.InputTranscript):
            if not wd.recovering:
                self._words += event.text
        elif isinstance(event, ev.ModelText):
            (wd.thinking if event.thought else wd.model_text)(t)
        elif isinstance(event, ev.GenerationComplete):
            wd.generation_complete(t)
        elif isinstance(event, ev.ToolCall):
            wd.tool_running(True, t)
        elif isinstance(event, ev.Interrupted):
            wd.interrupted(t)
        elif isinstance(event, ev.Reconnect) and event.phase != "reconnecting":
            wd.resumed(time.monotonic())

    # --- the steps -----------------------------------------------------------------------
    async def run(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            if self.conv.book.user_speaking or self.conv.book.model_busy or self.conv._tool_tasks:
                self.idle.activity(now)
            elif self.idle.due(now):
                self._idle()
            step = self.wd.check(now)
            while step is not None:
                step = await self._act(step)

    async def _act(self, step: Step) -> Step | None:
        """Take ``step``; returns the next one when it could not be taken."""
        now = time.monotonic()
        transport = self.conv.transport
        if step.action == "nudge":
            words = " ".join(self._words.split())
            if not words:
                return self.wd.skip(now)
            self._restart_book(now)
            self._tell(ev.Stall(step.kind, step.action, step.attempt))
            nudge = getattr(transport, "nudge", None)
            await (nudge or transport.send)(m.TextIn(words))
            return None
        if step.action in ("resume", "new_session"):
            recover = getattr(transport, "recover", None)
            if recover is None:
                return self.wd.skip(now)
            self._restart_book(now)
            self._tell(ev.Stall(step.kind, step.action, step.attempt))
            await recover(fresh=step.action == "new_session")
            return None
        self._tell(ev.Stall(step.kind, step.action, step.attempt))  # give_up
        self.conv._poke()
        return None

    def _idle(self) -> None:
        conv, action = self.conv, self.conv.opt.idle_action
        conv.notify(ev.Notice(idle_text(self.idle.timeout_s or 0.0, action), "warning"), conv.rel())
        if action == "mute":
            conv.set_muted(True)
        else:
            conv.summary.ended_idle = True
            conv.request_stop()

    def _restart_book(self, now: float) -> None:
        """The stalled reply is no reply: a reply that was heard in part ends as cut
        (reason "stalled"); one with nothing audible is forgotten; the wait for the answer
        starts again."""
        conv, book = self.conv, self.conv.book
        turn = book.current
        if turn is not None and turn.audible_s > 0:
            cut = book.interrupted(now, by_server=False)
            if cut is not None:
                cut.reason = "stalled"
                conv._turn_ended(cut, now)
        book.current = None
        book.pending_user_end = now
        if self.wd.kind == "tone":
            for sink in conv.sinks:
                sink.clear()  # the tone is not worth hearing (what was said before it plays)
        conv._poke()

    def _tell(self, event: ev.Stall) -> None:
        if event.action == "recovered":
            self._shown = 0
        else:  # numbered as shown (a skipped step is not shown)
            self._shown = 1 if event.attempt == 1 or not self._shown else self._shown + 1
            event = replace(event, attempt=self._shown)
            if event.action == "give_up":
                self._shown = 0
        self.conv.notify(event, self.conv.rel())
