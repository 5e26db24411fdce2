"""The Developer API's shipped descriptors: what tools/build_developer_schema.py makes of Google's package,
read without importing that package."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from emulator.wire import schema

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "build_developer_schema.py"


def test_the_shipped_descriptors_leave_the_well_known_types_to_protobuf() -> None:
    data = resources.files("emulator.data").joinpath(schema.DATA).read_bytes()
    names = [f.name for f in descriptor_pb2.FileDescriptorSet.FromString(data).file]
    assert names and not [n for n in names if n.startswith("google/protobuf/")]
    assert names[-1] == "google/ai/generativelanguage_v1beta/types/generative_service.proto"


def test_the_shipped_descriptors_are_what_the_generator_makes_of_the_installed_package() -> None:
    pytest.importorskip("google.ai.generativelanguage_v1beta")
    spec = importlib.util.spec_from_file_location("build_developer_schema", TOOL)
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    shipped = resources.files("emulator.data").joinpath(schema.DATA).read_bytes()
    assert tool.build().SerializeToString(deterministic=True) == shipped


def test_the_schema_imports_neither_the_package_nor_its_client_machinery() -> None:
    code = (
        "import sys; import emulator.wire.schema, emulator.wire.vertex_schema\n"
        "print(sorted(m for m in sys.modules if m.startswith(('google.ai', 'google.api_core', 'grpc', 'proto'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout == "[]\n"


def test_proto_plus_names_are_the_real_ones() -> None:
    fields = schema.message_class("Schema").DESCRIPTOR.fields_by_name
    assert {"type", "format"} <= set(fields) and not {"type_", "format_"} & set(fields)
