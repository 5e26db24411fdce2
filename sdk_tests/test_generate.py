"""generate_content and its streaming and async forms, through the real SDK."""

from __future__ import annotations

import asyncio

import harness
import pytest
from google import genai
from google.genai import types
from pydantic import BaseModel

MODEL = "gemini-2.5-flash"
EVERY = pytest.mark.flavours("developer", "vertex", "express")
BOTH = pytest.mark.flavours("developer", "vertex")


@EVERY
def test_generate_content_answers_text_with_consistent_usage(client: genai.Client) -> None:
    response = client.models.generate_content(model=MODEL, contents="What is the capital of France?")
    assert "What is the capital of France?" in (response.text or "")
    usage = response.usage_metadata
    assert usage is not None and usage.prompt_token_count and usage.candidates_token_count
    assert usage.total_token_count == (
        usage.prompt_token_count + usage.candidates_token_count + (usage.thoughts_token_count or 0)
    )
    assert response.candidates and response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.model_version == MODEL and response.response_id


@BOTH
def test_same_request_same_answer_and_v1beta_agrees(client: genai.Client, beta_client: genai.Client) -> None:
    first = client.models.generate_content(model=MODEL, contents="determinism please")
    second = client.models.generate_content(model=MODEL, contents="determinism please")
    beta = beta_client.models.generate_content(model=MODEL, contents="determinism please")
    other = client.models.generate_content(model=MODEL, contents="something else")
    assert first.text == second.text == beta.text
    assert first.response_id == second.response_id
    assert other.text != first.text


@EVERY
def test_stream_has_several_chunks_one_id_and_final_finish(client: genai.Client) -> None:
    chunks = list(client.models.generate_content_stream(model=MODEL, contents="Tell me a story"))
    assert len(chunks) >= 3
    assert len({c.response_id for c in chunks}) == 1
    assert all(c.candidates and c.candidates[0].content and c.candidates[0].content.parts for c in chunks)
    assert [c.candidates[0].finish_reason for c in chunks[:-1]] == [None] * (len(chunks) - 1)
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    unary = client.models.generate_content(model=MODEL, contents="Tell me a story")
    assert "".join(c.text or "" for c in chunks) == unary.text
    assert chunks[-1].usage_metadata.total_token_count == unary.usage_metadata.total_token_count


@EVERY
def test_async_forms_match_sync(client: genai.Client) -> None:
    async def run() -> tuple[str | None, str]:
        unary = await client.aio.models.generate_content(model=MODEL, contents="async hello")
        stream = await client.aio.models.generate_content_stream(model=MODEL, contents="async hello")
        return unary.text, "".join([c.text or "" async for c in stream])

    unary_text, streamed_text = asyncio.run(run())
    assert unary_text == streamed_text == client.models.generate_content(model=MODEL, contents="async hello").text


@BOTH
def test_max_output_tokens_truncates_with_max_tokens(client: genai.Client) -> None:
    config = types.GenerateContentConfig(max_output_tokens=5)
    response = client.models.generate_content(model=MODEL, contents="a long answer please", config=config)
    assert response.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert response.usage_metadata.candidates_token_count == 5
    full = client.models.generate_content(model=MODEL, contents="a long answer please").text or ""
    assert full.startswith(response.text or "<none>") and len(response.text or "") < len(full)


@BOTH
def test_stop_sequences_cut_the_answer(client: genai.Client) -> None:
    full = client.models.generate_content(model=MODEL, contents="stop early").text or ""
    stop = full.split()[3]
    cut = client.models.generate_content(
        model=MODEL, contents="stop early", config=types.GenerateContentConfig(stop_sequences=[stop])
    )
    assert cut.text == full[: full.index(stop)]
    assert cut.candidates[0].finish_reason == types.FinishReason.STOP


def test_candidate_count_gives_distinct_candidates(client: genai.Client) -> None:
    """Developer API only: its candidates carry an ``index``; Vertex AI's recorded candidates never do."""
    config = types.GenerateContentConfig(candidate_count=3)
    response = client.models.generate_content(model=MODEL, contents="three ways", config=config)
    assert [c.index for c in response.candidates] == [0, 1, 2]
    assert len({c.content.parts[0].text for c in response.candidates}) == 3
    streamed = list(client.models.generate_content_stream(model=MODEL, contents="three ways", config=config))
    assert {c.index for chunk in streamed for c in chunk.candidates} == {0, 1, 2}


class City(BaseModel):
    name: str
    population: int
    landmarks: list[str]


@EVERY
def test_structured_output_parses_into_pydantic(client: genai.Client) -> None:
    config = types.GenerateContentConfig(response_mime_type="application/json", response_schema=City)
    response = client.models.generate_content(model=MODEL, contents="Describe Paris", config=config)
    assert isinstance(response.parsed, City)
    json_config = types.GenerateContentConfig(
        response_mime_type="application/json", response_json_schema=City.model_json_schema()
    )
    raw = client.models.generate_content(model=MODEL, contents="Describe Paris", config=json_config)
    City.model_validate_json(raw.text or "")


