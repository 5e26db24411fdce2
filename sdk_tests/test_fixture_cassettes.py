"""The example cassettes replay what their scripted upstream says.

Each committed cassette is sent in the control-plane body (``PUT /_emulator/cassette``) for a context
of its own, and the SDK's conversation with it must equal its conversation with the scenario the
cassette was recorded from (``PUT /_emulator/scenario`` for another context). The same cassettes in
the other dialects (plain vcrpy, google-genai replay files), and chosen by name from a server's
directory, need emulators started with those files: tests/sdk/test_fixture_cassette_files.py.
"""

from __future__ import annotations

import importlib.util
import urllib.error
from pathlib import Path
from types import ModuleType
from typing import Any

import harness
import pytest
import yaml
from google import genai

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "fixtures" / "cassettes"


def _tool() -> ModuleType:
    """The recording tool, for its conversations (it imports the emulator only to record)."""
    spec = importlib.util.spec_from_file_location(
        "record_fixture_cassettes", ROOT / "tools" / "record_fixture_cassettes.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = _tool()
NAMES = sorted(TOOL.CONVERSATIONS)


def talk(url: str, name: str, key: str) -> list[Any]:
    client = genai.Client(api_key=key, http_options={"base_url": url})
    result: list[Any] = TOOL.CONVERSATIONS[name][1](client)
    return result


def scripted(url: str, name: str) -> list[Any]:
    """The conversation with the scripted upstream itself: its scenario, in a fresh context."""
    key = harness.key(__name__)
    scenario = (ROOT / "fixtures" / "scenarios" / TOOL.CONVERSATIONS[name][0]).read_bytes()
    harness.control(url, key, "PUT", "scenario", scenario, "application/yaml")
    return talk(url, name, key)


def document(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((CASSETTES / f"{name}.yaml").read_text(encoding="utf-8"))
    return data


def replaying(url: str, name: str) -> str:
    """A fresh key whose context replays cassette NAME, sent in the body."""
    key = harness.key(__name__)
    answer = harness.control(url, key, "PUT", "cassette", {"cassette": document(name), "name": f"{name}.yaml"})
    assert answer["cassette"] == f"{name}.yaml"
    return key


@pytest.mark.parametrize("name", NAMES)
def test_the_committed_cassette_replays_what_the_scripted_upstream_says(emulator_url: str, name: str) -> None:
    assert "scripted upstream" in document(name)["metadata"]["note"]
    assert talk(emulator_url, name, replaying(emulator_url, name)) == scripted(emulator_url, name)


def test_each_context_replays_the_cassette_it_was_sent(emulator_url: str) -> None:
    """Side by side on one server, each context answers from its own cassette, and reports what of it
    was used: all of it, with no miss."""
    keys = {name: replaying(emulator_url, name) for name in NAMES}
    for name, key in keys.items():
        before = harness.control(emulator_url, key, "GET", "cassette")
        assert before["cassette"] == f"cassette {name}.yaml" and before["misses"] == 0
    for name, key in keys.items():
        assert talk(emulator_url, name, key) == scripted(emulator_url, name)
        after = harness.control(emulator_url, key, "GET", "cassette")
        assert after["unused"] == [] and after["misses"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"cassette": {"interactions": "not a list"}},
        {"cassette": document(NAMES[0]), "record_mode": "all"},
    ],
    ids=["not a cassette", "recording into it"],
)
def test_a_cassette_that_cannot_be_replayed_is_a_clear_400(emulator_url: str, body: dict[str, Any]) -> None:
    key = harness.key(__name__)
    with pytest.raises(urllib.error.HTTPError) as caught:
        harness.control(emulator_url, key, "PUT", "cassette", body)
    assert caught.value.code == 400
    assert "Cannot use that cassette" in caught.value.read().decode()
