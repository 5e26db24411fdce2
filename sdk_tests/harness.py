"""The conformance suite's API keys, its control-plane calls, and what the emulator journaled for them.

Every client and every ``/_emulator/`` call of the suite uses a key from :func:`key`, named after the
module that asks (``test_chats-<hex>``), and :func:`client` makes the clients of each API flavour on
one: a Vertex AI client sends it as its bearer token, which names the same context as the key does in
the control calls. The emulator derives a context from the key, so each key's
scenario, faults, counters and journal are its own, and at the end of the session :func:`journaled`
asks the journal (``GET /_emulator/requests`` with each key) how many requests every module made: proof
that the whole suite talked to the emulator it was pointed at. Nothing here imports ``emulator``: the
suite runs against any emulator, over HTTP only.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

from google import genai
from google.genai import types
from google.oauth2.credentials import Credentials

FLAVOURS = ("developer", "vertex", "express")
"""The APIs a client can speak: the Developer API, Vertex AI, and Vertex AI's express mode."""
PROJECT, LOCATION = "conformance-project", "us-central1"

KEYS: dict[str, list[str]] = {}
"""Module (``test_chats``) -> every key handed out to it, in order."""


def module_of(name: str) -> str:
    """``test_chats`` for a module's ``__name__`` (``test_chats`` or ``sdk_tests.test_chats``)."""
    return name.rsplit(".", 1)[-1]


def register(module: str, key: str) -> str:
    """Records a key that a module's requests use (one made elsewhere, e.g. by the JS SDK's checks)."""
    KEYS.setdefault(module_of(module), []).append(key)
    return key


def key(module: str, prefix: str = "") -> str:
    """A fresh key (a context of its own) for a test of ``module`` (pass ``__name__``); ``prefix`` starts
    it (``AQ.``, the kind of key Vertex AI express mode takes)."""
    name = module_of(module)
    return register(name, f"{prefix}{name}-{uuid.uuid4().hex}")


def client(url: str, flavour: str, credential: str, **http: Any) -> genai.Client:
    """A client of one flavour on ``credential`` (a key from :func:`key`), talking to the emulator at
    ``url``: the Developer API with it as API key, Vertex AI with it as OAuth token (project and location
    given, so the SDK builds the real paths), express mode with it as key (it must start ``AQ.``)."""
    options = types.HttpOptions(base_url=url, **http)
    if flavour == "developer":
        return genai.Client(api_key=credential, http_options=options)
    if flavour == "express":
        return genai.Client(vertexai=True, api_key=credential, http_options=options)
    # A token without an expiry is never refreshed: the SDK sends it as it is, and needs no network.
    credentials = Credentials(token=credential)  # type: ignore[no-untyped-call]
    return genai.Client(
        vertexai=True, project=PROJECT, location=LOCATION, credentials=credentials, http_options=options
    )


def control(url: str, key: str, method: str, name: str, body: Any = None, content_type: str | None = None) -> Any:
    """``METHOD /_emulator/NAME`` for the context of ``key``; a body is sent as JSON unless it is bytes of
    ``content_type`` (a YAML scenario). Returns the parsed answer; an error answer raises HTTPError."""
    data, kind = None, None
    if isinstance(body, bytes):
        data, kind = body, content_type or "application/yaml"
    elif body is not None:
        data, kind = json.dumps(body).encode(), "application/json"
    headers = {"x-goog-api-key": key, **({"content-type": kind} if kind else {})}
    request = urllib.request.Request(f"{url}/_emulator/{name}", data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def journal(url: str, key: str) -> list[dict[str, Any]]:
    """The journal of ``key``'s context: every model call with its request and a reply summary."""
    return list(control(url, key, "GET", "requests")["requests"])


def journaled(url: str) -> dict[str, int]:
    """Module -> how many requests the emulator at ``url`` journaled for the keys it was handed."""
    return {module: sum(len(journal(url, k)) for k in keys) for module, keys in sorted(KEYS.items())}
