"""Regenerates ``emulator/data/developer_v1beta.binpb``: the Developer API's v1beta messages, from Google's package.

Usage: ``python tools/build_developer_schema.py`` in an environment with ``google-ai-generativelanguage``
installed (the shipped file was built from 0.12.1; ``pip install -e '.[test]'`` brings it). The
emulator itself does not need that package: importing it pulls in ``google.api_core``, ``grpc`` and
the package's clients, about a quarter of a second of start-up, for a few kilobytes of descriptors.

The output is a ``FileDescriptorSet`` of ``generative_service.proto`` and every file it imports,
dependencies first, as the package's proto-plus classes describe them (imports sorted by name), with
one change: proto-plus appends ``_`` to field names that shadow Python builtins (``type_``,
``format_``, ``license_``), which the wire knows only by their real names (the service rejects
``type_``), so they are renamed back.
``google/protobuf/*`` files are left out: the emulator takes them from the protobuf runtime.
Additions the package lacks (``schema.SUPPLEMENT``) are made at run time, not here.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from google.protobuf import descriptor, descriptor_pb2

OUT = Path(__file__).resolve().parent.parent / "emulator" / "data" / "developer_v1beta.binpb"
PACKAGE = "google.ai.generativelanguage.v1beta"


def files_in_order(root: descriptor.FileDescriptor) -> list[descriptor.FileDescriptor]:
    """The root file and all it imports, dependencies first (the order a pool accepts them in).

    proto-plus records a file's imports in set order, which varies between runs; visiting them by
    name makes the output the same every time."""
    ordered: dict[str, descriptor.FileDescriptor] = {}

    def visit(file: descriptor.FileDescriptor) -> None:
        if file.name not in ordered:
            for dep in sorted(file.dependencies, key=lambda d: d.name):
                visit(dep)
            ordered[file.name] = file

    visit(root)
    return list(ordered.values())


def rename_underscored(message: descriptor_pb2.DescriptorProto) -> None:
    """Give back the real names of the fields proto-plus suffixed with ``_``."""
    for field in message.field:
        if field.name.endswith("_"):
            field.name = field.name.rstrip("_")
    for nested in message.nested_type:
        rename_underscored(nested)


def build() -> descriptor_pb2.FileDescriptorSet:
    """The descriptors of the installed package's ``generative_service.proto`` and its imports."""
    from google.ai.generativelanguage_v1beta.types import generative_service  # only this script needs it

    out = descriptor_pb2.FileDescriptorSet()
    for file in files_in_order(generative_service.GenerateContentRequest.pb().DESCRIPTOR.file):
        if file.name.startswith("google/protobuf/"):
            continue
        proto = out.file.add()
        file.CopyToProto(proto)
        if proto.public_dependency or proto.weak_dependency:
            raise ValueError(f"{proto.name}: public or weak imports, whose indexes sorting would break")
        proto.dependency.sort()
        if proto.package == PACKAGE:
            for message in proto.message_type:
                rename_underscored(message)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    result = build()
    args.out.write_bytes(result.SerializeToString(deterministic=True))
    types = sum(len(f.message_type) + len(f.enum_type) for f in result.file)
    print(f"{args.out}: {args.out.stat().st_size} bytes, {len(result.file)} files, {types} top-level types")


if __name__ == "__main__":
    main()
