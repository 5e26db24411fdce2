"""Regenerates ``emulator/data/vertex_v1beta1.binpb``: Vertex AI's request messages, from Google's protos.

Usage: ``python tools/build_vertex_schema.py GOOGLEAPIS_DIR`` where GOOGLEAPIS_DIR is a checkout of
github.com/googleapis/googleapis (the shipped file was built from commit
f8291d2b89f0017ab078a4c7378069bae5686f6f, 2026-08-22). Needs ``grpcio-tools`` (for ``protoc``), which
the emulator itself does not.

``protoc`` compiles ``prediction_service.proto`` and ``llm_utility_service.proto`` of
``google.cloud.aiplatform.v1beta1``; the output keeps only what the request messages of
:data:`ROOTS` reach (their messages, enums and nested types), without services, options or comments,
so that the emulator reads a small file instead of depending on the heavy ``google-cloud-aiplatform``.
``google/protobuf/*`` files are left out: the emulator takes them from the protobuf runtime.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from google.protobuf import descriptor, descriptor_pb2, descriptor_pool

PACKAGE = "google.cloud.aiplatform.v1beta1"
SOURCES = (
    "google/cloud/aiplatform/v1beta1/prediction_service.proto",
    "google/cloud/aiplatform/v1beta1/llm_utility_service.proto",
)
ROOTS = (
    "GenerateContentRequest",
    "CountTokensRequest",
    "ComputeTokensRequest",
    "EmbedContentRequest",
    "PredictRequest",
)
OUT = Path(__file__).resolve().parent.parent / "emulator" / "data" / "vertex_v1beta1.binpb"


def compile_protos(googleapis: Path) -> descriptor_pb2.FileDescriptorSet:
    """Every file the sources import, as ``protoc --include_imports`` writes them."""
    import grpc_tools  # imported here: only this script needs it

    bundled = Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "all.binpb"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "grpc_tools.protoc",
                f"-I{googleapis}",
                f"-I{bundled}",
                "--include_imports",
                f"--descriptor_set_out={out}",
                *SOURCES,
            ],
            check=True,
        )
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


def reachable(pool: descriptor_pool.DescriptorPool) -> set[str]:
    """Full names of the messages and enums the roots reach, with the messages enclosing them."""
    found: set[str] = set()

    def visit(message: descriptor.Descriptor) -> None:
        if message.full_name in found or message.full_name.startswith("google.protobuf."):
            return
        found.add(message.full_name)
        if message.containing_type is not None:
            visit(message.containing_type)
        for field in message.fields:
            if field.enum_type is not None:
                found.add(field.enum_type.full_name)
                if field.enum_type.containing_type is not None:
                    visit(field.enum_type.containing_type)
            if field.message_type is not None:
                visit(field.message_type)

    for root in ROOTS:
        visit(pool.FindMessageTypeByName(f"{PACKAGE}.{root}"))
    return found


def _pruned_message(
    message: descriptor_pb2.DescriptorProto, scope: str, keep: set[str]
) -> descriptor_pb2.DescriptorProto:
    here = f"{scope}.{message.name}"
    out = descriptor_pb2.DescriptorProto(name=message.name)
    for field in message.field:
        copy = out.field.add()
        copy.CopyFrom(field)
        copy.ClearField("options")
    for oneof in message.oneof_decl:
        out.oneof_decl.add(name=oneof.name)
    for nested in message.nested_type:
        if f"{here}.{nested.name}" in keep:
            out.nested_type.append(_pruned_message(nested, here, keep))
    for enum in message.enum_type:
        if f"{here}.{enum.name}" in keep:
            out.enum_type.append(_pruned_enum(enum))
    if message.options.map_entry:
        out.options.map_entry = True
    return out


def _pruned_enum(enum: descriptor_pb2.EnumDescriptorProto) -> descriptor_pb2.EnumDescriptorProto:
    out = descriptor_pb2.EnumDescriptorProto(name=enum.name)
    for value in enum.value:
        out.value.add(name=value.name, number=value.number)
    if enum.options.allow_alias:
        out.options.allow_alias = True
    return out


def _type_names(message: descriptor_pb2.DescriptorProto) -> set[str]:
    names = {field.type_name.lstrip(".") for field in message.field if field.type_name}
    for nested in message.nested_type:
        names |= _type_names(nested)
    return names


def prune(compiled: descriptor_pb2.FileDescriptorSet) -> descriptor_pb2.FileDescriptorSet:
    """The files that hold reachable types, holding only those, in dependency order."""
    pool = descriptor_pool.DescriptorPool()
    for file in compiled.file:
        pool.Add(file)
    keep = reachable(pool)
    out = descriptor_pb2.FileDescriptorSet()
    for file in compiled.file:  # protoc writes dependencies first
        if file.name.startswith("google/protobuf/"):
            continue
        scope = file.package
        pruned = descriptor_pb2.FileDescriptorProto(name=file.name, package=file.package, syntax=file.syntax)
        for message in file.message_type:
            if f"{scope}.{message.name}" in keep:
                pruned.message_type.append(_pruned_message(message, scope, keep))
        for enum in file.enum_type:
            if f"{scope}.{enum.name}" in keep:
                pruned.enum_type.append(_pruned_enum(enum))
        if not pruned.message_type and not pruned.enum_type:
            continue
        used = set().union(*(_type_names(m) for m in pruned.message_type))
        defined_in = {name: pool.FindFileContainingSymbol(name).name for name in used}
        pruned.dependency.extend(sorted({d for d in defined_in.values() if d != file.name}))
        out.file.append(pruned)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("googleapis", type=Path, help="a checkout of googleapis/googleapis")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    result = prune(compile_protos(args.googleapis))
    args.out.write_bytes(result.SerializeToString(deterministic=True))
    types = sum(len(f.message_type) + len(f.enum_type) for f in result.file)
    print(f"{args.out}: {args.out.stat().st_size} bytes, {len(result.file)} files, {types} top-level types")


if __name__ == "__main__":
    main()
