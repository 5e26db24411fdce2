"""The published JSON Schema: shipped up to date, and in agreement with the loader on real files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from emulator.scenarios import ScenarioError, scenario_from_data
from emulator.scenarios.schema import SHIPPED, main, scenario_json_schema, schema_text

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"
VALIDATOR = jsonschema.Draft202012Validator(scenario_json_schema())


def test_shipped_schema_is_up_to_date() -> None:
    assert json.loads(SHIPPED.read_text(encoding="utf-8")) == scenario_json_schema(), (
        "emulator/data/scenario.schema.json is stale; run: python -m emulator.scenarios.schema"
    )


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(scenario_json_schema())


def test_main_writes_the_schema(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    assert main([str(target)]) == 0
    assert target.read_text(encoding="utf-8") == schema_text()


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_satisfies_the_schema(path: Path) -> None:
    errors = [e.message for e in VALIDATOR.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))]
    assert errors == []


SHORTHANDS: list[dict[str, Any]] = [
    {"reply": "text", "times": "unlimited", "delay": "250ms"},
    {"when": {"turn": 2, "model": "gemini-*", "last_user_text": "hi", "nth": [1, 3]}, "error": 503},
    {"block": "SAFETY", "delay": 0.5},
    {"reply": {"parts": ["plain", {"thought": "t"}], "stream": {"split": "words", "first_chunk": "1s"}}},
    {"reply": {"json": {"a": 1}}},
]
REJECTED: list[dict[str, Any]] = [
    {"reply": {"txt": "x"}},
    {"reply": "x", "times": 0},
    {"reply": "x", "delay": "soon"},
    {"error": {"code": 200}},
    {"block": "NOT_A_REASON"},
    {"reply": {"text": ""}},
]


@pytest.mark.parametrize("rule", SHORTHANDS)
def test_schema_and_loader_both_accept_shorthands(rule: dict[str, Any]) -> None:
    document = {"name": "s", "rules": [rule]}
    assert list(VALIDATOR.iter_errors(document)) == []
    scenario_from_data(document)


@pytest.mark.parametrize("rule", REJECTED)
def test_schema_and_loader_both_reject_mistakes(rule: dict[str, Any]) -> None:
    document = {"name": "s", "rules": [rule]}
    assert list(VALIDATOR.iter_errors(document)) != []
    with pytest.raises(ScenarioError):
        scenario_from_data(document)
