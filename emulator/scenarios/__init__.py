"""Declarative scenarios: YAML or JSON files that script what the model answers, rule by rule.

The format is defined by the pydantic models in :mod:`.model` (published as a JSON Schema by
:func:`.schema.scenario_json_schema`); :class:`~emulator.backends.scripted.ScriptedBackend` plays a scenario.
"""

from .loader import ScenarioError, load_scenario, parse_scenario, scenario_from_data
from .model import Rule, Scenario

__all__ = [
    "Rule",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "parse_scenario",
    "scenario_from_data",
]
