from __future__ import annotations

import sys
from pathlib import Path

import pytest

from emulator.cassette.derived import CACHE_ENV

sys.path.insert(0, str(Path(__file__).parent))  # cassette_samples, whatever pytest's import mode


@pytest.fixture(autouse=True)
def _derived_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Derived cassette indexes go to one folder of this run, not the user's cache (emulator threads
    and child processes alike read the variable)."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path_factory.getbasetemp() / "derived-cassettes"))
