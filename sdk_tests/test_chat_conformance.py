"""Chat conformance, one explicit case per rule: what the SDK sends, what it records, what it raises.

Complements test_chats.py (multi-turn basics), test_scenarios.py (scripted chats, a blocked unary
prompt, a mid-stream error on the first message) and test_faults.py (errors and retries of
generate_content). Every test uses an API key of its own, so its scenario, faults and journal
(``/_emulator/...``) are its own; shapes the SDK must cope with but no model writes (no candidates at
all, a content without parts, a chunk that fails validation mid-stream) are scripted as raw bodies.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any, cast

import harness
import pytest
from google import genai
from google.genai import types
from google.genai.chats import AsyncChat

pytestmark = pytest.mark.conformance("chats")

MODEL = "gemini-2.5-flash"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
Wire = dict[str, Any]


class Ctx:
    """A fresh API key (a context of its own), a client on it, and its control plane."""

    def __init__(self, url: str, retry: types.HttpRetryOptions | None = None) -> None:
        self.url, self.key = url, harness.key(__name__)
        options = types.HttpOptions(base_url=url, retry_options=retry)
        self.client = genai.Client(api_key=self.key, http_options=options)

    def control(self, method: str, name: str, body: Any = None) -> Any:
        return harness.control(self.url, self.key, method, name, body)

    def scenario(self, *rules: Wire) -> None:
        self.control("PUT", "scenario", {"name": "chat conformance", "rules": list(rules)})

    def play(self, *answers: list[Wire]) -> None:
        """Raw bodies verbatim, one list per request in order: all of it as a stream, its first body for
        a unary call. One rule per request (each answers once), and no answer beyond them."""
        self.scenario(*({"reply": {"raw": bodies}} for bodies in answers))

    def faults(self, *faults: Wire) -> None:
        self.control("PUT", "faults", list(faults))

    def journal(self) -> list[Wire]:
        return harness.journal(self.url, self.key)

    def sent_contents(self, index: int = -1) -> list[types.Content]:
        """The contents of one journaled request, read back into the SDK's types."""
        wire = self.journal()[index]["request"]["contents"]
        return [types.Content.model_validate_json(json.dumps(c)) for c in wire]


@pytest.fixture
def ctx(emulator_url: str) -> Ctx:
    return Ctx(emulator_url)


def text_body(text: str, finish: str | None = "STOP") -> Wire:
    candidate: Wire = {"content": {"role": "model", "parts": [{"text": text}]}}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate]}


def dumps(contents: list[types.Content]) -> list[Wire]:
    return [c.model_dump(mode="json", exclude_none=True) for c in contents]


def user(*parts: str | types.Part) -> types.Content:
    return types.Content(role="user", parts=[types.Part(text=p) if isinstance(p, str) else p for p in parts])


def model(*texts: str) -> types.Content:
    return types.Content(role="model", parts=[types.Part(text=t) for t in texts])


def send(chat: Any, message: Any, stream: bool, config: types.GenerateContentConfig | None = None) -> list[Any]:
    """A sync or async chat's answer: the response, or every chunk of the stream."""
    if isinstance(chat, AsyncChat):

        async def run() -> list[Any]:
            if stream:
                return [chunk async for chunk in await chat.send_message_stream(message, config=config)]
            return [await chat.send_message(message, config=config)]

        return asyncio.run(run())
    if stream:
        return list(chat.send_message_stream(message, config=config))
    return [chat.send_message(message, config=config)]


def new_chat(client: genai.Client, is_async: bool, **kwargs: Any) -> Any:
    return (client.aio.chats if is_async else client.chats).create(model=MODEL, **kwargs)


BOTH = pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
TRANSPORTS = pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])


# --------------------------------------------------------------------------------------------------
# What a chat sends.


