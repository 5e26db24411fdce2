"""The import graph of ``emulator/`` runs one way, read from the code itself (ast), so it stays so.

Layers, lowest first: the shared utilities at the top of the package, ``wire`` (what a call is and
how it looks on the wire), ``cassette`` and ``generation`` (the recorded format; what fake models
write), ``scenarios`` (the scenario format and its runtime), ``backends``, ``dispatch`` (which
backend answers), ``server``. A module may import its own layer and those below it, never above;
no module imports itself back through others, not even from inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "emulator"
LAYERS = ["wire", "cassette", "generation", "scenarios", "backends", "dispatch", "server"]
"""Bottom to top; ``cassette`` and ``generation`` share a level and must not import each other."""
SIDE_BY_SIDE = {("cassette", "generation"), ("generation", "cassette")}
UTILITIES = {"budget", "contexts", "offload", "patterns", "safe_yaml", "settings", "journal"}
"""Top-level modules the layers may use; they import no layer but ``wire`` (the journal's ApiError)."""
ENTRY_POINTS = {"__init__", "__main__", "cli", "pytest_plugin"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every ``emulator`` module this file imports, at any depth of its code."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.startswith("emulator"):
                names = [f"{target}.{alias.name}" for alias in node.names]
                found |= {n for n in names if _exists(n)} or {target}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("emulator")}
    return {name for name in found if name != here}


def _exists(name: str) -> bool:
    relative = Path(*name.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").exists() or (PACKAGE / relative / "__init__.py").exists()


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "emulator"


GRAPH = {module_name(p): imports(p) for p in PACKAGE.rglob("*.py")}


def test_the_graph_was_read() -> None:
    assert len(GRAPH) > 50 and "emulator.wire.call" in GRAPH["emulator.server.handlers"]


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_import_runs_up_a_layer(module: str) -> None:
    mine = layer_of(module)
    if mine in ENTRY_POINTS or mine == "emulator":
        return
    for target in sorted(GRAPH[module]):
        theirs = layer_of(target)
        if theirs == mine or theirs == "emulator":
            continue
        if mine in UTILITIES:
            assert theirs in UTILITIES or theirs == "wire", f"{module} (a utility) imports {target}"
            continue
        if theirs in UTILITIES:
            continue
        assert theirs in LAYERS and mine in LAYERS, f"{module} imports {target}"
        assert (mine, theirs) not in SIDE_BY_SIDE, f"{module} imports {target}, a layer beside its own"
        assert LAYERS.index(theirs) <= LAYERS.index(mine), f"{module} ({mine}) imports {target} ({theirs}): up a layer"


def test_no_import_circle() -> None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH.get(module, ())):
            if target not in GRAPH:
                continue
            if state.get(target) == 1:
                raise AssertionError("import circle: " + " -> ".join([*path[path.index(target) :], target]))
            if target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