@BOTH
def test_thinking_models_report_thoughts_and_can_show_them(client: genai.Client) -> None:
    config = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(include_thoughts=True))
    response = client.models.generate_content(model=MODEL, contents="think", config=config)
    parts = response.candidates[0].content.parts
    assert parts[0].thought is True and parts[-1].thought is not True
    assert response.usage_metadata.thoughts_token_count
    hidden = client.models.generate_content(model=MODEL, contents="think")
    assert not any(p.thought for p in hidden.candidates[0].content.parts)


@EVERY
def test_count_tokens_agrees_with_prompt_usage(client: genai.Client) -> None:
    contents = [
        types.Content(role="user", parts=[types.Part(text="Hello, how are you today?")]),
        types.Content(role="model", parts=[types.Part(text="Fine, thanks.")]),
        types.Content(role="user", parts=[types.Part(text="Count these 12345 tokens!")]),
    ]
    counted = client.models.count_tokens(model=MODEL, contents=contents)
    used = client.models.generate_content(model=MODEL, contents=contents).usage_metadata
    assert counted.total_tokens == used.prompt_token_count > 0


@BOTH
@pytest.mark.parametrize("dimension", [None, 16])
def test_embeddings_are_deterministic_unit_vectors(client: genai.Client, dimension: int | None) -> None:
    config = types.EmbedContentConfig(output_dimensionality=dimension) if dimension else None
    first = client.models.embed_content(model="gemini-embedding-001", contents=["alpha", "beta"], config=config)
    again = client.models.embed_content(model="gemini-embedding-001", contents=["alpha"], config=config)
    assert first.embeddings and again.embeddings
    a, b = (e.values or [] for e in first.embeddings)
    assert len(a) == (dimension or 3072)
    assert a == again.embeddings[0].values and a != b
    assert abs(sum(v * v for v in a) - 1.0) < 1e-9


@BOTH
def test_inline_image_is_accepted_and_counted(client: genai.Client) -> None:
    image = types.Part.from_bytes(data=b"\x89PNG\r\n\x1a\n" + bytes(range(256)), mime_type="image/png")
    response = client.models.generate_content(model=MODEL, contents=[image, "What is in this image?"])
    details = {d.modality: d.token_count for d in response.usage_metadata.prompt_tokens_details}
    assert details[types.MediaModality.IMAGE] == 258


@pytest.mark.flavours("vertex", "express")
def test_vertex_serves_text_embeddings_by_predict_and_gemini_embeddings_by_embed_content(
    client: genai.Client, emulator_url: str, api_key: str
) -> None:
    """Vertex AI only: a text-embedding model answers ``:predict`` (with statistics), a Gemini embedding
    model ``:embedContent`` for one content and ``:batchEmbedContents`` for several."""
    config = types.EmbedContentConfig(output_dimensionality=32)
    texts = client.models.embed_content(model="text-embedding-005", contents=["alpha", "beta gamma"], config=config)
    assert [len(e.values or []) for e in texts.embeddings or []] == [32, 32]
    assert [e.statistics.token_count for e in texts.embeddings or [] if e.statistics] == [1, 2]
    assert texts.metadata and texts.metadata.billable_character_count
    one = client.models.embed_content(model="gemini-embedding-001", contents="alpha", config=config)
    both = client.models.embed_content(model="gemini-embedding-001", contents=["alpha", "beta"], config=config)
    assert one.embeddings and both.embeddings and one.embeddings[0].values == both.embeddings[0].values
    assert abs(sum(v * v for v in one.embeddings[0].values or []) - 1.0) < 1e-9
    methods = [(e["model"], e["method"]) for e in harness.journal(emulator_url, api_key)]
    assert methods == [
        ("text-embedding-005", "predict"),
        ("gemini-embedding-001", "embedContent"),
        ("gemini-embedding-001", "batchEmbedContents"),
    ]


@pytest.mark.flavours("vertex", "express")
def test_compute_tokens_lists_the_tokens_of_each_content(client: genai.Client) -> None:
    """Vertex AI only (the Developer API has no computeTokens): one tokens-info per content, its ids
    and token bytes the same length, and as many as count_tokens counts."""
    contents = [
        types.Content(role="user", parts=[types.Part(text="Hello there, how are you?")]),
        types.Content(role="model", parts=[types.Part(text="Fine.")]),
    ]
    computed = client.models.compute_tokens(model=MODEL, contents=contents)
    info = computed.tokens_info or []
    assert [i.role for i in info] == ["user", "model"]
    assert all(i.tokens and len(i.tokens) == len(i.token_ids or []) for i in info)
    counted = client.models.count_tokens(model=MODEL, contents=contents).total_tokens
    assert sum(len(i.tokens or []) for i in info) == counted
