"""An emulator started with ``--api-key`` accepts only that key, with the real service's error for any
other. It needs an emulator started with that setting, so it is here, not in sdk_tests/ (whose errors
module checks everything else about errors over HTTP)."""

from __future__ import annotations

import pytest
from google import genai

from emulator import EmulatorThread, Settings

MODEL = "gemini-2.5-flash"


def test_wrong_key_with_a_configured_key() -> None:
    with EmulatorThread(Settings(port=0, api_key="the-right-key")) as emu:
        wrong = genai.Client(api_key="not-it", http_options={"base_url": emu.url})
        with pytest.raises(genai.errors.APIError) as caught:
            wrong.models.generate_content(model=MODEL, contents="x")
        error = caught.value
        assert (error.code, error.status) == (400, "INVALID_ARGUMENT")
        assert error.message == "API key not valid. Please pass a valid API key."
        assert error.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"
        right = genai.Client(api_key="the-right-key", http_options={"base_url": emu.url})
        assert right.models.generate_content(model=MODEL, contents="x").text
