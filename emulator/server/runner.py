"""Running the app: in the foreground for ``serve``, or in a background thread for tests."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import ipaddress
import logging
import signal
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web

from ..backends.base import Backend
from ..dispatch.router import Router
from ..settings import Settings
from .app import API_KEY, AccessLogger, QuietProtocolErrors, create_app
from .protocol import DeadlineRunner

log = logging.getLogger("emulator")


_IN_USE = {errno.EADDRINUSE, 10048}  # 10048: WSAEADDRINUSE, what Windows says


class BindError(OSError):
    """The address cannot be bound, in one sentence that says what to do."""


def check_bind(settings: Settings) -> None:
    """Loopback unless the caller said otherwise: an emulator answers anyone who can reach it."""
    try:
        loopback = settings.host == "localhost" or ipaddress.ip_address(settings.host).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return
    if not settings.allow_non_loopback:
        raise ValueError(f"refusing to bind {settings.host}: not a loopback address (--allow-non-loopback to insist)")
    log.warning("gemini-emulator: binding %s, reachable beyond this machine; it accepts any key", settings.host)


async def start_site(app: web.Application, settings: Settings) -> tuple[web.AppRunner, str]:
    """Starts serving and returns the runner with the base URL actually bound (port 0 resolved)."""
    check_bind(settings)
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, QuietProtocolErrors) for f in server_log.filters):
        server_log.addFilter(QuietProtocolErrors())
    runner = DeadlineRunner(
        app,
        header_timeout=settings.header_timeout,
        access_log_class=AccessLogger,
        handle_signals=False,
        handler_cancellation=True,
        keepalive_timeout=settings.keepalive_timeout,
        shutdown_timeout=settings.shutdown_timeout,
        **({} if settings.access_log else {"access_log": None}),
    )
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, reuse_address=True)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno in _IN_USE or getattr(exc, "winerror", None) in _IN_USE:
            raise BindError(f"port {settings.port} is in use; pass --port 0 for a free one") from None
        raise BindError(f"cannot bind {settings.host}:{settings.port}: {exc.strerror or exc}") from None
    host_bound, port_bound = runner.addresses[0][:2]
    shown = f"[{host_bound}]" if ":" in host_bound else host_bound
    return runner, f"http://{shown}:{port_bound}"


def settle_heap() -> None:
    """Moves what start-up allocated (modules, schemas, catalogue, app) out of the garbage collector's sight.

    A server process keeps all of it for its whole life, yet every full collection would walk it
    again; frozen, collections see only what requests allocate. For a process that is the server
    (``serve``), not for one that hosts an :class:`EmulatorThread` among other things. No collection
    comes first: at this point one found about five objects to free and cost 18-29 ms of every start.
    """
    gc.freeze()


def serve(settings: Settings, backend: Backend | None = None, on_ready: Callable[[str], None] | None = None) -> None:
    """Serves until SIGINT or SIGTERM; streams in flight then end with a terminal error."""

    async def main() -> None:
        runner, url = await start_site(create_app(settings, backend), settings)
        settle_heap()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        if on_ready:
            on_ready(url)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    with contextlib.suppress(KeyboardInterrupt):
        run_loop(main(), settings.loop)


def run_loop(main: Coroutine[Any, Any, None], loop: str = "auto") -> None:
    """``asyncio.run`` on uvloop when it is installed (``auto``) or asked for, else on asyncio's own loop.

    uvloop's transports and its loop written in C halve the event loop's share of a request; it does
    not exist for Windows, where ``auto`` falls back to asyncio.
    """
    if loop != "asyncio":
        try:
            import uvloop
        except ImportError:
            if loop == "uvloop":
                raise
        else:
            uvloop.run(main)
            return
    asyncio.run(main)


class EmulatorThread:
    """An emulator on a free loopback port in a daemon thread, for tests and notebooks.

    >>> with EmulatorThread() as emu:  # doctest: +SKIP
    ...     client = genai.Client(api_key="k", http_options={"base_url": emu.url})
    """

    def __init__(self, settings: Settings | None = None, backend: Backend | None = None) -> None:
        self.settings = settings or Settings(port=0)
        self.backend = backend
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="gemini-emulator", daemon=True)
        self._runner: web.AppRunner | None = None
        self.app: web.Application | None = None

    def start(self) -> EmulatorThread:
        self._thread.start()
        self.app = app = create_app(self.settings, self.backend)
        future = asyncio.run_coroutine_threadsafe(start_site(app, self.settings), self._loop)
        self._runner, self.url = future.result(timeout=30)
        return self

    @property
    def router(self) -> Router:
        """The backend router, for giving a context an in-process backend (a callable model)."""
        assert self.app is not None, "start the emulator first"
        return self.app[API_KEY].backend

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
            self._runner = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    def __enter__(self) -> EmulatorThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
