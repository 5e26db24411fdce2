"""Paths the real API has but the emulator does not serve answer 501 UNIMPLEMENTED naming the feature;
paths the real API does not have keep its 404."""

from __future__ import annotations

import httpx
import pytest

from emulator import EmulatorThread
from emulator.wire import routes
from emulator.wire.errors import ApiError

UNEMULATED = [
    ("GET", "/v1beta/files", "the Files API (files)"),
    ("POST", "/upload/v1beta/files", "the Files API (files)"),
    ("GET", "/v1beta/files/abc-123", "the Files API (files)"),
    ("POST", "/v1beta/cachedContents", "context caching (cachedContents)"),
    ("GET", "/v1beta/batches/123", "the Batch API (batches)"),
    ("POST", "/v1beta/models/gemini-2.5-flash:batchGenerateContent", "the Batch API (batches)"),
    ("GET", "/v1beta/tunedModels", "model tuning (tunedModels)"),
    ("GET", "/v1beta/tunedModels/my-model/operations/op-1", "model tuning (tunedModels)"),
    ("POST", "/v1beta/openai/chat/completions", "the OpenAI-compatible API (openai/)"),
    ("POST", "/v1beta/models/imagen-4.0-generate-001:predict", "Imagen and Veo (predict, predictLongRunning)"),
    ("GET", "/v1beta/corpora", "semantic retrieval (corpora)"),
    ("GET", "/", "the service root (GET /)"),
    ("POST", "/v1beta1/projects/p/locations/us-central1/cachedContents", "context caching (cachedContents)"),
    ("POST", "/v1/projects/p/locations/us-central1/batchPredictionJobs", "batch prediction (batchPredictionJobs)"),
    ("POST", "/v1/projects/p/locations/us-central1/tuningJobs", "model tuning (tuningJobs)"),
    (
        "POST",
        "/v1beta1/projects/p/locations/us-central1/endpoints/openapi/chat/completions",
        "the OpenAI-compatible API (endpoints/openapi)",
    ),
]
NOT_REAL = [
    ("GET", "/v1beta/nonsense"),
    ("GET", "/favicon.ico"),
    ("POST", "/v1beta/models/gemini-2.5-flash:fooBar"),
    ("GET", "/v1beta/models/gemini-2.5-flash:generateContent"),
    ("POST", "/v9/files"),
    ("GET", "/v1beta1/projects/p/locations/l/nonsense"),
]


@pytest.mark.parametrize(("method", "path", "feature"), UNEMULATED)
def test_a_real_path_not_emulated_is_a_501_naming_the_feature(method: str, path: str, feature: str) -> None:
    with pytest.raises(ApiError) as raised:
        routes.resolve(method, path)
    assert (raised.value.code, raised.value.status) == (501, "UNIMPLEMENTED")
    assert raised.value.message.startswith(f"gemini-emulator does not emulate {feature} yet")


@pytest.mark.parametrize(("method", "path"), NOT_REAL)
def test_a_path_the_real_api_lacks_keeps_the_real_404(method: str, path: str) -> None:
    with pytest.raises(ApiError) as raised:
        routes.resolve(method, path)
    assert (raised.value.code, raised.value.message) == (404, "Method not found.")


def test_the_501_over_http_in_the_google_envelope() -> None:
    with EmulatorThread() as emu:
        files = httpx.get(f"{emu.url}/v1beta/files", headers={"x-goog-api-key": "k"})
        root = httpx.get(f"{emu.url}/")
        missing = httpx.get(f"{emu.url}/v1beta/nonsense", headers={"x-goog-api-key": "k"})
    assert files.status_code == 501
    assert files.json() == {
        "error": {
            "code": 501,
            "message": "gemini-emulator does not emulate the Files API (files) yet",
            "status": "UNIMPLEMENTED",
        }
    }
    assert root.status_code == 501
    assert root.json()["error"]["message"] == (
        "gemini-emulator does not emulate the service root (GET /) yet; it serves the Developer API under "
        "/v1beta/, /v1/ and /v1alpha/ and Vertex AI under /v1/ and /v1beta1/"
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Method not found."
