"""Every kind of model a user reaches through the SDK, each family in its own shape: text models of
every generation (sync and async, unary and streamed), thinking, image models whose pictures decode,
speech models whose audio is PCM of the advertised rate, and embedding models."""

from __future__ import annotations

import asyncio
import io
import math
import re
from collections.abc import Iterable

import pytest
from google import genai
from google.genai import types

TEXT_MODELS = ["gemini-1.5-flash", "gemini-2.0-flash", "gemini-2.5-flash", "gemini-3-pro-preview", "gemma-3-27b-it"]
IMAGE_MODELS = {"gemini-2.5-flash-image": "image/png", "gemini-3-pro-image-preview": "image/jpeg"}
SPEECH_MODEL = "gemini-2.5-flash-preview-tts"
EMBEDDING_MODELS = ["gemini-embedding-001", "text-embedding-004"]


def joined(chunks: Iterable[types.GenerateContentResponse]) -> str:
    return "".join(chunk.text or "" for chunk in chunks)


def usage_adds_up(response: types.GenerateContentResponse) -> None:
    usage = response.usage_metadata
    assert usage is not None and usage.prompt_token_count and usage.candidates_token_count
    assert usage.total_token_count == (
        usage.prompt_token_count + usage.candidates_token_count + (usage.thoughts_token_count or 0)
    )


@pytest.mark.parametrize(
    ("flavour", "model"),
    [("developer", m) for m in TEXT_MODELS] + [("vertex", m) for m in TEXT_MODELS if not m.startswith("gemma")],
)
def test_text_models_answer_alike_sync_async_unary_and_streamed(client: genai.Client, model: str) -> None:
    """On both APIs (Vertex AI's catalogue has no Gemma model)."""
    prompt = "Describe the tides in a few sentences."
    unary = client.models.generate_content(model=model, contents=prompt)
    streamed = list(client.models.generate_content_stream(model=model, contents=prompt))

    async def both() -> tuple[types.GenerateContentResponse, str]:
        answer = await client.aio.models.generate_content(model=model, contents=prompt)
        chunks = [c async for c in await client.aio.models.generate_content_stream(model=model, contents=prompt)]
        return answer, joined(chunks)

    async_unary, async_streamed = asyncio.run(both())
    assert prompt in (unary.text or "")
    assert unary.text == async_unary.text == joined(streamed) == async_streamed
    assert unary.candidates and unary.candidates[0].finish_reason == types.FinishReason.STOP
    assert streamed[-1].candidates and streamed[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert len({c.response_id for c in streamed}) == 1 and unary.model_version == model
    usage_adds_up(unary)
    usage_adds_up(streamed[-1])


@pytest.mark.flavours("developer", "vertex")
@pytest.mark.parametrize("model", ["gemini-2.5-flash", "gemini-3-pro-preview"])
def test_thinking_models_show_thoughts_only_when_asked(client: genai.Client, model: str) -> None:
    shown = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(include_thoughts=True))
    answer = client.models.generate_content(model=model, contents="Why is the sea salty?", config=shown)
    plain = client.models.generate_content(model=model, contents="Why is the sea salty?")
    assert answer.candidates and answer.candidates[0].content and answer.candidates[0].content.parts
    parts = answer.candidates[0].content.parts
    assert parts[0].thought and parts[0].text
    assert answer.text and parts[0].text not in answer.text and plain.text
    assert not any(p.thought for p in plain.candidates[0].content.parts)  # type: ignore[index, union-attr]
    assert answer.usage_metadata and answer.usage_metadata.thoughts_token_count
    usage_adds_up(answer)
    streamed = list(client.models.generate_content_stream(model=model, contents="Why is the sea salty?", config=shown))
    thoughts = [p for c in streamed for p in c.candidates[0].content.parts or [] if p.thought]  # type: ignore[index, union-attr]
    assert thoughts and joined(streamed) == answer.text


