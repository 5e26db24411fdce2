"""Who may drive the control plane: its owner, never a web page the owner happens to have open.

The control plane can replace any context's answers, read every prompt in the journal and pick
cassettes, so a browser must not reach it. Browsers send any page's ``text/plain`` or form POST
without asking (no CORS preflight), and DNS rebinding lets a page on ``evil.example`` talk to
127.0.0.1 under its own name. So a control call must:

* come from loopback (unless the server was started with ``--control-remote``);
* name this server in ``Host``: a loopback name or address, the bound address, or a name given
  with ``--allowed-host`` (for containers; ``*`` accepts any);
* carry no foreign ``Origin`` and no ``Sec-Fetch-Site`` other than ``same-origin``/``none``;
* send a body only as JSON (or YAML, for scenarios), types a browser must preflight, and no
  preflight is ever answered;
* present the control token (``x-emulator-token``) when one is set, or else the API key when
  ``--api-key`` is set (``GET health`` excepted, for health checks).
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from aiohttp import web

from ..wire import auth
from ..wire.errors import ApiError

TOKEN_HEADER = "x-emulator-token"
BODY_TYPES = frozenset({"application/json", "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
_CROSS_SITE = frozenset({"cross-site", "same-site"})
_OPEN_ENDPOINTS = frozenset({("GET", "health")})


def _host_name(host: str) -> str:
    """``[::1]:8765`` -> ``::1``; ``Localhost:80`` -> ``localhost``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_loopback_name(name: str) -> bool:
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_loopback_address(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


def _denied(why: str) -> ApiError:
    return ApiError(403, f"The control plane refused this call: {why}.", "PERMISSION_DENIED")


class ControlTrust:
    """The checks above, for one server's settings."""

    def __init__(
        self,
        *,
        bound_host: str,
        allowed_hosts: Iterable[str] = (),
        allow_remote: bool = False,
        secrets: Iterable[str] = (),
    ) -> None:
        self.names = {_host_name(h) for h in allowed_hosts} | {_host_name(bound_host)}
        self.any_host = "*" in self.names
        self.allow_remote = allow_remote
        self.secrets = [s.encode() for s in secrets if s]

    def check(self, request: web.Request, endpoint: str) -> None:
        """Raises the refusal, or returns when the call may go on."""
        if not self.allow_remote and not is_loopback_address(request.remote):
            raise ApiError(403, "The control plane only serves loopback callers (see --control-remote).")
        host = request.headers.get("Host")
        if host is not None and not self._known_host(_host_name(host)):
            raise _denied(f"the Host {host[:100]!r} is not this server (see --allowed-host)")
        origin = request.headers.get("Origin")
        if origin is not None and not self._same_origin(origin, host):
            raise _denied(f"requests from the web origin {origin[:100]!r} are not served")
        if request.headers.get("Sec-Fetch-Site", "").lower() in _CROSS_SITE:
            raise _denied("cross-site requests are not served")
        if request.method == "OPTIONS":
            raise _denied("cross-origin requests are not served (no preflight is answered)")
        if request.method not in ("GET", "HEAD") and _has_body(request) and not _body_type_ok(request):
            raise ApiError(
                415,
                f"A control-plane body must be sent as application/json (or a YAML type for scenarios), "
                f"not {request.headers.get('Content-Type', 'without a Content-Type')!r}.",
                "INVALID_ARGUMENT",
            )
        if self.secrets and (request.method, endpoint) not in _OPEN_ENDPOINTS and not self._authorised(request):
            raise _denied(f"it needs the control token ({TOKEN_HEADER}) or the server's API key")

    def _known_host(self, name: str) -> bool:
        return self.any_host or name in self.names or is_loopback_name(name)

    def _same_origin(self, origin: str, host: str | None) -> bool:
        parts = urlsplit(origin.strip())
        return parts.scheme in ("http", "https") and host is not None and parts.netloc.lower() == host.strip().lower()

    def _authorised(self, request: web.Request) -> bool:
        offered = [request.headers.get(TOKEN_HEADER)]
        with contextlib.suppress(ApiError):  # a key that is no key offers nothing
            offered.append(auth.request_key(request.headers, request.query))
            offered.append(auth.request_token(request.headers))
        given = [o.encode() for o in offered if o and o.isascii()]
        return any(hmac.compare_digest(g, s) for g in given for s in self.secrets)


def _has_body(request: web.Request) -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def _body_type_ok(request: web.Request) -> bool:
    mime = request.content_type.lower()
    return mime in BODY_TYPES or mime.endswith("+json")
