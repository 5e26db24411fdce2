"""What a fresh install gets: the runtime dependencies the README's examples need, no platform-only
imports, and the files a package ships beside its code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
tomllib = pytest.importorskip("tomllib")  # Python 3.11+
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_google_genai_and_filelock_are_runtime_dependencies_and_vcrpy_only_a_test_one() -> None:
    runtime = names(PROJECT["dependencies"])
    assert {"google-genai", "filelock"} <= runtime
    assert "vcrpy" not in runtime
    assert "vcrpy" in names(PROJECT["optional-dependencies"]["test"])
    assert "google-genai" not in names(PROJECT["optional-dependencies"]["test"])  # once is enough


def test_the_package_never_imports_vcrpy_at_import_time() -> None:
    code = "import sys, emulator, emulator.cassette.vcr, emulator.cli; print('vcr' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_no_posix_only_module_is_imported_anywhere_in_the_package() -> None:
    """Windows has no fcntl: the package must import, serve and replay there (locks come from filelock)."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "emulator").rglob("*.py")
        if re.search(r"^\s*(import fcntl|from fcntl)", path.read_text(encoding="utf-8"), flags=re.M)
    ]
    assert offenders == []


def test_license_and_changelog() -> None:
    assert PROJECT["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and len(text.splitlines()) == 202  # the full standard text
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.startswith("# Changelog")
    assert changelog.index("## Unreleased") < changelog.index("## 0.1.0")  # newest first


def _runtime_closure() -> set[str]:
    """Every distribution ``pip install .`` brings: the runtime requirements, followed through their own
    (without extras), as this environment resolved them."""
    from importlib import metadata

    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [Requirement(r) for r in PROJECT["dependencies"]]
    while todo:
        requirement = todo.pop()
        name = requirement.name.lower().replace("_", "-")
        if name in seen or (requirement.marker is not None and not requirement.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        todo.extend(Requirement(r) for r in metadata.requires(requirement.name) or ())
    return seen


def test_the_readme_examples_need_nothing_but_the_runtime_install() -> None:
    """The first set-up command installs ``.`` without extras: every module the README's Python examples
    import comes from a distribution of that install (or the standard library, or this package), unless
    the text just before the example names the distribution it needs (vcrpy, in the test extras)."""
    import ast
    from importlib import metadata

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    owners = {module: {d.lower().replace("_", "-") for d in dists} for module, dists in
              metadata.packages_distributions().items()}  # fmt: skip
    closure = _runtime_closure()
    for block in re.findall(r"```python\n(.*?)```", readme, flags=re.S):
        told = readme[: readme.index(block)][-400:]
        for node in ast.walk(ast.parse(block)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [f"{node.module}.{a.name}" for a in node.names]
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top == "emulator":
                    continue
                dists = owners.get(top, set())
                if top == "google":  # a namespace many distributions share: its sub-package decides
                    dists = {"google-genai"} if module.startswith("google.genai") else {"google-auth"}
                named = {d for d in dists if d in told}
                assert dists & closure or named, f"the README imports {module}, which `pip install .` does not bring"
