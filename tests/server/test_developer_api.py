"""The Developer API as the recorded real traffic shows it, one small case per rule: the catalogue and its
paging, thought signatures, the input token limit, the 404 texts, paths, and replay of recorded calls."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_wire import request

from emulator import EmulatorThread
from emulator.cassette import Cassette, Interaction, RecordedRequest, RecordedResponse, save
from emulator.settings import Settings

FLASH = "/v1beta/models/gemini-2.5-flash:generateContent"
GEMINI_3 = "/v1beta/models/gemini-3-flash-preview:generateContent"
TOOLS = [{"functionDeclarations": [{"name": "get_weather", "parameters": {"type": "OBJECT"}}]}]


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorThread]:
    with EmulatorThread() as emu:
        yield emu


def get(emu: EmulatorThread, path: str) -> tuple[int, Any]:
    status, _, payload = request(emu.url, "GET", path)
    return status, json.loads(payload)


def post(emu: EmulatorThread, path: str, body: Any, key: str = "k") -> tuple[int, Any]:
    status, _, payload = request(emu.url, "POST", path, body, {"x-goog-api-key": key})
    return status, json.loads(payload)


# --- the catalogue ---------------------------------------------------------------------------------


def test_an_entry_is_what_the_real_list_sends(emu: EmulatorThread) -> None:
    status, model = get(emu, "/v1beta/models/gemini-2.5-flash")
    assert status == 200 and list(model) == [
        "name", "version", "displayName", "description", "inputTokenLimit", "outputTokenLimit",
        "supportedGenerationMethods", "temperature", "topP", "topK", "maxTemperature", "thinking",
    ]  # fmt: skip
    assert (model["temperature"], model["maxTemperature"], model["topK"]) == (1, 2, 64)
    assert isinstance(model["temperature"], int)  # the wire writes 1, not 1.0
    assert "description" not in get(emu, "/v1beta/models/gemma-3-1b-it")[1]


def test_the_list_pages_as_the_real_one(emu: EmulatorThread) -> None:
    """50 a page by default; the token is base64 of a protobuf naming the last model of the page."""
    _, first = get(emu, "/v1beta/models")
    assert len(first["models"]) == 50
    raw = base64.b64decode(first["nextPageToken"])
    assert raw[0] == 0x0A and raw[2:].decode() == first["models"][-1]["name"]
    _, second = get(emu, f"/v1beta/models?pageToken={first['nextPageToken']}")
    assert second["models"][0]["name"] not in {m["name"] for m in first["models"]}
    assert "nextPageToken" not in second  # the last page has none
    _, whole = get(emu, "/v1beta/models?pageSize=1000")
    assert [m["name"] for m in whole["models"]] == [m["name"] for m in first["models"] + second["models"]]


@pytest.mark.parametrize(
    "model",
    ["gemini-1.5-flash", "gemini-2.0-flash-exp", "gemini-2.5-pro-preview-05-06", "gemini-2.5-flash-image",
     "gemini-2.5-flash-preview-tts", "gemini-3-pro-image-preview", "gemini-3.1-pro-preview", "gemini-3.5-flash",
     "gemma-3-27b-it", "gemini-flash-latest"],
)  # fmt: skip
def test_models_the_recordings_call_are_served(emu: EmulatorThread, model: str) -> None:
    status, body = post(emu, f"/v1beta/models/{model}:generateContent", {"contents": [user("Hello")]})
    assert status == 200, body
    assert post(emu, "/v1beta/models/gemini-embedding-2:batchEmbedContents", {"requests": [
        {"model": "models/gemini-embedding-2", "content": {"parts": [{"text": "x"}]}}]})[0] == 200  # fmt: skip


def test_unknown_models_get_the_real_404s(emu: EmulatorThread) -> None:
    status, body = post(emu, "/v1beta/models/gemini-3.6-flahs:generateContent", {"contents": [user("hello")]})
    assert status == 404 and body["error"]["message"] == (
        "models/gemini-3.6-flahs is not found for API version v1beta, or is not supported for generateContent. "
        "Call ModelService.ListModels to see the list of available models and their supported methods."
    )
    embed = {"requests": [{"model": "models/nonexistent-model", "content": {"parts": [{"text": "x"}]}}]}
    _, body = post(emu, "/v1beta/models/nonexistent-model:batchEmbedContents", embed)
    assert "not supported for embedContent. Call ListModels" in body["error"]["message"]


def test_any_model_answers_names_the_catalogue_lacks() -> None:
    with EmulatorThread(Settings(port=0, any_model="gemini-2.5-flash")) as emu:
        status, body = post(emu, "/v1beta/models/my-own-model:generateContent", {"contents": [user("hi")]})
        assert status == 200 and body["modelVersion"] == "my-own-model"
        assert get(emu, "/v1beta/models/my-own-model")[1]["outputTokenLimit"] == 65536


# --- paths and limits ------------------------------------------------------------------------------


def test_a_doubled_slash_before_the_version_is_served(emu: EmulatorThread) -> None:
    assert post(emu, "/" + FLASH, {"contents": [user("Hello")]})[0] == 200


def test_a_prompt_over_the_input_token_limit() -> None:
    """Recorded: ``The input token count (1250060) exceeds the maximum number of tokens allowed (1048575).``"""
    with EmulatorThread() as emu:
        words = {"contents": [user("word " * 1_100_000)]}  # a token a word
        status, body = post(emu, FLASH, words)
        assert status == 400 and body["error"]["message"] == (
            "The input token count (1100000) exceeds the maximum number of tokens allowed (1048576)."
        )
        assert post(emu, FLASH, {"contents": [user("word " * 1_000_000)]})[0] == 200


# --- thought signatures ----------------------------------------------------------------------------


def history(signature: str | None) -> dict[str, Any]:
    call: dict[str, Any] = {"functionCall": {"name": "get_weather", "args": {"city": "Lisbon"}}}
    if signature is not None:
        call["thoughtSignature"] = signature
    response = {"functionResponse": {"name": "get_weather", "response": {"weather": "sunny"}}}
    return {"contents": [user("Weather?"), {"role": "model", "parts": [call]}, {"role": "user", "parts": [response]}],
            "tools": TOOLS}  # fmt: skip


@pytest.mark.parametrize(
    "signature",
    [
        "EuEECt4EAQw51sfIhy/R5qoY9muO3117",  # Google's own, standard alphabet (ruby_llm)
        "Ep8CCpwCARFNMg_8d9XXPaguNmSRZA8n",  # Google's own, URL-safe alphabet (the Python SDK)
        base64.b64encode(b"skip_thought_signature_validator").decode(),  # the documented placeholders
        base64.b64encode(b"context_engineering_is_the_way_to_go").decode(),
    ],
)
def test_signatures_the_emulator_did_not_issue_are_accepted(emu: EmulatorThread, signature: str) -> None:
    assert post(emu, GEMINI_3, history(signature))[0] == 200


def test_the_emulators_own_signatures_are_verified(emu: EmulatorThread) -> None:
    status, answer = post(emu, GEMINI_3, {"contents": [user("get_weather")], "tools": TOOLS}, key="signed")
    part = answer["candidates"][0]["content"]["parts"][0]
    body = {"contents": [user("get_weather"), {"role": "model", "parts": [part]},
                         {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {}}}]}],
            "tools": TOOLS}  # fmt: skip
    assert status == 200 and post(emu, GEMINI_3, body, key="signed")[0] == 200
    status, refused = post(emu, GEMINI_3, body, key="another-context")
    assert status == 400 and refused["error"]["message"] == "Corrupted thought signature."
    raw = bytearray(base64.b64decode(part["thoughtSignature"]))
    raw[-1] ^= 1
    part["thoughtSignature"] = base64.b64encode(bytes(raw)).decode()
    assert post(emu, GEMINI_3, body, key="signed")[1]["error"]["message"] == "Corrupted thought signature."
    missing = post(emu, GEMINI_3, history(None))
    assert missing[0] == 400 and "missing a thought_signature" in missing[1]["error"]["message"]


# --- cassettes ------------------------------------------------------------------------------------


def test_a_recording_replays_for_a_model_the_catalogue_lacks_and_despite_todays_checks(tmp_path: Path) -> None:
    uri = "https://generativelanguage.googleapis.com/v1beta/models/gemini-9-ultra:generateContent"
    sent = {"contents": [{"role": "tool", "parts": [{"text": "x"}]}], "generationConfig": {}}  # role: refused today
    answer = {"candidates": [{"content": {"role": "model", "parts": [{"text": "recorded"}]}}]}
    save(Cassette(interactions=[Interaction(request=RecordedRequest(method="POST", uri=uri, body=sent),
                                            response=RecordedResponse(body=answer))]), tmp_path / "c.yaml")  # fmt: skip
    with EmulatorThread(Settings(port=0, cassette=tmp_path / "c.yaml")) as emu:
        asked = {"contents": [{"role": "tool", "parts": [{"text": "x"}]}]}  # no generationConfig: {} is the same
        status, body = post(emu, "/v1beta/models/gemini-9-ultra:generateContent", asked)
        assert status == 200 and body == answer
