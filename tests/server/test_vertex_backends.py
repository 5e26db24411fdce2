"""Every backend on both flavours, through the real SDK: a scenario rule that matches on flavour, project
and location, a callable model that is told where the call came from, and journal entries that say it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from google import genai
from google.oauth2.credentials import Credentials
from test_wire import request

from emulator import EmulatorThread
from emulator.backends.function import FunctionBackend, ModelContext, ModelRequest

MODEL = "gemini-2.5-flash"
SCENARIO = b"""
name: by-flavour
rules:
  - when: {flavour: vertex, location: "europe-*"}
    reply: "vertex in europe"
    times: unlimited
  - when: {flavour: vertex, project: "prod-*"}
    reply: "vertex in a prod project"
    times: unlimited
  - when: {flavour: vertex}
    reply: "vertex elsewhere"
    times: unlimited
  - when: {flavour: developer}
    reply: "developer api"
    times: unlimited
"""


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorThread]:
    with EmulatorThread() as emu:
        yield emu


def vertex(url: str, token: str, project: str = "test-project", location: str = "us-central1") -> genai.Client:
    return genai.Client(
        vertexai=True,
        project=project,
        location=location,
        credentials=Credentials(token=token),  # type: ignore[no-untyped-call]
        http_options={"base_url": url},
    )


def test_a_scenario_rule_matches_on_flavour_project_and_location(emu: EmulatorThread) -> None:
    key = "AQ.scenario-by-flavour"  # one context: a Developer API key, a bearer token, an express key
    status, _, _ = request(
        emu.url, "PUT", "/_emulator/scenario", SCENARIO, {"x-goog-api-key": key, "content-type": "application/yaml"}
    )
    assert status == 200
    clients = {
        "developer api": genai.Client(api_key=key, http_options={"base_url": emu.url}),
        "vertex in europe": vertex(emu.url, key, location="europe-west4"),
        "vertex in a prod project": vertex(emu.url, key, project="prod-search"),
        "vertex elsewhere": vertex(emu.url, key),
    }
    for expected, client in clients.items():
        assert client.models.generate_content(model=MODEL, contents="Hi").text == expected
    express = genai.Client(vertexai=True, api_key=key, http_options={"base_url": emu.url})
    assert express.models.generate_content(model=MODEL, contents="Hi").text == "vertex elsewhere"


def test_a_callable_model_is_told_the_flavour_project_and_location() -> None:
    seen: list[tuple[str, str | None, str | None]] = []

    def where(request: ModelRequest, context: ModelContext) -> str:
        seen.append((context.flavour, context.project, context.location))
        return f"{context.flavour} {context.project} {context.location}"

    with EmulatorThread(backend=FunctionBackend(where)) as emu:
        client = vertex(emu.url, "t", "p1", "asia-east1")
        assert client.models.generate_content(model=MODEL, contents="x").text == "vertex p1 asia-east1"
        developer = genai.Client(api_key="k", http_options={"base_url": emu.url})
        assert developer.models.generate_content(model=MODEL, contents="x").text == "developer None None"
    assert seen == [("vertex", "p1", "asia-east1"), ("developer", None, None)]


def test_the_journal_says_where_each_call_went(emu: EmulatorThread) -> None:
    key = "journal-by-flavour"
    vertex_client = vertex(emu.url, key, "p2", "us-east5")
    vertex_client.models.generate_content(model=MODEL, contents="one")
    developer = genai.Client(api_key=key, http_options={"base_url": emu.url})
    developer.models.generate_content(model=MODEL, contents="two")
    status, _, payload = request(emu.url, "GET", "/_emulator/requests", None, {"x-goog-api-key": key})
    assert status == 200
    entries = json.loads(payload)["requests"]
    assert [(e["flavour"], e["project"], e["location"]) for e in entries] == [
        ("vertex", "p2", "us-east5"),
        ("developer", None, None),
    ]
