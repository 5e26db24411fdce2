"""Arguments and structured output taken from what the prompt names. No server."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from conversation_calls import calls_of, model, reply, text_of, user

from emulator.generation.grounding import MISSING, Grounding
from emulator.generation.schema_values import value_for_schema

WEATHER = {
    "name": "get_weather",
    "parameters": {
        "type": "OBJECT",
        "properties": {
            "location": {"type": "STRING"},
            "unit": {"type": "STRING", "format": "enum", "enum": ["CELSIUS", "FAHRENHEIT"]},
        },
        "required": ["location"],
    },
}
DIVIDE = {
    "name": "divide",
    "parametersJsonSchema": {
        "type": "object",
        "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
        "required": ["a", "b"],
    },
}
NOTE = {
    "name": "save_note",
    "parametersJsonSchema": {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "due": {"type": "string", "format": "date"},
            "recipient": {"type": "string"},
            "priority": {"type": "integer", "minimum": 1, "maximum": 5},
        },
        "required": ["title"],
    },
}


def ask(contents: list[dict[str, Any]], *decls: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = reply({"contents": contents, "tools": [{"functionDeclarations": list(decls)}]})
    return body


def respond(contents: list[dict[str, Any]], body: dict[str, Any], result: Any) -> list[dict[str, Any]]:
    (call,) = calls_of(body)
    answer = {"role": "user", "parts": [{"functionResponse": {"name": call["name"], "response": {"result": result}}}]}
    return [*contents, body["candidates"][0]["content"], answer]


def test_the_weather_follow_up_of_the_chat_guide() -> None:
    contents = [user("What is the weather in Boston?")]
    first = ask(contents, DIVIDE, WEATHER)
    assert [(c["name"], c["args"]["location"]) for c in calls_of(first)] == [("get_weather", "Boston")]
    contents = respond(contents, first, "Sunny, 22 C")
    final = ask(contents, DIVIDE, WEATHER)
    assert calls_of(final) == [] and "Sunny, 22 C" in text_of(final)
    contents = [*contents, final["candidates"][0]["content"], user("How about in New York?")]
    (again,) = calls_of(ask(contents, DIVIDE, WEATHER))
    assert again["name"] == "get_weather" and again["args"]["location"] == "New York"


def test_numbers_go_to_numeric_parameters_in_order_and_the_result_is_stated() -> None:
    contents = [user("What is 1000 divided by 8?")]
    first = ask(contents, WEATHER, DIVIDE)
    assert [(c["name"], c["args"]) for c in calls_of(first)] == [("divide", {"a": 1000, "b": 8})]
    final = ask(respond(contents, first, 125), WEATHER, DIVIDE)
    assert text_of(final) == 'Here is what the tools told me: divide returned {"result": 125}.'


def test_enum_members_quoted_strings_dates_and_names_are_taken_from_the_prompt() -> None:
    (weather,) = calls_of(ask([user("Weather in Paris in fahrenheit please")], WEATHER))
    assert weather["args"] == {"location": "Paris", "unit": "FAHRENHEIT"}
    (note,) = calls_of(ask([user('Save a note "Buy milk" for Alice due March 14, 2026 with priority 2')], NOTE))
    assert note["args"] == {"title": "Buy milk", "due": "2026-03-14", "recipient": "Alice", "priority": 2}


def test_a_value_the_schema_refuses_is_generated_instead() -> None:
    short = {
        "name": "f",
        "parametersJsonSchema": {
            "type": "object",
            "properties": {"city": {"type": "string", "maxLength": 3}, "n": {"type": "integer", "maximum": 10}},
            "required": ["city", "n"],
        },
    }
    (call,) = calls_of(ask([user("f for Amsterdam with 5000")], short))
    assert call["args"]["city"] != "Amsterdam" and len(call["args"]["city"]) <= 3
    assert call["args"]["n"] <= 10
    jsonschema.validate(call["args"], short["parametersJsonSchema"])


def test_a_follow_up_keeps_the_previous_arguments_it_does_not_change() -> None:
    contents = [user("Weather in Oslo in fahrenheit")]
    first = ask(contents, WEATHER)
    contents = respond(contents, first, "cold")
    final = ask(contents, WEATHER)
    contents = [*contents, final["candidates"][0]["content"], user("And in Rome?")]
    (again,) = calls_of(ask(contents, WEATHER))
    assert again["args"] == {"location": "Rome", "unit": "FAHRENHEIT"}


def test_a_prompt_naming_no_function_calls_the_one_whose_words_it_uses() -> None:
    assert calls_of(ask([user("What is 10 divided by 4?")], WEATHER, DIVIDE))[0]["name"] == "divide"
    assert calls_of(ask([user("Is it raining? Check the weather")], DIVIDE, WEATHER))[0]["name"] == "get_weather"
    assert calls_of(ask([user("Hello there")], DIVIDE, WEATHER))[0]["name"] == "divide"  # the first, as before
    followed = [user("Weather in Oslo"), model("..."), user("How about Bergen?")]
    followed[1] = {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"location": "Oslo"}}}]}
    followed.insert(2, {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {}}}]})
    followed.insert(3, model("It is cold in Oslo."))
    (call,) = calls_of(ask(followed, DIVIDE, WEATHER))
    assert call["name"] == "get_weather" and call["args"]["location"] == "Bergen"


RECIPES = {
    "type": "ARRAY",
    "items": {
        "type": "OBJECT",
        "properties": {
            "recipe_name": {"type": "STRING"},
            "ingredients": {"type": "ARRAY", "items": {"type": "STRING"}},
        },
        "required": ["recipe_name", "ingredients"],
    },
}
PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}, "city": {"type": "string"}},
    "required": ["name", "age", "city"],
}


def structured(prompt: str, **config: Any) -> Any:
    body = reply({"contents": [user(prompt)], "generationConfig": {"responseMimeType": "application/json", **config}})
    return json.loads(text_of(body))


@pytest.mark.parametrize(("words", "count"), [("three", 3), ("5", 5), ("a couple of", 2), ("seven", 7)])
def test_a_list_asked_for_has_that_many_items(words: str, count: int) -> None:
    assert len(structured(f"List {words} popular cookie recipes", responseSchema=RECIPES)) == count


def test_names_places_and_numbers_named_in_the_prompt_fill_their_fields() -> None:
    value = structured("Extract: Alice is 30 years old and lives in Paris.", responseJsonSchema=PERSON)
    assert value == {"name": "Alice", "age": 30, "city": "Paris"}
    people = {
        "type": "array",
        "items": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
    }
    names = [p["name"] for p in structured("Make profiles for Alice, Bob and Carol", responseJsonSchema=people)]
    assert names[:3] == ["Alice", "Bob", "Carol"][: len(names)]


def test_grounding_never_breaks_validity() -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string", "enum": ["Lisbon", "Porto"]},
            "count": {"type": "integer", "minimum": 100, "multipleOf": 7},
            "title": {"type": "string", "pattern": "^[a-z]+$"},
            "when": {"type": "string", "format": "date-time"},
        },
        "required": ["city", "count", "title", "when"],
        "additionalProperties": False,
    }
    hint = 'Weather in Boston, count 3, "Hello World" on 2026-01-02'
    for seed in range(20):
        value = value_for_schema(schema, seed=seed, json_schema=True, hint=hint, grounding=Grounding(hint))
        jsonschema.validate(value, schema)


def test_grounding_reads_the_prompt_once() -> None:
    g = Grounding('Send "hi" to Alice in New York on 2026-05-01 at 10, then 2.5')
    assert g.places[:1] == ["New York"] and "Alice" in g.persons
    assert g.quoted == ["hi"] and g.dates == [("2026-05-01", "2026-05-01")]
    assert [n for _, _, n in g.numbers] == [10, 2.5]  # a date's digits are not numbers
    assert g.value("location", {}, ["string"], 1) == "New York"
    assert g.value("location", {}, ["string"], 1) == "Alice"  # then what follows "to", "for", "about"
    assert g.value("location", {}, ["string"], 1) is MISSING  # each is lent once
    assert g.value("x", {}, ["integer"], 1) == 10 and g.value("y", {}, ["integer"], 1) is MISSING
    assert g.value("y", {}, ["number"], 1) == 2.5


def test_a_run_of_digits_longer_than_any_quantity_is_no_number() -> None:
    """``int()`` refuses strings of over 4,300 digits: such a run once turned a prompt into a 500."""
    found = Grounding("divide " + "9" * 5000 + " by 3").numbers
    assert [number for _, _, number in found] == [3]
