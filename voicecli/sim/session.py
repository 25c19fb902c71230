"""One Live websocket connection: setup, the read loop, replies, barge-in and timers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import replace
from typing import Any

from aiohttp import WSMsgType, web

from voicecli.sim import fidelity
from voicecli.sim import protocol as p
from voicecli.sim.inputs import Action, Ended, InputTracker, Started, has_text
from voicecli.sim.records import Conversations, SessionRecord, Snapshot, UserTurn
from voicecli.sim.reply import cancel_tools, close_cut, stream_reply
from voicecli.sim.scenario import Scenario
from voicecli.sim.validate import (
    Rejection,
    SetupInfo,
    check_key,
    content_text,
    json_schema_tools,
    parse_setup,
)

SEND_ERRORS = (ConnectionError, RuntimeError)


class LiveSession:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport | None,
        scenario: Scenario,
        record: SessionRecord,
        conversations: Conversations,
    ) -> None:
        self.ws = ws
        self.transport = transport
        self.scenario = scenario
        self.record = record
        self.conversations = conversations
        self.info: SetupInfo  # set by _setup
        self.tool_waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.cancelled_tool_ids: set[str] = set()
        self.answered_tool_ids: set[str] = set()
        self._next_index = 0
        self._history: list[tuple[str, str]] = []
        self._send_lock = asyncio.Lock()
        self._turns: asyncio.Queue[UserTurn] = asyncio.Queue()
        self._reply_task: asyncio.Task[None] | None = None
        self._reply_turn: UserTurn | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._inputs: InputTracker
        self.seeding = False  # taking initial history (history_config) until turnComplete
        self.seeded_count = 0
        self.stalled = False  # a stall fault left this connection answering nothing
        self.system_text = ""
        self._started_at = time.monotonic()  # the session's start (kept across resumption)
        self._had_video = False
        self._video_limit: asyncio.Task[None] | None = None

    # ---- the SessionIO interface used by reply.py -----------------------------------

    async def send(self, msg: dict[str, Any]) -> None:
        if self._closing or self.ws.closed:
            raise ConnectionResetError("session closed")
        async with self._send_lock:
            await self.ws.send_bytes(p.encode(msg))
        for key in msg:
            self.record.sent[key] += 1
            if key == "serverContent":
                for inner in msg[key]:
                    self.record.sent[f"serverContent.{inner}"] += 1

    async def send_raw(self, data: bytes) -> None:
        async with self._send_lock:
            await self.ws.send_bytes(data)
        self.record.sent["garbage"] += 1

    async def close(self, code: int, reason: str) -> None:
        if self._closing:
            return
        self._closing = True
        reason = p.close_reason(reason)
        self.record.close_code, self.record.close_reason = code, reason
        self._cancel_tasks()
        with contextlib.suppress(*SEND_ERRORS):
            await self.ws.close(code=code, message=reason.encode("utf-8"))

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (the client sees 1006)."""
        self._closing = True
        self.record.close_code, self.record.close_reason = 1006, "dropped by scenario"
        if self.transport is not None:
            self.transport.abort()
        self._cancel_tasks()

    def schedule_goaway(self, time_left_s: float) -> None:
        self._spawn(self._close_after(time_left_s))

    def fault_for(self, index: int, fault: str | None) -> str | None:
        return self.conversations.fault_once(index, fault, self.scenario.repeat_faults)

    def stall(self) -> None:
        """Fidelity rule 13: a stall fault fired; what stays stuck is the scenario's
        ``stall_scope``."""
        scope = self.scenario.stall_scope
        if scope in ("connection", "handle"):
            self.stalled = True
        if scope == "handle":
            self.conversations.stuck = True

    def next_index(self) -> int:
        index, self._next_index = self._next_index, self._next_index + 1
        return index

    async def finish_turn(self, turn: UserTurn) -> None:
        turn.replied = True
        self._history.append((turn.heard, turn.reply_text))
        if self.info.resumption and not self.stalled:  # rule 13: a stuck server confirms nothing
            await self._send_handle()

    # ---- lifecycle --------------------------------------------------------------------

    async def run(self) -> None:
        try:
            if await self._setup():
                await self._read_loop()
        finally:
            self._cancel_tasks()
            for task in self._tasks:
                with contextlib.suppress(asyncio.CancelledError, *SEND_ERRORS):
                    await task
            self.record.closed = True
            if self.record.close_code is None:
                self.record.close_code = self.ws.close_code

    async def _setup(self) -> bool:
        msg = await self._next_message()
        if msg is None:
            return False
        self.record.messages[p.message_kind(msg)] += 1
        if not p.has(msg, "setup"):
            await self.close(
                1007, "Invalid JSON payload received. The first message must be setup."
            )
            return False
        setup = p.get(msg, "setup")
        self.record.setup = setup
        self.record.model = str(p.get(setup, "model") or "") or None
        rejection = check_key(self.record.api_key, self.scenario.api_key)
        parsed = rejection or parse_setup(setup, self.record.api_version)
        if isinstance(parsed, Rejection):
            await self.close(parsed.code, parsed.reason)
            return False
        self.info = parsed
        self.system_text = parsed.system_text
        self.seeding = parsed.initial_history and not parsed.resume_handle
        if parsed.resume_handle:
            snap = self.conversations.resume(parsed.resume_handle)
            if snap is None:  # fidelity rule 10: refused, with the scenario's close code
                await self.close(*fidelity.refused_handle(self.scenario))
                return False
            self.record.resumed_from = parsed.resume_handle
            self._next_index, self._history = snap.next_index, list(snap.history)
            self.seeded_count = snap.seeded
            self.stalled = self.conversations.stuck  # stall_scope "handle": still stuck
            self._started_at, self._had_video = snap.started_at, snap.had_video
            await asyncio.sleep(self.scenario.resume_delay_ms / 1000)  # a slow resume
        silence = fidelity.end_silence_ms(parsed.silence_ms, self.scenario)
        self._inputs = InputTracker(
            self.record, parsed, silence, self.scenario.speech_threshold_dbfs
        )
        if self.scenario.fault == "no_setup_reply":
            return True
        await self.send(p.setup_complete())
        if parsed.resumption:
            await self._send_handle()
        self._spawn(self._responder())
        self._spawn(self._deadline_timer())
        if self._had_video:
            self._arm_video_limit()
        return True

    async def _next_message(self) -> dict[str, Any] | None:
        while True:
            msg = await self.ws.receive()
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return None
            if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                continue
            try:
                data = json.loads(msg.data)
            except (json.JSONDecodeError, UnicodeDecodeError):
                await self.close(1007, "Invalid JSON payload received.")
                return None
            if isinstance(data, dict):
                return data
            await self.close(1007, "Invalid JSON payload received. Expected an object.")
            return None

    async def _read_loop(self) -> None:
        while not self._closing:
            msg = await self._next_message()
            if msg is None:
                return
            kind = p.message_kind(msg)
            self.record.messages[kind] += 1
            if self.scenario.fault == "no_setup_reply":
                continue
            actions: list[Action] = []
            if self.seeding and kind in ("realtime_input", "tool_response"):
                # HistoryConfig (google-genai types.py, LIVE_FACTS): the server takes
                # clientContent as history until turnComplete, and only then the realtime
                # conversation. Less forgiving reading: anything else before that is refused.
                await self.close(
                    1007,
                    f"Request contains an invalid argument. {kind} before the initial history "
                    "ended (history_config: send clientContent with turnComplete first).",
                )
                return
            if kind == "client_content" and self.seeding:
                self._seed(p.get(msg, "client_content"))
            elif kind == "context_update":
                if not await self._context_update(p.get(msg, "context_update")):
                    return
            elif kind == "realtime_input":
                ri = p.get(msg, "realtime_input")
                if not await self._audio_allowed(ri):
                    return
                actions = self._inputs.realtime_input(ri)
            elif kind == "client_content" and not self.info.caps.client_content:
                # fidelity rule 9: clientContent only as initial history on this model
                self.record.client_contents.append(p.get(msg, "client_content") or {})
                await self.close(1007, fidelity.CLIENT_CONTENT_REASON)
                return
            elif kind == "client_content":
                # LiveClientContent reference: "A message here will interrupt any current
                # model generation" (whatever turnComplete says)
                await self._barge_in()
                actions = self._inputs.client_content(p.get(msg, "client_content"))
            elif kind == "tool_response":
                self._tool_response(p.get(msg, "tool_response"))
            elif kind == "setup":
                await self.close(
                    1007, "Invalid JSON payload received. setup must be sent only once."
                )
                return
            else:
                self.record.warn(f"unknown client message {kind}")
            for action in actions:
                await self._act(action)
            if self.record.vision.frames and not self._had_video:
                self._had_video = True
                self._arm_video_limit()

    async def _act(self, action: Action) -> None:
        if isinstance(action, Started):
            # fidelity rule 6: server detection reports activity (not on 3.8)
            if action.at_s is not None and self.info.caps.voice_activity:
                with contextlib.suppress(*SEND_ERRORS):
                    await self.send(p.voice_activity("ACTIVITY_START", action.at_s))
            if self.info.interrupts:
                await self._barge_in()
        elif isinstance(action, Ended):
            audio = action.turn.source == "audio" and self.info.caps.voice_activity
            if audio and action.turn.end_s is not None:
                with contextlib.suppress(*SEND_ERRORS):
                    await self.send(p.voice_activity("ACTIVITY_END", action.turn.end_s))
            self.record.turns.append(action.turn)
            self._turns.put_nowait(action.turn)

    async def _barge_in(self) -> None:
        task, turn = self._reply_task, self._reply_turn
        if task is None or task.done() or turn is None:
            return
        task.cancel()
        await asyncio.wait({task})
        turn.interrupted = True
        self.record.interruptions += 1
        with contextlib.suppress(*SEND_ERRORS):
            await cancel_tools(self, turn)
            await self.send(p.interrupted())
            await close_cut(self, turn)

    def _seed(self, cc: Any) -> None:
        """Initial history: stored as the conversation so far, no model call (HistoryConfig:
        "This initial history will not trigger a model call and may end with model
        content"); turnComplete ends it."""
        for content in p.get(cc, "turns") or []:
            role = str(p.get(content, "role") or "user")
            text = " ".join(
                str(p.get(x, "text")) for x in p.get(content, "parts") or [] if has_text(x)
            )
            self.record.seeded_turns.append((role, text))
        self.seeded_count = len(self.record.seeded_turns)
        if p.get(cc, "turn_complete"):
            self.seeding = False

    async def _context_update(self, cu: Any) -> bool:
        """contextUpdate (google-genai ``send_context_update``; LIVE_FACTS): a new system
        instruction replaces the setup's, new tools replace the old, in order with the other
        inputs, on the same connection. A model without it closes 1007 (capabilities)."""
        self.record.context_updates.append(cu if isinstance(cu, dict) else {})
        if not self.info.caps.context_update:
            await self.close(1007, f"contextUpdate is not supported for models/{self.info.model}.")
            return False
        if p.has(cu, "tools"):  # fidelity rule 7 follows the new declarations
            self.info = replace(self.info, json_schema_tools=json_schema_tools(p.get(cu, "tools")))
        if p.has(cu, "system_instruction"):
            self.system_text = content_text(p.get(cu, "system_instruction"))
        return True

    async def _audio_allowed(self, ri: Any) -> bool:
        """Fidelity rule 8: audio while a function call is pending closes the session with
        1008 on the models that refuse it (the 2.5 native-audio models)."""
        if self.info.caps.audio_during_call or not p.has(ri, "audio"):
            return True
        pending = [cid for cid, fut in self.tool_waiters.items() if not fut.done()]
        if not pending:
            return True
        self.record.warn(f"audio while call {pending[0]} was pending")
        await self.close(1008, fidelity.AUDIO_DURING_CALL_REASON)
        return False

    def _tool_response(self, tr: Any) -> None:
        for fr in p.get(tr, "function_responses") or []:
            self.record.tool_responses.append(fr)
            cid = str(p.get(fr, "id") or "")
            fut = self.tool_waiters.get(cid)
            if fut is not None and not fut.done():
                fut.set_result(p.get(fr, "response") or {})
                self.answered_tool_ids.add(cid)
            elif cid in self.cancelled_tool_ids:
                self.record.warn(f"toolResponse for cancelled call {cid}")
            else:
                self.record.warn(f"toolResponse for unknown or answered call {cid!r}")

    async def _responder(self) -> None:
        while True:
            turn = await self._turns.get()
            self._reply_turn = turn
            self._reply_task = asyncio.create_task(stream_reply(self, turn))
            self._reply_task.add_done_callback(_retrieve)
            await asyncio.wait({self._reply_task})
            if not self._reply_task.cancelled() and self._reply_task.exception() is not None:
                exc = self._reply_task.exception()
                if not isinstance(exc, SEND_ERRORS):
                    self.record.warn(f"reply failed: {exc!r}")
            self._reply_task = self._reply_turn = None

    async def _send_handle(self) -> None:
        snap = Snapshot(
            self._next_index,
            tuple(self._history),
            seeded=self.seeded_count,
            started_at=self._started_at,
            had_video=self._had_video,
        )
        handle = self.conversations.issue(snap)
        self.record.handles_issued.append(handle)
        with contextlib.suppress(*SEND_ERRORS):
            await self.send(p.resumption_update(handle, resumable=True))

    async def _deadline_timer(self) -> None:
        s = self.scenario
        left = s.goaway_time_left_s
        at = s.goaway_after_s
        if at is None and s.max_connection_s is not None:
            at, left = max(0.0, s.max_connection_s - left), min(left, s.max_connection_s)
        if at is None:
            return
        await asyncio.sleep(at)
        with contextlib.suppress(*SEND_ERRORS):
            await self.send(p.go_away(left))
        await self._close_after(left)

    def _arm_video_limit(self) -> None:
        """LIVE_FACTS "Sessions": about 2 minutes with video without compression. Strict
        reading: counted from the session's start, no goAway first, and the session is
        over (its handles resume nothing)."""
        if self.info.compression or self._video_limit is not None:
            return
        left = self._started_at + self.scenario.video_session_limit_s - time.monotonic()
        self._video_limit = asyncio.create_task(self._end_video_session(max(0.0, left)))
        self._tasks.append(self._video_limit)

    async def _end_video_session(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self.conversations.expire(self._started_at)
        self.record.warn("session with video ended: no context window compression")
        await self.close(1011, "Session duration limit reached for sessions with video.")

    async def _close_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self.close(1011, "Deadline expired")

    def _spawn(self, coro: Any) -> None:
        self._tasks.append(asyncio.create_task(coro))

    def _cancel_tasks(self) -> None:
        me = asyncio.current_task()
        for task in [*self._tasks, self._reply_task]:
            if task is not None and task is not me and not task.done():
                task.cancel()


def _retrieve(task: asyncio.Task[None]) -> None:
    """Mark a finished reply's exception as seen (the session may close mid-reply)."""
    if not task.cancelled():
        task.exception()