@BOTH
def test_a_multi_part_message_with_an_inline_image_is_sent_and_sent_again(ctx: Ctx, is_async: bool) -> None:
    """The image travels as inlineData (base64 on the wire), is kept in the history as bytes and goes
    out again, unchanged, with the next message; it is counted as an image each time."""
    chat = new_chat(ctx.client, is_async)
    image = types.Part.from_bytes(data=PNG, mime_type="image/png")
    [first] = send(chat, ["What is in this picture?", image], stream=False)
    wire = ctx.journal()[0]["request"]["contents"][0]["parts"]
    assert wire[0] == {"text": "What is in this picture?"}
    assert wire[1]["inlineData"]["mimeType"] == "image/png"
    assert base64.b64decode(wire[1]["inlineData"]["data"]) == PNG
    assert dumps(chat.get_history()[:1]) == dumps([user("What is in this picture?", image)])
    send(chat, "And its colours?", stream=True)
    assert dumps(ctx.sent_contents()[:1]) == dumps([user("What is in this picture?", image)])
    for entry in ctx.journal():
        assert entry["reply"]["status"] == 200
    assert first.usage_metadata is not None
    details = {d.modality: d.token_count for d in first.usage_metadata.prompt_tokens_details or ()}
    assert details[types.MediaModality.IMAGE] == 258


@BOTH
def test_the_system_instruction_goes_with_every_request_and_stays_out_of_the_history(ctx: Ctx, is_async: bool) -> None:
    ctx.scenario(
        {"when": {"system_instruction": {"contains": "pirate"}}, "times": "unlimited", "reply": "Arr, {{ turn }}."}
    )
    chat = new_chat(ctx.client, is_async, config=types.GenerateContentConfig(system_instruction="Talk like a pirate."))
    assert send(chat, "Hello", stream=False)[0].text == "Arr, 1."
    assert "".join(c.text or "" for c in send(chat, "Again", stream=True)) == "Arr, 2."
    for entry in ctx.journal():
        assert entry["request"]["systemInstruction"] == {"parts": [{"text": "Talk like a pirate."}], "role": "user"}
    history = chat.get_history()
    assert [c.role for c in history] == ["user", "model", "user", "model"]
    assert not any("pirate" in (p.text or "") for c in history for p in c.parts or ())


@BOTH
def test_a_per_message_config_replaces_the_chat_config_for_that_message_only(ctx: Ctx, is_async: bool) -> None:
    """Replaced, not merged: the message's config has no system instruction, so none is sent."""
    chat_config = types.GenerateContentConfig(system_instruction="Be brief.", temperature=0.2, max_output_tokens=500)
    chat = new_chat(ctx.client, is_async, config=chat_config)
    send(chat, "one", stream=False)
    send(chat, "two", stream=True, config=types.GenerateContentConfig(temperature=0.9))
    send(chat, "three", stream=False)
    requests = [entry["request"] for entry in ctx.journal()]
    assert [r.get("systemInstruction", {}).get("parts") for r in requests] == [
        [{"text": "Be brief."}],
        None,
        [{"text": "Be brief."}],
    ]
    assert [r["generationConfig"].get("temperature") for r in requests] == [0.2, 0.9, 0.2]
    assert [r["generationConfig"].get("maxOutputTokens") for r in requests] == [500, None, 500]
    # The overriding message and its answer are in the one history, and went out with the next message.
    assert dumps(ctx.sent_contents()) == dumps(chat.get_history(curated=True)[:-1])
    assert dumps(ctx.sent_contents()[2:3]) == dumps([user("two")])


def test_an_initial_history_is_curated_and_a_bad_role_is_refused(ctx: Ctx) -> None:
    """chats.create curates the history it is given: a model run with an invalid content is dropped
    together with the user turn before it; only the curated turns are sent."""
    history = [
        user("kept"),
        model("kept too"),
        user("dropped with the run"),
        model("valid"),
        types.Content(role="model", parts=[]),
        user("kept again"),
        types.Content(role="model", parts=[types.Part()]),
    ]
    chat = ctx.client.chats.create(model=MODEL, history=cast(list[types.ContentOrDict], history))
    assert dumps(chat.get_history(curated=True)) == dumps([user("kept"), model("kept too")])
    assert dumps(chat.get_history()) == dumps(history)
    chat.send_message("now")
    assert dumps(ctx.sent_contents()) == dumps([user("kept"), model("kept too"), user("now")])
    with pytest.raises(ValueError, match="Role must be user or model, but got system"):
        ctx.client.chats.create(model=MODEL, history=[types.Content(role="system", parts=[types.Part(text="x")])])


