"""Chat sessions over several turns, sync and async, streamed and not."""

from __future__ import annotations

import asyncio

import pytest
from google import genai
from google.genai import types

MODEL = "gemini-2.5-flash"
pytestmark = pytest.mark.flavours("developer", "vertex", "express")


def test_chat_sends_history_and_records_turns(client: genai.Client) -> None:
    chat = client.chats.create(model=MODEL, config=types.GenerateContentConfig(system_instruction="You are terse."))
    first = chat.send_message("first question")
    second = chat.send_message("second question")
    assert "first question" in (first.text or "") and "second question" in (second.text or "")
    history = chat.get_history()
    assert [c.role for c in history] == ["user", "model", "user", "model"]
    assert history[2].parts[0].text == "second question"
    streamed = "".join(c.text or "" for c in chat.send_message_stream("third question"))
    assert "third question" in streamed
    curated = chat.get_history(curated=True)
    assert curated[4].parts[0].text == "third question" and len(curated) > 6
    assert chat.send_message("fourth").text


def test_async_chat_matches_sync_chat(client: genai.Client) -> None:
    sync_chat = client.chats.create(model=MODEL)
    sync_texts = [sync_chat.send_message(m).text for m in ("one", "two", "three")]

    async def run() -> list[str | None]:
        chat = client.aio.chats.create(model=MODEL)
        texts = [(await chat.send_message(m)).text for m in ("one", "two")]
        stream = await chat.send_message_stream("three")
        texts.append("".join([c.text or "" async for c in stream]))
        return texts

    async_texts = asyncio.run(run())
    assert async_texts[:2] == sync_texts[:2]
    assert "three" in (async_texts[2] or "")
