"""The conformance suite drives the real google-genai SDK against an emulator.

Point it at a running emulator with ``GEMINI_EMULATOR_URL``; otherwise it starts one in-process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from google import genai

KEY = "conformance-key"


@pytest.fixture(scope="session")
def emulator_url() -> Iterator[str]:
    external = os.environ.get("GEMINI_EMULATOR_URL")
    if external:
        yield external.rstrip("/")
        return
    from emulator import EmulatorThread

    with EmulatorThread() as emu:
        yield emu.url


@pytest.fixture
def client(emulator_url: str) -> genai.Client:
    return genai.Client(api_key=KEY, http_options={"base_url": emulator_url})


@pytest.fixture
def beta_client(emulator_url: str) -> genai.Client:
    """The JS SDK's default API version, through the Python SDK."""
    return genai.Client(api_key=KEY, http_options={"base_url": emulator_url, "api_version": "v1beta"})