# --------------------------------------------------------------------------------------------------
# What a chat records when the answer has no usable content.

PLACEHOLDER = types.Content(role="model", parts=[])


@BOTH
@TRANSPORTS
@pytest.mark.parametrize(
    ("answer", "recorded"),
    [
        ({"block": "SAFETY"}, PLACEHOLDER),
        ({"reply": {"finish_reason": "MAX_TOKENS"}}, PLACEHOLDER),
        ({"reply": {"finish_reason": "SAFETY"}}, PLACEHOLDER),
    ],
    ids=["blocked prompt", "MAX_TOKENS without content", "SAFETY without content"],
)
def test_a_turn_without_content_is_recorded_with_a_placeholder_and_not_curated(
    ctx: Ctx, is_async: bool, stream: bool, answer: Wire, recorded: types.Content
) -> None:
    """§6.1: the user message and ``Content(role="model", parts=[])`` go to the comprehensive history
    only; the next request carries the curated history, without the failed turn."""
    ctx.scenario({"when": {"request": 1}, "reply": "Fine."}, {"when": {"request": 2}, **answer}, {"reply": "Again."})
    chat = new_chat(ctx.client, is_async)
    send(chat, "first", stream=False)
    [response] = send(chat, "second", stream=stream)
    assert response.text is None
    assert dumps(chat.get_history()) == dumps([user("first"), model("Fine."), user("second"), recorded])
    assert dumps(chat.get_history(curated=True)) == dumps([user("first"), model("Fine.")])
    send(chat, "third", stream=False)
    assert dumps(ctx.sent_contents()) == dumps([user("first"), model("Fine."), user("third")])


@BOTH
@TRANSPORTS
@pytest.mark.parametrize(
    ("body", "recorded"),
    [
        ({"candidates": []}, PLACEHOLDER),
        ({"candidates": [{"content": {"role": "model"}, "finishReason": "MAX_TOKENS"}]}, types.Content(role="model")),
        ({"candidates": [{"content": {"role": "model", "parts": []}, "finishReason": "STOP"}]}, PLACEHOLDER),
    ],
    ids=["empty candidates", "MAX_TOKENS with a content without parts", "empty parts"],
)
def test_empty_candidates_and_contents_without_parts(
    ctx: Ctx, is_async: bool, stream: bool, body: Wire, recorded: types.Content
) -> None:
    """The SDK records a content it got as it got it: a content without parts stays ``parts=None``
    (the brief's §6.1 says a ``parts=[]`` placeholder, which the SDK only adds when there was no
    content at all). Either way the turn is not curated and is not sent again."""
    ctx.play([text_body("Fine.")], [body], [text_body("Again.")])
    chat = new_chat(ctx.client, is_async)
    send(chat, "first", stream=False)
    [response] = send(chat, "second", stream=stream)
    assert response.text is None
    assert dumps(chat.get_history()) == dumps([user("first"), model("Fine."), user("second"), recorded])
    assert dumps(chat.get_history(curated=True)) == dumps([user("first"), model("Fine.")])
    send(chat, "third", stream=False)
    assert dumps(ctx.sent_contents()) == dumps([user("first"), model("Fine."), user("third")])


def test_max_tokens_with_text_is_a_valid_turn(ctx: Ctx) -> None:
    """A cut answer still has content: it is curated and sent again."""
    ctx.scenario({"reply": "Fine.", "times": "unlimited"})
    ctx.faults({"kind": "finish", "finish_reason": "MAX_TOKENS", "times": 1})
    chat = ctx.client.chats.create(model=MODEL)
    [candidate] = chat.send_message("first").candidates or []
    assert candidate.finish_reason == types.FinishReason.MAX_TOKENS
    assert dumps(chat.get_history(curated=True)) == dumps([user("first"), model("Fine.")])
    chat.send_message("second")
    assert dumps(ctx.sent_contents()) == dumps([user("first"), model("Fine."), user("second")])


# --------------------------------------------------------------------------------------------------
# Errors: nothing is recorded.