@pytest.mark.flavours("developer", "vertex")
@pytest.mark.parametrize(("model", "mime_type"), IMAGE_MODELS.items())
@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_image_models_draw_pictures_that_decode(client: genai.Client, model: str, mime_type: str, stream: bool) -> None:
    pil = pytest.importorskip("PIL.Image")
    config = types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"])
    prompt = "A lighthouse at dusk"
    if stream:
        responses = list(client.models.generate_content_stream(model=model, contents=prompt, config=config))
    else:
        responses = [client.models.generate_content(model=model, contents=prompt, config=config)]
    parts = [p for r in responses for p in r.candidates[0].content.parts or []]  # type: ignore[index, union-attr]
    images = [p.as_image() for p in parts if p.inline_data]
    assert len(images) == 1 and images[0] is not None and images[0].mime_type == mime_type
    picture = pil.open(io.BytesIO(images[0].image_bytes or b""))
    picture.load()
    assert picture.format == mime_type.split("/")[1].upper() and min(picture.size) > 0
    assert any(p.text for p in parts)  # TEXT was asked for too
    again = client.models.generate_content(model=model, contents=prompt, config=config)
    drawn = [p.inline_data.data for p in again.candidates[0].content.parts if p.inline_data]  # type: ignore[index, union-attr]
    assert drawn == [images[0].image_bytes]
    only = types.GenerateContentConfig(response_modalities=["IMAGE"])
    alone = client.models.generate_content(model=model, contents=prompt, config=only)
    assert [bool(p.inline_data) for p in alone.candidates[0].content.parts] == [True]  # type: ignore[index, union-attr]


@pytest.mark.flavours("developer", "vertex")
def test_speech_model_speaks_pcm_as_long_as_the_text(client: genai.Client) -> None:
    voice = types.VoiceConfig(prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name="Kore"))
    config = types.GenerateContentConfig(
        response_modalities=["AUDIO"], speech_config=types.SpeechConfig(voice_config=voice)
    )

    def spoken(text: str) -> tuple[str, bytes]:
        answer = client.models.generate_content(model=SPEECH_MODEL, contents=text, config=config)
        parts = answer.candidates[0].content.parts  # type: ignore[index, union-attr]
        assert parts and len(parts) == 1 and parts[0].inline_data and not parts[0].text
        return parts[0].inline_data.mime_type or "", parts[0].inline_data.data or b""

    mime_type, short = spoken("Hello there.")
    _, long = spoken("Hello there, and welcome to a much longer sentence spoken slowly and clearly.")
    rate = re.fullmatch(r"audio/L16;codec=pcm;rate=(\d+)", mime_type)
    assert rate and int(rate.group(1)) == 24_000
    assert len(short) % 2 == 0 and len(long) > len(short) > 24_000  # 16-bit samples, over half a second
    assert any(short[i : i + 2] != b"\x00\x00" for i in range(0, 2000, 2))  # a sound, not silence


@pytest.mark.flavours("developer", "vertex")
@pytest.mark.parametrize("model", EMBEDDING_MODELS)
def test_embedding_models_embed_unit_vectors_sync_and_async(client: genai.Client, model: str) -> None:
    contents = ["The tide comes in.", "The tide goes out.", "Bread rises in the oven."]
    result = client.models.embed_content(model=model, contents=contents)
    assert result.embeddings and len(result.embeddings) == 3
    vectors = [e.values or [] for e in result.embeddings]
    assert len({len(v) for v in vectors}) == 1 and len(vectors[0]) >= 256
    assert all(math.isclose(math.fsum(x * x for x in v), 1.0, rel_tol=1e-6) for v in vectors)
    assert vectors[0] != vectors[1]
    config = types.EmbedContentConfig(output_dimensionality=128)
    small = asyncio.run(client.aio.models.embed_content(model=model, contents=contents[0], config=config))
    assert small.embeddings and len(small.embeddings[0].values or []) == 128
    again = client.models.embed_content(model=model, contents=contents[:1])
    assert again.embeddings and again.embeddings[0].values == vectors[0]


@pytest.mark.parametrize(
    ("model", "config", "start"),
    [
        ("gemma-3-27b-it", types.GenerateContentConfig(system_instruction="Be brief."), "Developer instruction"),
        ("gemma-3-27b-it", types.GenerateContentConfig(response_mime_type="application/json"), "JSON mode"),
        ("gemini-2.5-flash-image", types.GenerateContentConfig(candidate_count=2), "Multiple candidates"),
    ],
)
def test_a_model_refuses_what_its_family_does_not_do(
    client: genai.Client, model: str, config: types.GenerateContentConfig, start: str
) -> None:
    """Developer API only: its wording, ``models/{model}``, and Gemma, which Vertex AI's catalogue lacks."""
    with pytest.raises(genai.errors.ClientError) as caught:
        client.models.generate_content(model=model, contents="Hello", config=config)
    assert caught.value.code == 400 and caught.value.status == "INVALID_ARGUMENT"
    assert caught.value.message == f"{start} is not enabled for models/{model}"
    assert client.models.generate_content(model=model, contents="Hello").text  # the model itself answers
