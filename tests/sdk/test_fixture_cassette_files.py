"""The example cassettes, as files of an emulator started to serve them: converted to the other cassette
dialects (plain vcrpy, google-genai replay files) they serve the same, and a server started on their
directory lets each context choose one by name.

The conversions are in-process (``emulator.cassette.convert``) and both need an emulator started with
settings of its own, so these checks are here; sdk_tests/test_fixture_cassettes.py replays the same
cassettes over HTTP only, sent in the control-plane body.
"""

from __future__ import annotations

import importlib.util
import json
import urllib.error
import urllib.request
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from google import genai
from vcr.serialize import deserialize, serialize
from vcr.serializers import yamlserializer

from emulator import EmulatorThread, Settings
from emulator.backends.scripted import ScriptedBackend
from emulator.cassette import load
from emulator.cassette.convert import from_genai_replay, to_genai_replay, to_vcrpy
from emulator.scenarios.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent.parent
CASSETTES = ROOT / "fixtures" / "cassettes"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "record_fixture_cassettes", ROOT / "tools" / "record_fixture_cassettes.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = _tool()
NAMES = sorted(TOOL.CONVERSATIONS)


def talk(url: str, name: str, key: str = "replay-key") -> list[Any]:
    client = genai.Client(api_key=key, http_options={"base_url": url})
    result: list[Any] = TOOL.CONVERSATIONS[name][1](client)
    return result


def scripted(name: str) -> list[Any]:
    scenario = load_scenario(ROOT / "fixtures" / "scenarios" / TOOL.CONVERSATIONS[name][0])
    with EmulatorThread(backend=ScriptedBackend(scenario)) as upstream:
        return talk(upstream.url, name)


@pytest.mark.parametrize("name", NAMES)
def test_plain_vcrpy_and_genai_replay_files_serve_the_same(name: str, tmp_path: Path) -> None:
    cassette = load(CASSETTES / f"{name}.yaml")
    plain = to_vcrpy(cassette)
    requests, responses = deserialize(yaml.safe_dump(plain), yamlserializer)[:2]  # vcrpy itself reads it
    text = serialize({"requests": requests, "responses": responses}, yamlserializer)  # and writes it back
    (tmp_path / "plain.yaml").write_text(text)
    (tmp_path / "replay.json").write_text(json.dumps(to_genai_replay(cassette)))
    expected = scripted(name)
    with EmulatorThread(Settings(port=0, cassette=tmp_path / "plain.yaml")) as replay:
        assert talk(replay.url, name) == expected
    assert len(from_genai_replay(json.loads((tmp_path / "replay.json").read_text())).interactions) == len(
        cassette.interactions
    )
    with EmulatorThread(Settings(port=0, cassette=tmp_path / "replay.json")) as replay:
        assert talk(replay.url, name) == expected


def _control(url: str, key: str, method: str, name: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"x-goog-api-key": key, "content-type": "application/json"}
    request = urllib.request.Request(f"{url}/_emulator/{name}", data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def test_each_context_chooses_its_cassette_from_a_directory() -> None:
    with EmulatorThread(Settings(port=0, cassette=CASSETTES)) as emu:
        for name in NAMES:
            _control(emu.url, f"key-{name}", "PUT", "cassette", {"name": f"{name}.yaml"})
            before = _control(emu.url, f"key-{name}", "GET", "cassette")
            assert before["cassette"] == f"cassette {name}.yaml" and before["misses"] == 0
        for name in NAMES:
            assert talk(emu.url, name, key=f"key-{name}") == scripted(name)
            after = _control(emu.url, f"key-{name}", "GET", "cassette")
            assert after["unused"] == [] and after["misses"] == 0
        with pytest.raises(urllib.error.HTTPError) as caught:
            _control(emu.url, "key-x", "PUT", "cassette", {"name": "../pyproject.toml"})
        assert caught.value.code == 400
