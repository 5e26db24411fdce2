"""Builds the aiohttp application: the control plane under ``/_emulator/``, one catch-all route into
the API pipeline, and a guard that turns anything unexpected into a Google error envelope instead
of HTML or a bare 500."""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http import HttpVersion11
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from aiohttp.web_request import BaseRequest

from ..backends.base import Backend
from ..backends.default import DefaultBackend
from ..cassette import redact
from ..dispatch.specs import build_router, cassette_chooser, scenario_factory
from ..journal import Journal
from ..settings import Settings
from ..wire import errors
from ..wire.catalogue import Catalogue
from ..wire.errors import ApiError
from ..wire.signatures import Signer
from .control import Control
from .faults import Faults, FaultStage
from .handlers import Api
from .inspector import Inspector
from .responses import error_response
from .streaming import Streams
from .trust import ControlTrust

_RECORD_MODULE = f"{__package__.rpartition('.')[0]}.backends.record"

log = logging.getLogger("emulator")
API_KEY: web.AppKey[Api] = web.AppKey("api", Api)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        return error_response(ApiError(exc.status, exc.reason))
    except ApiError as exc:
        return error_response(exc)
    except ConnectionResetError:
        # The client hung up while we read its request: a disconnect, not a fault of ours to log.
        log.debug("client disconnected during %s %s", request.method, request.path)
        return error_response(ApiError(499, "Client disconnected."))
    except Exception:
        log.exception("unexpected error serving %s %s", request.method, request.path)
        return error_response(errors.internal())


async def expect_continue(request: web.Request) -> web.StreamResponse | None:
    """``Expect: 100-continue`` as aiohttp answers it; any other expectation gets a 417 envelope.

    aiohttp's own handler fails (a 500) on an expectation it cannot encode in its plain-text answer.
    """
    if request.version != HttpVersion11:
        return None
    if request.headers.get("Expect", "").lower() == "100-continue":
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0
        return None
    return error_response(ApiError(417, "Only 'Expect: 100-continue' is supported.", "FAILED_PRECONDITION"))


class QuietProtocolErrors(logging.Filter):
    """aiohttp logs every request its parser refuses (a 4xx it already answered) with a traceback at
    ERROR; those are the client's mistakes, so they go to DEBUG instead of the error log."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, RequestPayloadError):  # aiohttp draining a body its parser refused
            exc = exc.__cause__
        if isinstance(exc, HttpProcessingError) and 400 <= (exc.code or 0) < 500:
            logging.getLogger("emulator.protocol").debug("refused %s: %s", getattr(exc, "message", ""), exc)
            return False
        return True


class AccessLogger(AbstractAccessLogger):
    """Method, path, status and time; never the query string, which may carry ``key=``, and never the
    caller's key or token in the path (a model name or a base-URL prefix can hold one)."""

    @property
    def enabled(self) -> bool:
        """Asked per connection: where INFO is not shown, no request pays for a line nobody sees."""
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: BaseRequest, response: web.StreamResponse, time: float) -> None:
        path = redact.for_log(request.path, _credentials(request))
        self.logger.info("%s %s %s %.1fms", request.method, path, response.status, time * 1000)


def _credentials(request: BaseRequest) -> list[str]:
    bearer = request.headers.get("Authorization", "")
    return [
        request.headers.get("x-goog-api-key", ""),
        request.query.get("key", ""),
        bearer.split(" ", 1)[1] if " " in bearer else bearer,
    ]


def create_app(
    settings: Settings | None = None,
    backend: Backend | None = None,
    catalogue: Catalogue | None = None,
) -> web.Application:
    """The emulator app; ``backend`` replaces the default model under the routes of ``settings``."""
    settings = settings or Settings()
    router = build_router(settings, backend or DefaultBackend(seed=settings.seed))
    journal = Journal(
        settings.journal_per_context, settings.max_contexts, settings.journal_context_bytes, settings.journal_bytes
    )
    signer, faults = Signer(), Faults(settings.max_contexts)
    streams = Streams(signer)
    catalogue = catalogue or Catalogue.load(settings.models_file, settings.any_model)
    api = Api(settings, catalogue, router, journal, signer, FaultStage(faults), streams)
    trust = ControlTrust(
        bound_host=settings.host,
        allowed_hosts=settings.allowed_hosts,
        allow_remote=settings.control_remote,
        secrets=settings.control_secrets,
    )
    control = Control(
        router, journal, scenario_factory, cassette_chooser(settings), trust, faults, settings.body_timeout
    )
    inspector = Inspector(journal, trust)
    app = web.Application(middlewares=[guard], client_max_size=settings.max_body_bytes)
    app.router.add_route("*", "/_emulator/ui", inspector.handle)
    app.router.add_route("*", "/_emulator/ui/{tail:.*}", inspector.handle)
    app.router.add_route("*", "/_emulator/{name}", control.handle, expect_handler=expect_continue)
    app.router.add_route("*", "/{prefix:.+}/_emulator/{name}", control.handle, expect_handler=expect_continue)
    app.router.add_route("*", "/{tail:.*}", api.handle, expect_handler=expect_continue)
    app[API_KEY] = api

    async def closing(_: web.Application) -> None:
        streams.shutdown()

    async def closing_recorders(_: web.Application) -> None:
        # No recorder exists unless its module was imported; importing it here would cost every exit.
        record = sys.modules.get(_RECORD_MODULE)
        if record is not None:
            await record.close_all()

    app.on_shutdown.append(closing)
    app.on_shutdown.append(inspector.close)
    app.on_cleanup.append(closing_recorders)
    return app
