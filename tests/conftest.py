from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator import EmulatorThread


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread() as emu:
        yield emu
