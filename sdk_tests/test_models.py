"""The model catalogue endpoints."""

from __future__ import annotations

import harness
import pytest
from google import genai


def test_list_models_pages_through_the_catalogue(client: genai.Client) -> None:
    """Developer API only: ``models/...`` names (Vertex AI's: test_vertex_lists_and_gets_publisher_models)."""
    paged = [m.name for m in client.models.list(config={"page_size": 3})]
    whole = [m.name for m in client.models.list(config={"page_size": 1000})]
    assert paged == whole and len(whole) >= 6 and len(set(whole)) == len(whole)
    assert "models/gemini-2.5-flash" in whole and "models/gemini-embedding-001" in whole


def test_get_model_reads_the_fields_the_sdk_maps(client: genai.Client) -> None:
    """Developer API only: ``models/...`` names (Vertex AI's: test_vertex_lists_and_gets_publisher_models)."""
    model = client.models.get(model="gemini-2.5-flash")
    assert model.name == "models/gemini-2.5-flash"
    assert model.display_name and model.input_token_limit and model.output_token_limit
    assert model.supported_actions and "generateContent" in model.supported_actions
    assert model.thinking is True


@pytest.mark.flavours("developer", "vertex", "express")
def test_unknown_model_is_404(client: genai.Client) -> None:
    with pytest.raises(genai.errors.ClientError) as caught:
        client.models.get(model="gemini-0-nothing")
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"


def test_a_listed_model_serves_the_actions_it_lists(client: genai.Client, emulator_url: str, api_key: str) -> None:
    """The catalogue and the server agree: what ``models.get`` says a model supports, it answers (the
    catalogue calls themselves are no model calls, so only these reach the journal)."""
    made: list[tuple[str, str]] = []
    for name in ("gemini-2.5-flash", "gemini-embedding-001"):
        actions = client.models.get(model=name).supported_actions or []
        if "generateContent" in actions:
            assert client.models.generate_content(model=name, contents="hello").text
            made.append((name, "generateContent"))
        if "countTokens" in actions:
            assert client.models.count_tokens(model=name, contents="hello").total_tokens
            made.append((name, "countTokens"))
        if "embedContent" in actions:
            assert client.models.embed_content(model=name, contents="hello").embeddings
            made.append((name, "embedContent"))
    assert {name for name, _ in made} == {"gemini-2.5-flash", "gemini-embedding-001"}
    journaled = [(e["model"], e["method"]) for e in harness.journal(emulator_url, api_key)]
    # The SDK sends embed_content to the Developer API as batchEmbedContents.
    assert [(m, "embedContent" if a == "batchEmbedContents" else a) for m, a in journaled] == made


@pytest.mark.flavours("vertex", "express")
def test_vertex_lists_and_gets_publisher_models(client: genai.Client) -> None:
    """Vertex AI only: its catalogue is Google's publisher models (the embedding models that only
    ``:predict`` serves among them), named ``publishers/google/models/...``, paged the same either way."""
    paged = [m.name for m in client.models.list(config={"page_size": 5})]
    whole = [m.name for m in client.models.list(config={"page_size": 1000})]
    assert paged == whole and len(set(whole)) == len(whole) > 5
    assert {f"publishers/google/models/{m}" for m in ("gemini-2.5-flash", "text-embedding-005")} <= set(whole)
    model = client.models.get(model="gemini-2.5-flash")
    assert model.name == "publishers/google/models/gemini-2.5-flash" and model.version
    with pytest.raises(genai.errors.ClientError) as caught:
        client.models.get(model="gemini-0-nothing")
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"


@pytest.mark.flavours("vertex")
def test_vertex_lists_no_tuned_models_of_the_project(client: genai.Client) -> None:
    """Vertex AI only: ``query_base=False`` lists the project's tuned models (``projects/.../models``), none here."""
    assert list(client.models.list(config={"query_base": False})) == []