@BOTH
@pytest.mark.parametrize(
    ("failure", "chunks_before"),
    [({"error": {"code": 503}}, 0), ({"reply": {"stream": {"chunks": ["a ", "b ", "c"]}}, "error": 503}, 2)],
    ids=["before the stream", "mid-stream"],
)
def test_a_stream_that_fails_records_nothing(ctx: Ctx, is_async: bool, failure: Wire, chunks_before: int) -> None:
    if chunks_before:
        failure = {**failure, "error": {"code": 503, "after_chunks": chunks_before}}
    ctx.scenario({"when": {"request": 1}, "reply": "Fine."}, {"when": {"request": 2}, **failure}, {"reply": "Again."})
    chat = new_chat(ctx.client, is_async)
    send(chat, "first", stream=False)
    received: list[Any] = []

    async def drain_async() -> None:
        async for chunk in await chat.send_message_stream("second"):
            received.append(chunk)

    with pytest.raises(genai.errors.ServerError) as caught:
        if is_async:
            asyncio.run(drain_async())
        else:
            for chunk in chat.send_message_stream("second"):
                received.append(chunk)
    assert caught.value.code == 503 and len(received) == chunks_before
    assert dumps(chat.get_history()) == dumps(chat.get_history(curated=True)) == dumps([user("first"), model("Fine.")])
    send(chat, "third", stream=True)
    assert dumps(ctx.sent_contents(1)) == dumps([user("first"), model("Fine."), user("second")])
    assert dumps(ctx.sent_contents(2)) == dumps([user("first"), model("Fine."), user("third")])


@BOTH
@TRANSPORTS
@pytest.mark.parametrize(
    ("code", "kind", "status"),
    [
        (400, genai.errors.ClientError, "INVALID_ARGUMENT"),
        (403, genai.errors.ClientError, "PERMISSION_DENIED"),
        (404, genai.errors.ClientError, "NOT_FOUND"),
        (429, genai.errors.ClientError, "RESOURCE_EXHAUSTED"),
        (500, genai.errors.ServerError, "INTERNAL"),
        (503, genai.errors.ServerError, "UNAVAILABLE"),
    ],
)
def test_chat_errors_map_to_client_and_server_errors(
    ctx: Ctx, is_async: bool, stream: bool, code: int, kind: type[genai.errors.APIError], status: str
) -> None:
    ctx.faults({"kind": "error", "code": code, "times": 1})
    chat = new_chat(ctx.client, is_async)
    with pytest.raises(genai.errors.APIError) as caught:
        send(chat, "hello", stream=stream)
    assert type(caught.value) is kind and (caught.value.code, caught.value.status) == (code, status)
    assert chat.get_history() == [] and chat.get_history(curated=True) == []
    send(chat, "hello again", stream=stream)
    assert dumps(ctx.sent_contents()) == dumps([user("hello again")])


# --------------------------------------------------------------------------------------------------
# Streams whose chunks do not all validate.


@BOTH
@pytest.mark.parametrize(
    ("bodies", "kept"),
    [
        ([text_body("a ", None), {"candidates": []}, text_body("b")], ["a ", "b"]),
        ([text_body("a ", None), {"candidates": [{"content": {"role": "model"}}]}, text_body("b")], ["a ", None, "b"]),
        ([text_body("a ", None), {"candidates": [{"content": {"role": "model", "parts": [{}]}}]}, text_body("b")],
         ["a ", "", "b"]),
        ([text_body("a ", None), {"promptFeedback": {"blockReason": "OTHER"}}, text_body("b")], ["a ", "b"]),
        ([text_body("a ", None), text_body("b", None)], ["a ", "b"]),
    ],
    ids=["a chunk without candidates", "a content without parts", "an empty Part()", "a feedback-only chunk",
         "no finish reason"],
)  # fmt: skip
def test_a_stream_with_an_invalid_chunk_is_recorded_but_not_curated(
    ctx: Ctx, is_async: bool, bodies: list[Wire], kept: list[str | None]
) -> None:
    """§6.1: one model content per chunk that has one; the turn is curated only if every chunk
    validates and some chunk has a finish reason."""
    ctx.play([text_body("Fine.")], bodies, [text_body("Again.")])
    chat = new_chat(ctx.client, is_async)
    send(chat, "first", stream=False)
    chunks = send(chat, "second", stream=True)
    assert len(chunks) == len(bodies)
    contents = [
        types.Content(role="model") if text is None
        else types.Content(role="model", parts=[types.Part()]) if text == ""
        else model(text)
        for text in kept
    ]  # fmt: skip
    assert dumps(chat.get_history()) == dumps([user("first"), model("Fine."), user("second"), *contents])
    assert dumps(chat.get_history(curated=True)) == dumps([user("first"), model("Fine.")])
    send(chat, "third", stream=False)
    assert dumps(ctx.sent_contents()) == dumps([user("first"), model("Fine."), user("third")])


