"""The maintainer's recording script only ever runs here as a dry run: it must not reach the network."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "record_conformance.py"


def run(*args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GEMINI_API_KEY"}
    if key is not None:
        env["GEMINI_API_KEY"] = key
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=60)


def test_dry_run_prints_the_plan_and_exits_0(tmp_path: Path) -> None:
    done = run("--dry-run", "--out", str(tmp_path), "--only", "stream", key="not-used")
    assert done.returncode == 0, done.stderr
    assert "--dry-run given" in done.stdout
    assert f"--record {tmp_path / 'stream.yaml'} --record-mode all" in done.stdout
    assert "--upstream https://generativelanguage.googleapis.com" in done.stdout
    assert "generate:" not in done.stdout and not list(tmp_path.iterdir())


def test_without_a_key_it_only_says_what_it_would_do(tmp_path: Path) -> None:
    done = run("--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "GEMINI_API_KEY is not set" in done.stdout
    assert done.stdout.count("serve --port 0") == 6 and not list(tmp_path.iterdir())
