"""Builds the aiohttp application: the control plane under ``/_emulator/``, one catch-all route into
the API pipeline, and a guard that turns anything unexpected into a Google error envelope instead
of HTML or a bare 500."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest

from ..backends.base import Backend
from ..backends.default import DefaultBackend
from ..backends.specs import build_router, cassette_chooser, scenario_factory
from ..catalogue import Catalogue
from ..settings import Settings
from ..wire import errors
from ..wire.errors import ApiError
from .control import Control
from .handlers import Api
from .responses import error_response

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


class AccessLogger(AbstractAccessLogger):
    """Method, path, status and time; never the query string, which may carry ``key=``."""

    def log(self, request: BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.1fms", request.method, request.path, response.status, time * 1000)


def create_app(
    settings: Settings | None = None,
    backend: Backend | None = None,
    catalogue: Catalogue | None = None,
) -> web.Application:
    """The emulator app; ``backend`` replaces the default model under the routes of ``settings``."""
    settings = settings or Settings()
    router = build_router(settings, backend or DefaultBackend(seed=settings.seed))
    api = Api(settings, catalogue or Catalogue.load(settings.models_file), router)
    control = Control(
        router, api.journal, scenario_factory, cassette_chooser(settings), settings.control_remote, api.faults
    )
    app = web.Application(middlewares=[guard], client_max_size=settings.max_body_bytes)
    app.router.add_route("*", "/_emulator/{name}", control.handle)
    app.router.add_route("*", "/{prefix:.+}/_emulator/{name}", control.handle)
    app.router.add_route("*", "/{tail:.*}", api.handle)
    app[API_KEY] = api

    async def closing(_: web.Application) -> None:
        api.shutdown()

    app.on_shutdown.append(closing)
    return app
