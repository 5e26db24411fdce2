"""The default model reads the conversation it is sent: the chat guide's examples, through the real SDK.

What the chat guide shows a chat is for (remembering a name, a number, a preference; calling a tool
with the place the user named, then again for a follow-up) runs here as written, sync, async,
streamed (text joined from the chunks) and async streamed, with assertions on the text. A hypothesis
property then checks the rule that makes history tests meaningful: the answer to a question names a
fact if and only if the history sent states it.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import harness
import pytest
from google import genai
from google.genai import types
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MODEL = "gemini-2.5-flash"
MODES = ("sync", "async", "stream", "async_stream")


def send_all(client: genai.Client, mode: str, messages: list[str], config: Any = None) -> list[str]:
    """The answers of one chat to ``messages``, sent the way ``mode`` says."""
    if mode in ("sync", "stream"):
        chat = client.chats.create(model=MODEL, config=config)
        if mode == "sync":
            return [chat.send_message(m).text or "" for m in messages]
        return ["".join(c.text or "" for c in chat.send_message_stream(m)) for m in messages]

    async def run() -> list[str]:
        achat = client.aio.chats.create(model=MODEL, config=config)
        out = []
        for m in messages:
            if mode == "async":
                out.append((await achat.send_message(m)).text or "")
            else:
                out.append("".join([c.text or "" async for c in await achat.send_message_stream(m)]))
        return out

    return asyncio.run(run())


@pytest.mark.flavours("developer", "vertex")
@pytest.mark.parametrize("mode", MODES)
def test_the_chat_guide_remembers_a_name_a_preference_and_a_number(client: genai.Client, mode: str) -> None:
    answers = send_all(
        client,
        mode,
        [
            "My name is Alice and I love hiking.",
            "What was my name again?",
            "Recommend an activity for me.",
            "Remember this number: 42",
            "What number did I tell you?",
        ],
    )
    assert "Alice" in answers[0] and "hiking" in answers[0]
    assert answers[1] == "Your name is Alice."
    assert "hiking" in answers[2] and "hike" in answers[2]
    assert "42" in answers[4]
    (fresh,) = send_all(client, mode, ["What number did I tell you?"])
    assert "42" not in fresh and "no memory" in fresh


@pytest.mark.parametrize("mode", MODES)
def test_the_chat_guide_weather_tool_and_its_follow_up(client: genai.Client, mode: str) -> None:
    asked: list[str] = []

    def get_weather(location: str) -> str:
        """The current weather at a location."""
        asked.append(location)
        return f"Sunny and 22 degrees in {location}"

    config = types.GenerateContentConfig(tools=[get_weather])
    first, second = send_all(client, mode, ["What is the weather in Boston?", "How about in New York?"], config)
    assert asked == ["Boston", "New York"]
    assert "Sunny and 22 degrees in Boston" in first and "Sunny and 22 degrees in New York" in second


@pytest.mark.parametrize(("a", "b", "quotient"), [(1000, 2, "500"), (1000, 8, "125")])
def test_after_a_tool_the_answer_states_what_it_returned(client: genai.Client, a: int, b: int, quotient: str) -> None:
    seen: list[tuple[float, float]] = []

    def divide(a: float, b: float) -> float:
        """Divides a by b."""
        seen.append((a, b))
        return a / b

    config = types.GenerateContentConfig(tools=[divide])
    response = client.models.generate_content(model=MODEL, contents=f"What is {a} divided by {b}?", config=config)
    assert seen == [(a, b)] and quotient in (response.text or "")


def test_a_story_streams_in_many_chunks_and_its_summary_comes_from_it(client: genai.Client) -> None:
    chat = client.chats.create(model=MODEL)
    chunks = [c.text or "" for c in chat.send_message_stream("Tell me a story about a lighthouse")]
    story = "".join(chunks)
    assert len(chunks) > 10 and story.count("\n\n") >= 3 and "a lighthouse" in story
    summary = chat.send_message("Summarize the story you told me in 1 sentence").text or ""
    assert summary and summary in story.replace("\n\n", " ") and summary.count(". ") == 0


def test_the_system_instruction_shows_in_the_answer(client: genai.Client) -> None:
    persona = types.GenerateContentConfig(system_instruction="You are Max. Always respond in French.")
    text = client.models.generate_content(model=MODEL, contents="Hello!", config=persona).text or ""
    assert text.startswith("En français : I'm Max.")
    chat = client.chats.create(model=MODEL, config=persona)
    chat.send_message("Hi")
    assert chat.send_message("What is your name?").text == "En français : My name is Max."


# --------------------------------------------------------------------------------------------------
# The property: an answer names a fact iff the history sent states it.

FACTS: dict[str, tuple[str, list[str], str]] = {
    # kind: (statement template, values, question)
    "name": ("My name is {}.", ["Alice", "Bruno", "Chiara"], "What was my name again?"),
    "number": ("Remember this number: {}", ["42", "317", "9051"], "What number did I tell you?"),
    "place": ("I live in {}.", ["Lisbon", "Nairobi", "Osaka"], "Where do I live?"),
    "liking": ("I love {}.", ["hiking", "chess", "painting"], "Recommend an activity for me."),
}
FILLER = ["Why is the sky blue?", "Thanks!", "What time is it in Paris?"]
Turn = tuple[str, str]  # (kind or "filler", value)

turns = st.one_of(
    st.sampled_from(sorted(FACTS)).flatmap(lambda k: st.sampled_from(FACTS[k][1]).map(lambda v: (k, v))),
    st.sampled_from(FILLER).map(lambda f: ("filler", f)),
)


def history(items: list[Turn]) -> list[types.Content]:
    contents: list[types.Content] = []
    for kind, value in items:
        text = value if kind == "filler" else FACTS[kind][0].format(value)
        contents.append(types.Content(role="user", parts=[types.Part(text=text)]))
        contents.append(types.Content(role="model", parts=[types.Part(text="OK.")]))
    return contents


def expected(items: list[Turn], kind: str) -> str | None:
    """The fact of ``kind`` the answer must name: the last one stated, if any."""
    return next((value for k, value in reversed(items) if k == kind), None)


def ask(client: genai.Client, items: list[Turn], kind: str) -> str:
    contents = [*history(items), types.Content(role="user", parts=[types.Part(text=FACTS[kind][2])])]
    return client.models.generate_content(model=MODEL, contents=contents).text or ""


@pytest.fixture(scope="module")
def property_client(emulator_url: str) -> genai.Client:
    return harness.client(emulator_url, "developer", harness.key(__name__))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # examples: the profile's
@given(items=st.lists(turns, max_size=8), kind=st.sampled_from(sorted(FACTS)))
def test_an_answer_names_a_fact_iff_the_history_states_it(
    property_client: genai.Client, items: list[Turn], kind: str
) -> None:
    answer = ask(property_client, items, kind)
    want = expected(items, kind)
    named = [value for value in FACTS[kind][1] if re.search(rf"\b{value}\b", answer)]
    assert named == ([want] if want else []), (items, kind, answer)


def test_dropping_duplicating_or_reordering_a_turn_changes_the_answer_where_it_should(client: genai.Client) -> None:
    first, second = ("name", "Alice"), ("name", "Bruno")
    base = [first, ("filler", "Thanks!"), second]
    assert "Bruno" in ask(client, base, "name")
    assert "Alice" in ask(client, [second, ("filler", "Thanks!"), first], "name")  # reordered
    assert "Alice" in ask(client, base[:2], "name")  # the later turn dropped
    dropped = ask(client, base[1:2], "name")  # both dropped
    assert "Alice" not in dropped and "Bruno" not in dropped and "don't know" in dropped
    assert ask(client, [*base, second], "name") == ask(client, base, "name")  # a duplicate changes nothing


# --------------------------------------------------------------------------------------------------
# Same request, same answer: two emulator processes with different hash seeds.


@pytest.fixture
def two_emulators() -> Iterator[list[str]]:
    processes = []
    try:
        for hash_seed in ("1", "2"):
            env = {k: v for k, v in os.environ.items() if not k.startswith("GEMINI_EMULATOR_")}
            env["PYTHONHASHSEED"] = hash_seed
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "emulator", "serve", "--port", "0", "--quiet"],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                    env=env,
                )
            )
        urls = []
        for process in processes:
            exports = [process.stdout.readline().strip() for _ in range(2)]  # type: ignore[union-attr]
            urls.append(next(line.split("=", 1)[1] for line in exports if "BASE_URL" in line))
        yield urls
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def test_two_emulator_processes_give_the_same_answers(two_emulators: list[str]) -> None:
    def conversation(url: str) -> list[str]:
        client = harness.client(url, "developer", "any-key")
        return send_all(
            client,
            "sync",
            ["My name is Alice and I love hiking.", "Tell me a story about me", "Summarize it in 2 sentences"],
            types.GenerateContentConfig(system_instruction="You are Max.", candidate_count=1),
        )

    first, second = (conversation(url) for url in two_emulators)
    assert first == second and "Alice" in first[1]
