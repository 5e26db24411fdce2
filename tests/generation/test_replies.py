"""The default model reads the conversation: recall, stories, summaries, the system instruction. No server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conversation_calls import Chat, model, reply, text_of, user

from emulator.generation import instructions, stories
from emulator.wire import tokens


def test_the_chat_guide_conversation() -> None:
    chat = Chat()
    assert chat.send("My name is Alice and I love hiking.") == (
        "Nice to meet you, Alice. Hiking sounds wonderful; I will remember that you love hiking."
    )
    assert chat.send("What was my name again?") == "Your name is Alice."
    recommended = chat.send("Recommend an activity for me.")
    assert recommended.startswith("Since you love hiking, I recommend a day hike")
    assert chat.send("Remember this number: 42") == "Got it: I will remember the number 42."
    assert chat.send("What number did I tell you?") == "The number you told me is 42."


def test_a_new_chat_has_no_memory_and_says_so() -> None:
    for question in ("What number did I tell you?", "What was my name again?", "Where do I live?"):
        answer = Chat().send(question)
        assert answer.startswith("I don't know") and "no memory of other conversations" in answer
        assert "42" not in answer and "Alice" not in answer
    assert "I don't know what you enjoy yet" in Chat().send("Recommend an activity for me.")


@pytest.mark.parametrize(
    ("statement", "question", "expected"),
    [
        ("I live in New York.", "Where do I live?", "You live in New York."),
        ("I'm from Lisbon.", "where am I from?", "You are from Lisbon."),
        ("I am 34 years old.", "How old am I?", "You are 34 years old."),
        ("My birthday is March 3.", "When is my birthday?", "Your birthday is March 3."),
        ("My favourite food is sushi.", "What is my favourite food?", "Your favourite food is sushi."),
        ("Remember the word: banana", "What word did I tell you?", "You asked me to remember banana."),
        ("I like jazz.", "What do I like?", "You told me you like jazz."),
        ("Call me Bob.", "Who am I?", "Your name is Bob."),
    ],
)
def test_facts_are_recalled_from_the_history(statement: str, question: str, expected: str) -> None:
    chat = Chat()
    chat.send(statement)
    chat.send("Why is the sky blue?")
    assert chat.send(question) == expected
    assert Chat().send(question).startswith("I don't know")


def test_dropping_duplicating_and_reordering_turns_changes_the_answer_where_it_should() -> None:
    alice, bob, ask = user("My name is Alice."), user("Actually, call me Bob."), user("What is my name?")
    ok = model("Noted.")

    def answer(*contents: dict[str, object]) -> str:
        return text_of(reply({"contents": list(contents)}))

    assert answer(alice, ok, bob, ok, ask) == "Your name is Bob."
    assert answer(bob, ok, alice, ok, ask) == "Your name is Alice."  # reordered: the later statement wins
    assert answer(alice, ok, ask) == "Your name is Alice."  # dropped
    assert answer(alice, ok, alice, ok, ask) == "Your name is Alice."  # duplicated: still known
    assert answer(ok, ask).startswith("I don't know your name")
    assert "Alice" not in answer(model("My name is Alice."), ask)  # the model's words are not the user's


def test_a_story_has_paragraphs_streams_in_many_chunks_and_is_seeded_by_the_prompt() -> None:
    body = {"contents": [user("Tell me a story about a dragon")]}
    story = text_of(reply(body))
    assert story.count("\n\n") == 4 and "a dragon" in story
    chunks = reply(body, stream=True)
    assert len(chunks) > 10 and "".join(text_of(c) for c in chunks) == story
    assert story == text_of(reply(body))
    assert story != text_of(reply({"contents": [user("Tell me a story about a lighthouse")]}))
    assert story != text_of(reply({**body, "systemInstruction": {"parts": [{"text": "Be kind."}]}}))


def test_a_summary_is_drawn_from_the_previous_model_turn() -> None:
    chat = Chat()
    story = chat.send("Tell me a story")
    summary = chat.send("Summarize the story you told me in 1 sentence")
    assert summary == stories.sentences(story)[0] and len(stories.sentences(summary)) == 1
    two = text_of(reply({"contents": [*chat.contents[:2], user("Summarise your story in two sentences.")]}))
    assert two == " ".join(stories.sentences(story)[:2])
    assert "nothing to summarise" in Chat().send("Summarize the story you told me")


def test_a_story_about_me_uses_what_the_user_said() -> None:
    chat = Chat()
    chat.send("My name is Alice and I love hiking.")
    story = chat.send("Tell me a story about me")
    assert "named Alice" in story and "hiking" in story


@pytest.mark.parametrize(
    ("system", "check"),
    [
        ("You are Max, a friendly helper.", lambda t: t.startswith("I'm Max. You said:")),
        ("Be concise.", lambda t: len(stories.sentences(t)) == 2),
        ("Answer in one sentence.", lambda t: len(stories.sentences(t)) == 1),
        ("Always respond in French.", lambda t: t.startswith("En français : You said:")),
        ("Reply in ALL CAPS.", lambda t: t == t.upper() and "YOU SAID" in t),
        ("Talk like a pirate.", lambda t: t.startswith("Arr! ")),
    ],
)
def test_the_system_instruction_shapes_the_answer_visibly(system: str, check: object) -> None:
    answer = Chat(system).send("Why is the sky blue?")
    assert callable(check) and check(answer), answer
    assert answer != Chat().send("Why is the sky blue?")


def test_a_persona_answers_to_its_name_and_only_introduces_itself_once() -> None:
    chat = Chat("Your name is Max.")
    assert chat.send("Hello").startswith("I'm Max.")
    assert chat.send("What is your name?") == "My name is Max."
    assert Chat().send("Who are you?").startswith("I am the default model of gemini-emulator")


def test_style_parsing() -> None:
    assert instructions.style_of("You are a concise, friendly travel assistant.") == instructions.Style(sentences=2)
    assert instructions.style_of("You are a helpful assistant named Iris. Use 3 sentences.").persona == "Iris"
    assert instructions.style_of("Answer in 3 sentences, in Spanish.") == instructions.Style(
        sentences=3, language="En español:"
    )
    assert instructions.style_of("") is instructions.PLAIN


def test_limits_and_candidates_keep_working_on_long_answers() -> None:
    ask = {"contents": [user("Tell me a story about a fox")]}
    full = text_of(reply(ask))
    cut = reply({**ask, "generationConfig": {"maxOutputTokens": 12}})
    assert cut["candidates"][0]["finishReason"] == "MAX_TOKENS" and tokens.count_text(text_of(cut)) <= 12
    assert full.startswith(text_of(cut))
    stopped = text_of(reply({**ask, "generationConfig": {"stopSequences": ["Every morning"]}}))
    assert stopped == full[: full.index("Every morning")]
    three = reply({**ask, "generationConfig": {"candidateCount": 3}})
    assert len({text_of(three, i) for i in range(3)}) == 3
    recall = reply({"contents": [user("What is my name?")], "generationConfig": {"candidateCount": 2}})
    assert text_of(recall, 1) == f"{text_of(recall, 0)} (Candidate 2.)"


def test_temperature_changes_the_free_choices_not_what_is_recalled() -> None:
    story = {"contents": [user("Tell me a story")]}
    cold, warm = (reply({**story, "generationConfig": {"temperature": t}}) for t in (0, 1.0))
    assert text_of(cold) != text_of(warm)
    facts = {"contents": [user("My name is Alice."), model("Hi Alice."), user("What is my name?")]}
    assert {text_of(reply({**facts, "generationConfig": {"temperature": t}})) for t in (0, 0.5, 2)} == {
        "Your name is Alice."
    }


def test_the_same_request_gets_the_same_answer_in_another_process() -> None:
    """Another process with another hash seed: nothing in an answer may depend on ``hash()``."""
    body = {
        "contents": [user("My name is Alice and I love hiking."), model("Hi."), user("Tell me a story about me")],
        "systemInstruction": {"parts": [{"text": "Be concise."}]},
        "generationConfig": {"candidateCount": 2},
    }
    here = Path(__file__).parent
    script = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(here)!r})\n"
        "from conversation_calls import reply\n"
        f"print(json.dumps(reply(json.loads({json.dumps(json.dumps(body))}))))\n"
    )
    answers = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        answers.append(json.loads(done.stdout))
    assert answers[0] == answers[1] == json.loads(json.dumps(reply(body)))
