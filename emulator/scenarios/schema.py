"""The published JSON Schema of scenario files, for editors and for validating files elsewhere.

The shipped copy (``emulator/data/scenario.schema.json``) is generated from the pydantic models;
a test fails when it is stale. Regenerate it with ``python -m emulator.scenarios.schema``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .model import Scenario

SHIPPED = Path(__file__).resolve().parent.parent / "data" / "scenario.schema.json"


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that accepts exactly the scenario files the loader accepts."""
    schema = Scenario.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def schema_text() -> str:
    return json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Writes the schema to the shipped location, or to the path given."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else SHIPPED
    target.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
