"""Vertex AI cassettes: told apart from the Developer API's, matched whatever the project and location,
redacted of bearer tokens and user projects, and replayed when other tools recorded the real service."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from cassette_samples import BASE, answer, prompt, unary
from google import genai
from google.oauth2.credentials import Credentials

from emulator import EmulatorThread, Settings
from emulator.cassette import Cassette, CassetteError, Index, Matcher, load, save
from emulator.cassette.matching import flavour_of, vertex_endpoint, vertex_path
from emulator.cassette.model import Event, Interaction, RecordedRequest, RecordedResponse
from emulator.cassette.redact import REDACTED, Whole, find_secrets, scrub
from emulator.wire.flavour import Flavour

MODEL = "gemini-2.5-flash"
CENTRAL = "https://us-central1-aiplatform.googleapis.com/v1beta1/projects/rec-project/locations/us-central1"
GENERATE = f"{CENTRAL}/publishers/google/models/{MODEL}:generateContent"
STREAM = f"{CENTRAL}/publishers/google/models/{MODEL}:streamGenerateContent?alt=sse"
TOKEN = "ya29." + "c4n4ry-Vtx_" * 4  # shaped like a real access token
PROJECT_NUMBER = "880011223344"


def vertex_answer(text: str, finish: str | None = "STOP") -> dict[str, Any]:
    """Shaped as Vertex AI answers: content as role then parts, no candidate index, createTime."""
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}}
    if finish:
        candidate["finishReason"] = finish
    usage = {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5, "trafficType": "ON_DEMAND"}
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": MODEL,
        "createTime": "2026-03-02T09:40:38.123456Z",
        "responseId": "2L-Fas6RCLDYxN8P5tHjyAs",
    }


def vertex_unary(text: str, reply: str = "vertex says hi", uri: str = GENERATE) -> Interaction:
    return Interaction(
        request=RecordedRequest(method="POST", uri=uri, body=prompt(text)),
        response=RecordedResponse(
            headers={"content-type": ["application/json; charset=UTF-8"]}, body=vertex_answer(reply)
        ),
    )


# --- flavour and matching ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "flavour"),
    [
        (GENERATE, Flavour.VERTEX),
        ("https://aiplatform.googleapis.com/v1beta1/publishers/google/models/m:generateContent", Flavour.VERTEX),
        ("http://127.0.0.1:8080/v1beta1/projects/p/locations/l/publishers/google/models/m:countTokens", Flavour.VERTEX),
        ("http://127.0.0.1:8080/prefix/v1/publishers/google/models/m:generateContent", Flavour.VERTEX),
        ("https://aiplatform.eu.rep.googleapis.com/v1/weird/path", Flavour.VERTEX),
        (BASE + ":generateContent", Flavour.DEVELOPER),
        ("http://127.0.0.1:8080/v1beta/models/m:generateContent", Flavour.DEVELOPER),
        ("/v1beta/models/m:streamGenerateContent?alt=sse", Flavour.DEVELOPER),
    ],
)
def test_the_flavour_comes_from_the_path_shape_then_the_host(uri: str, flavour: Flavour) -> None:
    assert flavour_of(uri) is flavour


def test_endpoints_are_the_ones_the_sdks_pick() -> None:
    assert vertex_endpoint(None) == vertex_endpoint("global") == "https://aiplatform.googleapis.com"
    assert vertex_endpoint("us-central1") == "https://us-central1-aiplatform.googleapis.com"
    assert vertex_endpoint("eu") == "https://aiplatform.eu.rep.googleapis.com"
    for bad in ("evil.example/x?", "US", "a b", ""):
        with pytest.raises(ValueError, match="not a Vertex AI location"):
            vertex_endpoint(bad)


def test_vertex_paths_lose_project_and_location_unless_held() -> None:
    path = "projects/p/locations/europe-west4/publishers/google/models/m:generateContent"
    assert vertex_path(path) == "publishers/google/models/m:generateContent"
    assert vertex_path(path, location=True) == "locations/europe-west4/publishers/google/models/m:generateContent"
    assert vertex_path("publishers/google/models/m:predict", location=True) == (
        "locations/global/publishers/google/models/m:predict"
    )


ELSEWHERE = [
    "https://europe-west4-aiplatform.googleapis.com/v1beta1/projects/other/locations/europe-west4",
    "https://aiplatform.googleapis.com/v1/projects/123456789012/locations/global",
    "http://127.0.0.1:9/some/prefix/v1beta1/projects/%3CGOOGLE_CLOUD_PROJECT%3E/locations/%3CGOOGLE_CLOUD_LOCATION%3E",
    "https://aiplatform.googleapis.com/v1beta1",  # express mode: no project, no location
]


@pytest.mark.parametrize("base", ELSEWHERE)
def test_a_vertex_recording_answers_any_project_location_host_and_version(base: str) -> None:
    recorded = vertex_unary("hi")
    index = Index(Cassette(interactions=[recorded, unary("hi")]))
    assert index.take("POST", f"{base}/publishers/google/models/{MODEL}:generateContent", prompt("hi")) is recorded


def test_strict_location_matching_holds_the_location_but_not_the_project() -> None:
    recorded = vertex_unary("hi")
    global_one = vertex_unary("hi", reply="global", uri=GENERATE.replace("us-central1", "global"))
    index = Index(Cassette(interactions=[recorded, global_one]), Matcher(location=True))
    other_project = GENERATE.replace("rec-project", "someone-else")
    assert index.take("POST", other_project, prompt("hi")) is recorded
    assert index.take("POST", GENERATE.replace("us-central1", "europe-west4"), prompt("hi")) is None
    express = f"https://aiplatform.googleapis.com/v1beta1/publishers/google/models/{MODEL}:generateContent"
    assert index.take("POST", express, prompt("hi")) is global_one  # express mode is served at the global endpoint
    _, why = index.nearest("POST", GENERATE.replace("us-central1", "europe-west4"), prompt("hi"))
    assert why.startswith("path: 'locations/europe-west4/")


def test_the_flavours_never_answer_each_other_and_a_miss_says_which_was_searched() -> None:
    developer = Index(Cassette(interactions=[unary("hi"), unary("other")]))
    assert developer.take("POST", GENERATE, prompt("hi")) is None
    assert developer.nearest("POST", GENERATE, prompt("hi")) == (
        None,
        "it holds no Vertex AI interaction, only 2 Developer API one(s)",
    )
    vertex = Index(Cassette(interactions=[vertex_unary("hi")]))
    assert vertex.take("POST", BASE + ":generateContent", prompt("hi")) is None
    assert vertex.nearest("POST", BASE + ":generateContent", prompt("hi"))[1] == (
        "it holds no Developer API interaction, only 1 Vertex AI one(s)"
    )
    mixed = Index(Cassette(interactions=[unary("hi"), vertex_unary("hello")]))
    nearest, why = mixed.nearest("POST", GENERATE, prompt("hi"))
    assert nearest is not None and mixed.ordinal(nearest) == 1 and "contents[0].parts[0].text" in why


def test_vertex_bodies_match_in_canonical_form() -> None:
    recorded = vertex_unary("hi")
    recorded.request.body = json.dumps(
        {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generation_config": {}}
    )
    index = Index(Cassette(interactions=[recorded]))
    assert index.take("POST", GENERATE, {"contents": [{"parts": [{"text": "hi"}], "role": "user"}]}) is recorded


# --- redaction ----------------------------------------------------------------------------------------


def vertex_leaky() -> Interaction:
    """A Vertex AI exchange with credentials where upstreams and clients put them."""
    request = RecordedRequest(
        method="POST",
        uri=GENERATE + f"?access_token={TOKEN}",
        headers={
            "Authorization": [f"Bearer {TOKEN}"],
            "authorization": ["Basic Zm9vOmJhcg=="],
            "x-goog-user-project": [PROJECT_NUMBER],
            "X-Goog-Iam-Authorization-Token": ["opaque-iam-token"],
            "x-forwarded": ["bearer other-opaque-token-1234567"],
        },
        body=prompt(f"the token was {TOKEN} and billed to {PROJECT_NUMBER}"),
    )
    jwt = "eyJhbGciOiJSUzI1NiJ9." + "eyJzdWIiOiJjYW5hcnkifQ" + ".c2lnbmF0dXJlLWNhbmFyeQ"
    error = {
        "error": {
            "message": f"token {jwt} of project {PROJECT_NUMBER.lower()} / {quote(PROJECT_NUMBER)} was refused",
            "details": [{"echo": base64.b64encode(f"Bearer {TOKEN}".encode()).decode()}],
        }
    }
    response = RecordedResponse(
        status=401, headers={"www-authenticate": ['Bearer realm="https://accounts.google.com/"']}, body=error
    )
    return Interaction(request=request, response=response)


def test_tokens_are_cleared_wherever_they_appear_and_the_user_project_whole() -> None:
    clean = scrub(vertex_leaky(), {TOKEN, Whole(PROJECT_NUMBER)})
    text = json.dumps(clean.model_dump(mode="json"))
    for gone in (TOKEN, "c4n4ry", PROJECT_NUMBER, "Zm9vOmJhcg", "opaque-iam-token", "other-opaque-token", "eyJ"):
        assert gone not in text, gone
    assert clean.request.uri == GENERATE + f"?access_token={REDACTED}"
    assert clean.request.headers["x-forwarded"] == [f"bearer {REDACTED}"]
    assert clean.response.headers["www-authenticate"] == ['Bearer realm="https://accounts.google.com/"']
    assert scrub(clean, {TOKEN, Whole(PROJECT_NUMBER)}) == clean
    assert find_secrets(text) == []


def test_a_whole_value_is_not_hunted_piece_by_piece() -> None:
    interaction = vertex_unary("the acme-search team", reply="acme-search-prod and 0.12880011223345")
    clean = scrub(interaction, {Whole("acme-search-prod"), Whole(PROJECT_NUMBER)})
    assert clean.request.body == prompt("the acme-search team")
    assert clean.response.body["candidates"][0]["content"]["parts"][0]["text"] == f"{REDACTED} and 0.12880011223345"
    short = scrub(vertex_unary("proj"), {Whole("proj")})  # shorter than any project id: the header alone goes
    assert short.request.body == prompt("proj")


def test_prose_after_bearer_is_kept() -> None:
    text = "Bearer bonds and bearer instruments; the Bearer realm"
    assert scrub(vertex_unary(text), set()).request.body == prompt(text)


@pytest.mark.parametrize(
    "leak",
    [
        "AQ." + "Ab8RN6" * 6,  # another caller's express-mode key: refused, never guessed away
        f"Bearer {'x1' * 12}",
    ],
)
def test_the_final_scan_refuses_what_redaction_did_not_clear(
    tmp_path: Path, leak: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emulator.cassette import redact

    interaction = vertex_unary(f"a leak: {leak}")
    if leak.startswith("Bearer"):
        monkeypatch.setattr(redact, "scrub", lambda interaction, secrets=(): interaction)
    with pytest.raises(CassetteError, match="refusing to write"):
        save(Cassette(interactions=[interaction]), tmp_path / "c.yaml")
    assert not (tmp_path / "c.yaml").exists()


# --- cassettes other tools recorded of the real service ------------------------------------------------


def _sse(*events: dict[str, Any]) -> str:
    return "".join("data: " + json.dumps(e) + "\r\n\r\n" for e in events)


def vcrpy_cassette(base: str) -> dict[str, Any]:
    """As vcrpy records the real service: string bodies, the SSE text as sent, headers it kept."""
    chunks = (vertex_answer("Ruby", None), vertex_answer(" is fun.", "STOP"))
    return {
        "version": 1,
        "interactions": [
            {
                "request": {
                    "method": "POST",
                    "uri": f"{base}/publishers/google/models/{MODEL}:generateContent",
                    "body": json.dumps({"contents": [{"parts": [{"text": "hi"}], "role": "user"}]}),
                    "headers": {"Authorization": ["REDACTED"], "Content-Type": ["application/json"]},
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"Content-Type": ["application/json; charset=UTF-8"]},
                    "body": {"string": json.dumps(vertex_answer("recorded elsewhere"), indent=2) + "\n"},
                },
            },
            {
                "request": {
                    "method": "POST",
                    "uri": f"{base}/publishers/google/models/{MODEL}:streamGenerateContent?alt=sse",
                    "body": json.dumps({"contents": [{"role": "user", "parts": [{"text": "count"}]}]}),
                    "headers": {},
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"Content-Type": ["text/event-stream"], "Content-Disposition": ["attachment"]},
                    "body": {"string": _sse(*chunks)},
                },
            },
        ],
    }


@pytest.mark.parametrize(
    "base",
    [
        "https://aiplatform.googleapis.com/v1beta1/projects/PROJECT/locations/global",
        "https://us-central1-aiplatform.googleapis.com/v1/projects/pydantic-ai/locations/us-central1",
        "https://aiplatform.googleapis.com/v1beta1/projects/%3CGOOGLE_CLOUD_PROJECT%3E/locations/%3CGOOGLE_CLOUD_LOCATION%3E",
    ],
)
def test_plain_vcrpy_cassettes_of_the_real_service_replay(tmp_path: Path, base: str) -> None:
    path = tmp_path / "vertex.yaml"
    path.write_text(yaml.safe_dump(vcrpy_cassette(base), sort_keys=False))
    assert [flavour_of(i.request.uri) for i in load(path).interactions] == [Flavour.VERTEX] * 2
    with EmulatorThread(Settings(port=0, cassette=path)) as replay:
        client = genai.Client(
            vertexai=True,
            project="my-project",
            location="europe-west4",
            credentials=Credentials(token="any-token"),
            http_options={"base_url": replay.url},
        )
        unary_answer = client.models.generate_content(model=MODEL, contents="hi")
        assert unary_answer.text == "recorded elsewhere"
        assert unary_answer.response_id == "2L-Fas6RCLDYxN8P5tHjyAs"
        assert [c.text for c in client.models.generate_content_stream(model=MODEL, contents="count")] == [
            "Ruby",
            " is fun.",
        ]


def test_a_readable_vertex_cassette_round_trips_its_events(tmp_path: Path) -> None:
    streamed = Interaction(
        request=RecordedRequest(method="POST", uri=STREAM, body=prompt("count")),
        response=RecordedResponse(
            headers={"content-type": ["text/event-stream"]},
            events=[Event(data=vertex_answer("one", None), delay=0.1), Event(data=answer("two"))],
        ),
    )
    save(Cassette(interactions=[streamed]), tmp_path / "c.yaml", secrets={TOKEN, Whole(PROJECT_NUMBER)})
    assert load(tmp_path / "c.yaml").interactions == [streamed]


@pytest.mark.parametrize(
    "base", ["http://127.0.0.1:8/v1beta1/projects/p/locations/us-central1", "http://127.0.0.1:8/v1beta1"]
)
def test_vertex_recordings_stay_vertex_through_google_genai_replay_files(base: str) -> None:
    from emulator.cassette.convert import from_genai_replay, to_genai_replay

    recorded = vertex_unary("hi", uri=f"{base}/publishers/google/models/{MODEL}:generateContent")
    replay_file = to_genai_replay(Cassette(interactions=[recorded]), "vertex")
    assert replay_file["interactions"][0]["request"]["url"].startswith("{VERTEX_URL_PREFIX}/publishers/google/")
    back = from_genai_replay(replay_file)
    assert flavour_of(back.interactions[0].request.uri) is Flavour.VERTEX
    assert Index(back).take("POST", GENERATE, prompt("hi")) is back.interactions[0]
