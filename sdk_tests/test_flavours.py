"""The Developer API and Vertex AI side by side on one emulator, through the real SDK.

One credential names one context whichever API it is sent to (a key in ``x-goog-api-key``, the same
string as a Vertex AI bearer token or express-mode key), so these tests put a Developer API client, a
Vertex AI client and an express-mode client on one credential and check that they share the context
(its journal, its faults) yet each meets its own API's rules.
"""

from __future__ import annotations

import harness
import pytest
from google import genai
from google.genai import types

MODEL = "gemini-2.5-flash"
EMPTY_TEXT = "Unable to submit request because it has an empty text parameter. Add a value to the parameter"
NO_PARTS = "Unable to submit request because it must include at least one parts field"


@pytest.fixture
def shared(emulator_url: str) -> tuple[str, dict[str, genai.Client]]:
    """One credential (an ``AQ.`` key, which every flavour takes) and a client of each flavour on it."""
    credential = harness.key(__name__, prefix="AQ.")
    return credential, {flavour: harness.client(emulator_url, flavour, credential) for flavour in harness.FLAVOURS}


def test_one_credential_is_one_context_on_both_apis(
    emulator_url: str, shared: tuple[str, dict[str, genai.Client]]
) -> None:
    """The same request gets the same answer from every flavour, and all three calls land in the journal
    that the control plane reads with the credential as ``x-goog-api-key``, each with its API."""
    credential, clients = shared
    answers = {
        flavour: client.models.generate_content(model=MODEL, contents="one model")
        for flavour, client in clients.items()
    }
    assert len({a.text for a in answers.values()}) == 1 and "one model" in (answers["vertex"].text or "")
    journal = harness.journal(emulator_url, credential)
    assert [(e["flavour"], e["project"], e["location"], e["model"]) for e in journal] == [
        ("developer", None, None, MODEL),
        ("vertex", harness.PROJECT, harness.LOCATION, MODEL),
        ("vertex", None, None, MODEL),
    ]
    assert {e["version"] for e in journal} == {"v1", "v1beta1"}


def test_a_fault_put_for_the_credential_meets_whichever_api_calls_next(
    emulator_url: str, shared: tuple[str, dict[str, genai.Client]]
) -> None:
    credential, clients = shared
    harness.control(emulator_url, credential, "PUT", "faults", [{"kind": "error", "code": 503, "times": 2}])
    for flavour in ("vertex", "developer"):
        with pytest.raises(genai.errors.ServerError) as caught:
            clients[flavour].models.generate_content(model=MODEL, contents="x")
        assert (caught.value.code, caught.value.status) == (503, "UNAVAILABLE")
    assert clients["express"].models.generate_content(model=MODEL, contents="x").text


def test_empty_text_is_refused_by_vertex_only_in_the_same_context(
    emulator_url: str, shared: tuple[str, dict[str, genai.Client]]
) -> None:
    """``{"text": ""}`` is a valid part on the Developer API (the service answered it in recordings), and
    a 400 of Vertex AI's own on Vertex AI, express mode too; a content without parts is refused by both,
    each in its own words. A refusal of one API changes nothing for the other."""
    credential, clients = shared
    empty = [types.Content(role="user", parts=[types.Part(text="")])]
    assert clients["developer"].models.generate_content(model=MODEL, contents=empty).text
    for flavour in ("vertex", "express"):
        with pytest.raises(genai.errors.ClientError) as caught:
            clients[flavour].models.generate_content(model=MODEL, contents=empty)
        assert (caught.value.code, caught.value.status) == (400, "INVALID_ARGUMENT")
        assert (caught.value.message or "").startswith(EMPTY_TEXT)
    assert clients["developer"].models.generate_content(model=MODEL, contents=empty).text
    partless = [types.Content(role="user", parts=[])]
    messages = {}
    for flavour in ("developer", "vertex"):
        with pytest.raises(genai.errors.ClientError) as caught:
            clients[flavour].models.generate_content(model=MODEL, contents=partless)
        assert caught.value.code == 400
        messages[flavour] = caught.value.message or ""
    assert messages["developer"] == "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n"
    assert messages["vertex"].startswith(NO_PARTS)
    assert [e["flavour"] for e in harness.journal(emulator_url, credential)] == ["developer", "developer"]


def test_compute_tokens_and_predict_are_vertex_calls(
    emulator_url: str, shared: tuple[str, dict[str, genai.Client]]
) -> None:
    """What only Vertex AI serves is not on the Developer API's paths: the SDK refuses compute_tokens
    there before sending, and a Vertex-only embedding model is unknown to the Developer API."""
    _, clients = shared
    assert clients["vertex"].models.compute_tokens(model=MODEL, contents="hello").tokens_info
    with pytest.raises(ValueError, match="not in Gemini Developer API mode"):
        clients["developer"].models.compute_tokens(model=MODEL, contents="hello")
    assert clients["express"].models.embed_content(model="text-embedding-005", contents="hello").embeddings
    with pytest.raises(genai.errors.ClientError) as caught:
        clients["developer"].models.embed_content(model="text-embedding-005", contents="hello")
    assert caught.value.code == 404
