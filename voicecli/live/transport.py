"""The one real Live transport: google-genai's AsyncSession, seen through our own events.

``open_transport`` connects (the simulator and Google differ only in the base URL and the CA
to trust), ``LiveTransport`` sends our inputs and yields ``live.events`` objects. Every SDK
and websocket failure is turned into a ``VoicecliError`` here.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from voicecli.audio.base import INPUT_MIME, OUTPUT_RATE
from voicecli.audio.format import mime_rate
from voicecli.config import Settings, redact
from voicecli.errors import (
    AuthError,
    ModelError,
    NetworkError,
    ServerError,
    SessionTimeout,
    UsageError,
    VoicecliError,
)
from voicecli.live import capabilities
from voicecli.live import events as ev
from voicecli.live import messages as m
from voicecli.live.failures import connect_error
from voicecli.live.setup import history_turns, instruction_content
from voicecli.safe_text import terminal_safe

log = logging.getLogger(__name__)

SETUP_TIMEOUT_S = 15.0


def api_version_for(settings: Settings, purpose: str = "live") -> str | None:
    """The API version for a Live session (``purpose="live"``) or a REST call ("rest").

    ``api_version`` in the settings wins; otherwise the capability table's: v1beta on the
    Developer API (the SDK's own default, v1, has no Live WebSocket), the SDK's default on
    Vertex AI.
    """
    if settings.api_version:
        return settings.api_version
    if settings.vertex:
        return None
    if purpose == "rest":
        return capabilities.REST_API_VERSION
    return capabilities.live_api_version(settings.model, api_key=settings.api_key)


def make_client(settings: Settings, purpose: str = "live") -> genai.Client:
    """A google-genai client for the settings (key, endpoint, API version, CA, Vertex)."""
    opts: dict[str, Any] = {}
    if settings.base_url:
        opts["base_url"] = settings.base_url
    version = api_version_for(settings, purpose)
    if version:
        opts["api_version"] = version
    if settings.ca_file:
        try:
            ctx = ssl.create_default_context(cafile=settings.ca_file)
        except (OSError, ssl.SSLError) as e:
            raise UsageError(
                f"cannot load CA file {settings.ca_file}: {e}", "check ca_file / SSL_CERT_FILE"
            ) from None
        opts["async_client_args"] = {"ssl": ctx}
        opts["client_args"] = {"verify": ctx}
    http_options = types.HttpOptions(**opts) if opts else None
    if settings.vertex:
        return genai.Client(
            vertexai=True,
            project=settings.project,
            location=settings.location,
            http_options=http_options,
        )
    require_key(settings, "say" if purpose == "rest" else "talk")
    return genai.Client(api_key=settings.api_key, http_options=http_options)


def require_key(settings: Settings, command: str = "talk") -> None:
    """An AuthError unless the settings carry a usable key (Vertex needs none); ``command``
    is the one the hint suggests trying with ``--sim``. Called before anything is printed."""
    if settings.vertex:
        return
    if settings.key_problem is not None:
        raise settings.key_problem
    if not settings.api_key:
        raise AuthError(
            "no API key found",
            "export GEMINI_API_KEY=... or run `voicecli key set`; "
            f"or try voicecli without a key: `voicecli {command} --sim`",
        )


def map_close(
    code: int | None, reason: str, key: str | None = None, *, at_setup: bool = True
) -> VoicecliError:
    """Turn a websocket close (as the SDK reports it) into our error with a hint.

    ``at_setup``: the close answered the setup. A 1008 there is a model the endpoint does
    not serve; after ``setupComplete`` a 1008 (or 1011) ends the session, not the model
    (LIVE_FACTS "Tools and mid-session input"): a ServerError the session reconnects from."""
    reason = redact((reason or "").strip(), key)
    short = reason[:160] or "no reason given"
    err: VoicecliError
    if code == 1007 and "key" in reason.lower():
        err = AuthError(
            f"the server rejected the API key (1007: {short})",
            "check GEMINI_API_KEY / `voicecli key set`",
        )
    elif code == 1008 and not at_setup:
        err = ServerError(
            f"the server ended the session (1008: {short})", "try again; --debug shows more"
        )
    elif code == 1008:
        err = ModelError(
            f"model not available (1008: {short})", "pick another --model (`voicecli models`)"
        )
    elif code == 1007:
        err = ServerError(
            f"the server refused the request (1007: {short})",
            "check the options for this model; --debug shows the setup",
        )
    elif code == 1009:  # our websocket refused a message over its 1 MiB limit
        err = ServerError(
            "the server sent a message larger than voicecli can receive (over 1 MiB, "
            "close 1009: message too big); resending the same request cannot help",
            "ask for something smaller (a huge tool argument or reply causes this)",
        )
    elif code == 1011:
        err = ServerError(f"the server ended the session (1011: {short})", "try again")
    elif code == 1006 or code is None:
        err = NetworkError(f"connection lost (1006: {short})", "check the network and try again")
    else:
        err = ServerError(f"the session was closed ({code}: {short})", "try again")
    err.close_code = 1006 if code is None else code
    return err


def _api_error(
    e: genai_errors.APIError, key: str | None, *, at_setup: bool = True
) -> VoicecliError:
    # the SDK reports the code the server closed with; when it was our side that closed
    # (websockets refusing a message over its size limit: 1009), that is in the close sent
    sent = getattr(e.__context__, "sent", None)
    if getattr(sent, "code", None) == 1009:
        reason = str(getattr(sent, "reason", "") or "message too big")
        return map_close(1009, reason, key, at_setup=at_setup)
    # A websocket close reaches us as APIError(code, reason): the reason is its ``details``
    # (str(e) would be "1007 None. <reason>"); an HTTP error carries a JSON ``message``.
    details = getattr(e, "details", None)
    reason = getattr(e, "message", None) or (details if isinstance(details, str) else str(e))
    reason = " ".join(terminal_safe(str(reason)).split())  # the server's words, one line
    return map_close(getattr(e, "code", None), reason, key, at_setup=at_setup)


class LiveTransport:
    """Send inputs to, and receive events from, one connected Live session."""

    def __init__(
        self, session: Any, key: str | None = None, *, client_content: bool = True
    ) -> None:
        self._session = session
        self._key = key
        # the model takes clientContent after the initial history (ModelCaps.client_content);
        # where it does not (3.1 closes with 1007), context text goes as realtimeInput.text
        self._client_content = client_content
        self.malformed = 0  # server frames that could not be parsed (skipped)
        self.session_id: str | None = getattr(session, "session_id", None)

    async def send(self, msg: m.ClientMessage) -> None:
        """One client message, in the SDK's terms."""
        session = self._session
        if isinstance(msg, m.AudioIn):
            await session.send_realtime_input(audio=types.Blob(data=msg.pcm, mime_type=INPUT_MIME))
        elif isinstance(msg, m.StreamEnd):
            await session.send_realtime_input(audio_stream_end=True)
        elif isinstance(msg, m.ActivityStart):
            await session.send_realtime_input(activity_start=types.ActivityStart())
        elif isinstance(msg, m.ActivityEnd):
            await session.send_realtime_input(activity_end=types.ActivityEnd())
        elif isinstance(msg, m.TextIn):
            await session.send_realtime_input(text=msg.text)
        elif isinstance(msg, m.HistoryIn):  # the setup had history_config: ends the history
            await session.send_client_content(
                turns=history_turns(list(msg.turns)), turn_complete=True
            )
        elif isinstance(msg, m.ContextUpdate):  # instructions and/or tools, no reconnect
            system = msg.system_instruction
            await session.send_context_update(
                system_instruction=instruction_content(system) if system is not None else None,
                tools=list(msg.tools) if msg.tools is not None else None,
            )
        elif isinstance(msg, m.VideoIn):
            await session.send_realtime_input(video=types.Blob(data=msg.data, mime_type=msg.mime))
        elif isinstance(msg, m.ContextIn) and not self._client_content:
            await session.send_realtime_input(text=msg.text)
        elif isinstance(msg, m.ContextIn):
            await session.send_client_content(
                turns=types.Content(role="user", parts=[types.Part(text=msg.text)]),
                turn_complete=False,
            )
        else:
            await session.send_tool_response(
                function_responses=[
                    types.FunctionResponse(
                        id=r.id,
                        name=r.name,
                        response=r.response,
                        scheduling=types.FunctionResponseScheduling(r.scheduling)
                        if r.scheduling
                        else None,
                    )
                    for r in msg.results
                ]
            )

    async def close(self) -> None:
        """Close the websocket (``events`` then ends)."""
        try:
            await self._session.close()
        except Exception as e:  # already closed or broken
            log.debug("close: %s", e)

    async def events(self) -> AsyncIterator[ev.LiveEvent]:
        """Every server event of the session, across turns, until the socket closes.

        A normal close ends the iteration; any other close raises a VoicecliError.
        Malformed frames are skipped and counted.
        """
        while True:
            try:
                async for msg in self._session.receive():
                    for event in convert(msg):
                        yield event
            except genai_errors.APIError as e:
                if getattr(e, "code", None) == 1000:
                    return
                raise _api_error(e, self._key, at_setup=False) from e
            except ValueError as e:  # the SDK could not parse a frame: skip it
                self.malformed += 1
                log.warning("skipped a malformed server message: %s", str(e)[:80])
                continue


def _sources(sc: types.LiveServerContent, now: float) -> list[ev.LiveEvent]:
    """Search grounding and URL context of the reply (issue 35)."""
    out: list[ev.LiveEvent] = []
    gm = sc.grounding_metadata
    if gm is not None:
        webs = [c.web for c in gm.grounding_chunks or () if c.web is not None and c.web.uri]
        items = tuple(ev.Source(w.uri or "", w.title or "") for w in webs)
        queries = tuple(q for q in gm.web_search_queries or () if q)
        if items or queries:
            out.append(ev.Sources(items, queries, "search", t=now))
    um = sc.url_context_metadata
    if um is not None and um.url_metadata:
        urls = tuple(ev.Source(u.retrieved_url) for u in um.url_metadata if u.retrieved_url)
        if urls:
            out.append(ev.Sources(urls, (), "url", t=now))
    return out


def convert(msg: types.LiveServerMessage) -> list[ev.LiveEvent]:
    """One SDK message -> our events, in the order they should be handled. The model's text
    and the transcripts are made terminal-safe here, once, for every view and store."""
    now = time.monotonic()
    out: list[ev.LiveEvent] = []
    sc = msg.server_content
    if sc is not None:
        if sc.input_transcription and sc.input_transcription.text:
            out.append(
                ev.InputTranscript(
                    terminal_safe(sc.input_transcription.text),
                    final=bool(getattr(sc.input_transcription, "finished", False)),
                    t=now,
                )
            )
        interim = sc.interim_input_transcription
        if interim is not None and interim.text:
            out.append(ev.InterimInputTranscript(terminal_safe(interim.text), t=now))
        if sc.interrupted:
            out.append(ev.Interrupted(t=now))
        if sc.model_turn and sc.model_turn.parts:
            for part in sc.model_turn.parts:
                blob = part.inline_data
                if blob and blob.data and (blob.mime_type or "").startswith("audio/"):
                    out.append(ev.AudioChunk(blob.data, rate=_rate(blob.mime_type), t=now))
                elif part.text:
                    out.append(
                        ev.ModelText(terminal_safe(part.text), thought=bool(part.thought), t=now)
                    )
        if sc.output_transcription and sc.output_transcription.text:
            out.append(ev.OutputTranscript(terminal_safe(sc.output_transcription.text), t=now))
        out += _sources(sc, now)
        if sc.generation_complete:
            out.append(ev.GenerationComplete(t=now))
        if sc.turn_complete:
            reason = sc.turn_complete_reason
            status = sc.interaction_status
            out.append(
                ev.TurnComplete(
                    reason=_enum_name(reason),
                    waiting_for_input=bool(sc.waiting_for_input),
                    interaction_status=_enum_name(status),
                    t=now,
                )
            )
    if msg.tool_call and msg.tool_call.function_calls:
        calls = tuple(
            ev.FunctionCall(id=fc.id or "", name=fc.name or "", args=dict(fc.args or {}))
            for fc in msg.tool_call.function_calls
        )
        out.append(ev.ToolCall(calls, t=now))
    if msg.tool_call_cancellation and msg.tool_call_cancellation.ids:
        out.append(ev.ToolCallCancellation(tuple(msg.tool_call_cancellation.ids), t=now))
    if msg.usage_metadata:
        um = msg.usage_metadata
        prompt = _by_modality(um.prompt_tokens_details)
        response = _by_modality(um.response_tokens_details)
        out.append(
            ev.Usage(
                prompt_tokens=um.prompt_token_count or 0,
                response_tokens=um.response_token_count or 0,
                total_tokens=um.total_token_count or 0,
                t=now,
                prompt_audio=prompt.get("AUDIO", 0),
                prompt_text=prompt.get("TEXT", 0),
                response_audio=response.get("AUDIO", 0),
                response_text=response.get("TEXT", 0),
                thoughts=um.thoughts_token_count or 0,
                cached=um.cached_content_token_count or 0,
                tool_use=um.tool_use_prompt_token_count or 0,
            )
        )
    if msg.go_away:
        out.append(ev.GoAway(_seconds(msg.go_away.time_left), t=now))
    if msg.session_resumption_update:
        sru = msg.session_resumption_update
        out.append(ev.ResumptionUpdate(sru.new_handle, bool(sru.resumable), t=now))
    va = msg.voice_activity
    if va is not None and va.voice_activity_type is not None:
        kind = _enum_name(va.voice_activity_type)
        if kind is not None:
            out.append(ev.VoiceActivity(_ACTIVITY.get(kind, kind.lower()), t=now))
    return out


_ACTIVITY = {"ACTIVITY_START": "start", "ACTIVITY_END": "end"}  # VoiceActivityType -> kind


def _by_modality(details: Any) -> dict[str, int]:
    """``[ModalityTokenCount(modality=AUDIO, token_count=n), ...]`` -> ``{"AUDIO": n}``."""
    out: dict[str, int] = {}
    for d in details or []:
        name = str(getattr(d.modality, "value", d.modality) or "").upper()
        out[name] = out.get(name, 0) + (d.token_count or 0)
    return out


def _enum_name(value: Any) -> str | None:
    """An SDK enum (or a plain string the SDK did not know) as its name; None if unset."""
    if value is None:
        return None
    name = str(getattr(value, "value", value))
    return None if name.endswith("UNSPECIFIED") else name


def _rate(mime: str | None) -> int:
    return mime_rate(mime) or OUTPUT_RATE


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if hasattr(value, "total_seconds"):
        return float(value.total_seconds())
    text = str(value).strip()
    try:
        return float(text[:-1]) if text.endswith("s") else float(text)
    except ValueError:
        return None


def _takes_client_content(settings: Settings) -> bool:
    try:
        caps = capabilities.lookup(settings.model, "vertex" if settings.vertex else "developer")
    except ModelError:  # a model the table does not know: the strict reading
        return False
    return caps.client_content


@asynccontextmanager
async def open_transport(
    settings: Settings, config: types.LiveConnectConfig, *, setup_timeout: float = SETUP_TIMEOUT_S
) -> AsyncIterator[LiveTransport]:
    """Connect, run the setup handshake, and yield the transport; errors become ours."""
    client = make_client(settings)
    cm = client.aio.live.connect(model=settings.model, config=config)
    try:
        session = await asyncio.wait_for(cm.__aenter__(), setup_timeout)
    except TimeoutError:
        raise SessionTimeout(
            f"the server did not answer the setup within {setup_timeout:.0f} s",
            "check the endpoint (voicecli doctor) and try again",
        ) from None
    except genai_errors.APIError as e:
        raise _api_error(e, settings.api_key) from e
    except ValueError as e:
        if isinstance(e, ssl.SSLError):  # SSLCertVerificationError is also a ValueError
            raise connect_error(e, settings, api_version_for(settings)) or e from e
        # the SDK refuses the config locally (e.g. Vertex-only options)
        raise UsageError(redact(str(e), settings.api_key)) from None
    except Exception as e:  # the handshake: HTTP status, TLS, DNS, refused, ...
        mapped = connect_error(e, settings, api_version_for(settings))
        if mapped is None:
            raise
        raise mapped from e
    try:
        yield LiveTransport(
            session, settings.api_key, client_content=_takes_client_content(settings)
        )
    finally:
        try:
            await cm.__aexit__(None, None, None)
        except Exception as e:  # closing a dead socket must not mask the real error
            log.debug("close failed: %s", e)


def live_connect(settings: Settings, *, setup_timeout: float = SETUP_TIMEOUT_S) -> m.Connect:
    """The real ``Connect``: the google-genai SDK to the settings' endpoint."""

    def connect(config: Any) -> AbstractAsyncContextManager[m.Connection]:
        return open_transport(settings, config, setup_timeout=setup_timeout)

    return connect
