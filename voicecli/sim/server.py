"""The simulator's HTTPS/WSS server: Live websockets and REST on one TLS port.

``SimServer`` runs in the caller's event loop (``await sim.start()``) or in a background
thread with its own loop (``sim.start_in_thread()``) for synchronous callers such as
``voicecli talk --sim``. ``run_sim`` serves in the foreground for ``voicecli sim``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import shutil
import signal
import ssl
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from voicecli.errors import UsageError
from voicecli.sim import certs, fidelity
from voicecli.sim.records import Conversations, RestRecord, SessionRecord
from voicecli.sim.scenario import Scenario, load_scenario
from voicecli.sim.session import LiveSession

LIVE_PATH = (
    "/ws/google.ai.generativelanguage.{version:v[0-9]+[a-z0-9]*}"
    ".GenerativeService.{method:BidiGenerateContent(?:Constrained)?}"
)
REST_PATH = "/{version:v[0-9]+[a-z0-9]*}/models/{target:[^/]+}"


class SimServer:
    """A local Live API (and REST) service for the unmodified google-genai SDK."""

    def __init__(
        self,
        scenario: Scenario | str | Path | None = None,
        api_key: str | None = None,
        cert_dir: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        if api_key is not None:
            self.scenario.api_key = api_key
        self.host, self.port = host, port
        self._cert_dir = Path(cert_dir) if cert_dir is not None else None
        self._own_cert_dir = False
        self.log = log or (lambda _line: None)
        self.sessions: list[SessionRecord] = []
        self.rest_requests: list[RestRecord] = []
        self.refused_handshakes: list[tuple[int, str]] = []  # (HTTP status, path)
        self.conversations = Conversations()
        self.conversations.refuse_all = not self.scenario.honour_resumption
        self.conversations.ttl_s = self.scenario.handle_ttl_s
        self.base_url = ""
        self.ca_path = Path()
        self._runner: web.AppRunner | None = None
        self._ca: certs.Authority | None = None
        self._live: set[LiveSession] = set()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ---- in the caller's loop -----------------------------------------------------------

    async def start(self) -> SimServer:
        if self._cert_dir is None:
            self._cert_dir = Path(tempfile.mkdtemp(prefix="voicecli-sim-"))
            self._own_cert_dir = True
            self._ca = await asyncio.to_thread(certs.private_authority, self._cert_dir)
        else:
            self._ca = await asyncio.to_thread(certs.shared_authority, self._cert_dir)
        self.ca_path = self._ca.ca_path
        try:
            await self._serve()
        except BaseException:
            await self.stop()
            raise
        return self

    async def _serve(self) -> None:
        assert self._ca is not None
        ssl_context = await asyncio.to_thread(certs.server_context, self._ca)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get(LIVE_PATH, self._live_handler)
        from voicecli.sim.rest import RestHandler

        app.router.add_post(REST_PATH, RestHandler(self).handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=ssl_context)
        try:
            await site.start()
        except OSError as e:
            raise _listen_error(self.host, self.port, e) from None
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]
        self.base_url = f"https://{self.host}:{self.port}"
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        for live in list(self._live):
            await live.close(1001, "Server shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._ca is not None:
            self._ca.close()
            self._ca = None
        if self._own_cert_dir and self._cert_dir is not None:
            shutil.rmtree(self._cert_dir, ignore_errors=True)

    async def __aenter__(self) -> SimServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- in a background thread -----------------------------------------------------------

    def start_in_thread(self, timeout: float = 10.0) -> SimServer:
        ready = threading.Event()
        failure: list[BaseException] = []

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.start())
            except BaseException as e:  # reported to the starting thread
                failure.append(e)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=main, name="voicecli-sim", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("simulator did not start")
        if failure:
            raise failure[0]
        return self

    def stop_thread(self, timeout: float = 10.0) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> SimServer:
        return self.start_in_thread()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_thread()

    # ---- helpers ------------------------------------------------------------------------

    def client_ssl_context(self) -> ssl.SSLContext:
        """Trusts only this simulator's CA; hand it to the SDK via HttpOptions."""
        return certs.client_context(self.ca_path)

    def env(self) -> dict[str, str]:
        return {"GOOGLE_GEMINI_BASE_URL": self.base_url, "SSL_CERT_FILE": str(self.ca_path)}

    @property
    def last_session(self) -> SessionRecord:
        return self.sessions[-1]

    async def wait_for(self, predicate: Callable[[], Any], within_s: float = 5.0) -> None:
        """Poll ``predicate`` until it is true (for tests); TimeoutError otherwise."""
        async with asyncio.timeout(within_s):
            while not predicate():  # noqa: ASYNC110 (polling a plain predicate is the point)
                await asyncio.sleep(0.01)

    # ---- the Live endpoint ----------------------------------------------------------------

    async def _live_handler(self, request: web.Request) -> web.StreamResponse:
        version = request.match_info["version"]
        if not fidelity.version_allowed(version, self.scenario):
            # fidelity rule 1: no Live WebSocket outside v1beta/v1alpha (HTTP 404, no upgrade)
            self.refused_handshakes.append((404, request.path))
            self.log(f"refused a handshake on {version}: HTTP 404")
            return _google_error(404, "NOT_FOUND", fidelity.not_found_text(version))
        if self.scenario.handshake_status is not None:  # a scenario fault: refuse the upgrade
            status = self.scenario.handshake_status
            self.refused_handshakes.append((status, request.path))
            return _google_error(status, _STATUS_NAMES.get(status, "UNKNOWN"), "refused")
        ws = web.WebSocketResponse(max_msg_size=32 * 1024 * 1024)
        transport = request.transport
        await ws.prepare(request)
        key = request.headers.get("x-goog-api-key")
        auth = request.headers.get("Authorization", "")
        if key is None and auth.startswith("Token "):
            key = auth.removeprefix("Token ")
        record = SessionRecord(
            id=len(self.sessions) + 1, api_version=request.match_info["version"], api_key=key
        )
        self.sessions.append(record)
        live = LiveSession(ws, transport, self.scenario, record, self.conversations)
        self._live.add(live)
        self.log(f"session {record.id}: connected ({record.api_version})")
        try:
            await live.run()
        finally:
            self._live.discard(live)
            self.log(
                f"session {record.id}: closed {record.close_code} {record.close_reason or ''}"
                f" turns={len(record.turns)} replied={len(record.replied_turns)}"
                f" audio_in={record.audio_in_s:.1f}s"
                + (f" seeded={len(record.seeded_turns)}" if record.seeded_turns else "")
                + (
                    f" context_updates={len(record.context_updates)}"
                    if record.context_updates
                    else ""
                )
            )
        return ws