@BOTH
def test_a_stream_whose_final_chunk_lost_its_content_is_not_curated(ctx: Ctx, is_async: bool) -> None:
    """A RECITATION finish takes the content of the final chunk: the chunk fails validation."""
    ctx.scenario({"when": {"request": 1}, "reply": {"stream": {"chunks": ["a ", "b ", "c"]}}}, {"reply": "Again."})
    ctx.faults({"kind": "finish", "finish_reason": "RECITATION", "times": 1})
    chat = new_chat(ctx.client, is_async)
    chunks = send(chat, "first", stream=True)
    assert [c.candidates[0].finish_reason for c in chunks] == [None, None, types.FinishReason.RECITATION]
    assert dumps(chat.get_history()) == dumps([user("first"), model("a "), model("b ")])
    assert chat.get_history(curated=True) == []
    send(chat, "second", stream=False)
    assert dumps(ctx.sent_contents()) == dumps([user("second")])


# --------------------------------------------------------------------------------------------------
# Retries.

RETRYABLE = (408, 429, 500, 502, 503, 504)


@pytest.mark.parametrize("code", [400, 403, 404, 408, 429, 500, 502, 503, 504])
@TRANSPORTS
def test_retry_options_retry_exactly_the_retryable_codes(emulator_url: str, code: int, stream: bool) -> None:
    """With HttpRetryOptions the SDK retries 408, 429, 500, 502, 503 and 504 (and nothing else);
    the journal shows each attempt and how it ended."""
    retry = types.HttpRetryOptions(attempts=3, initial_delay=0.01, max_delay=0.02, jitter=0)
    ctx = Ctx(emulator_url, retry)
    ctx.faults({"kind": "error", "code": code, "times": 2})
    chat = ctx.client.chats.create(model=MODEL)
    if code in RETRYABLE:
        assert send(chat, "retry me", stream=stream)
        assert [e["reply"]["status"] for e in ctx.journal()] == [code, code, 200]
        assert len(chat.get_history(curated=True)) >= 2
    else:
        with pytest.raises(genai.errors.ClientError):
            send(chat, "retry me", stream=stream)
        assert [e["reply"]["status"] for e in ctx.journal()] == [code]
        assert chat.get_history() == []


@pytest.mark.parametrize("code", [429, 503])
def test_async_retries_too(emulator_url: str, code: int) -> None:
    retry = types.HttpRetryOptions(attempts=3, initial_delay=0.01, max_delay=0.02, jitter=0)
    ctx = Ctx(emulator_url, retry)
    ctx.faults({"kind": "error", "code": code, "times": 2})
    assert send(ctx.client.aio.chats.create(model=MODEL), "retry me", stream=True)
    assert [e["reply"]["status"] for e in ctx.journal()] == [code, code, 200]


def test_retry_options_with_own_status_codes(emulator_url: str) -> None:
    """``http_status_codes`` replaces the default list: 400 is retried, 503 no longer is."""
    retry = types.HttpRetryOptions(attempts=2, initial_delay=0.01, max_delay=0.02, jitter=0, http_status_codes=[400])
    ctx = Ctx(emulator_url, retry)
    ctx.faults({"kind": "error", "code": 400, "times": 1})
    assert ctx.client.chats.create(model=MODEL).send_message("x").text
    ctx.faults({"kind": "error", "code": 503, "times": 1})
    with pytest.raises(genai.errors.ServerError):
        ctx.client.chats.create(model=MODEL).send_message("x")
    assert [e["reply"]["status"] for e in ctx.journal()] == [400, 200, 503]