_STATUS_NAMES = {
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def _google_error(status: int, name: str, message: str) -> web.Response:
    body = {"error": {"code": status, "message": message, "status": name}}
    return web.json_response(body, status=status)


def _listen_error(host: str, port: int, e: OSError) -> UsageError:
    if e.errno == errno.EADDRINUSE:
        return UsageError(
            f"cannot listen on {host}:{port}: the port is in use (another voicecli sim?)",
            "stop that one, or pick another --port (--port 0 picks a free one)",
        )
    return UsageError(
        f"cannot listen on {host}:{port}: {e.strerror or e}", "check --host and --port"
    )


ANY_KEY = "sim-key"  # what ``voicecli sim`` prints for clients when any key is accepted


def run_sim(
    host: str = "127.0.0.1",
    port: int = 0,
    scenario_path: str | Path | None = None,
    api_key: str | None = None,
    cert_dir: str | Path | None = None,
) -> None:
    """Serve in the foreground until Ctrl-C; print the exports clients need to stdout."""

    def log(line: str) -> None:
        print(f"voicecli sim: {line}", file=sys.stderr, flush=True)

    async def main() -> None:
        sim = SimServer(load_scenario(scenario_path), api_key, cert_dir, host, port, log=log)
        await sim.start()
        for name, value in sim.env().items():
            print(f"export {name}={value}", flush=True)
        if api_key is None:  # any key will do; without one, clients stop before connecting
            print(f"export GEMINI_API_KEY={ANY_KEY}  # any key: the simulator", flush=True)
            log("accepts any key (--api-key KEY: only that one)")
        log(f"serving scenario {sim.scenario.name!r} on {sim.base_url} (Ctrl-C stops)")
        try:
            await asyncio.Event().wait()
        finally:
            await sim.stop()

    _ctrl_c_enabled()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


def _ctrl_c_enabled() -> None:
    """Make sure Ctrl-C (SIGINT) and SIGTERM reach us even when the parent process started
    us with them ignored or blocked (both are inherited across exec)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_IGN, signal.SIG_DFL):
        signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # the same clean stop as Ctrl-C
