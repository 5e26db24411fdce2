"""Vertex AI's model catalogue: the publisher models it lists and serves, in the recorded shape, and its 404s.

The entries pinned here are those of a recorded ``GET /v1beta1/publishers/google/models?pageSize=100``
(2026-01), whose recorder had written ``<GOOGLE_CLOUD_LOCATION>`` for ``global``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from emulator.wire.call import MODEL_CALLS, Operation
from emulator.wire.catalogue import Catalogue
from emulator.wire.errors import ApiError
from emulator.wire.flavour import Flavour

VERTEX, DEVELOPER = Flavour.VERTEX, Flavour.DEVELOPER
CATALOGUE = Catalogue.load()
TEMPLATE = "projects/{project}/locations/{location}/publishers/google/models/"
RECORDED_ORDER = [
    "gemini-1.5-flash-002", "gemini-1.5-pro-002", "gemini-2.0-flash-001", "gemini-2.0-flash-lite-001",
    "gemini-2.5-flash-preview-04-17", "gemini-2.5-pro-exp-03-25", "gemini-2.0-flash-preview-image-generation",
    "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite",
]  # fmt: skip
NOT_FOUND = (
    "Publisher Model `{}publishers/google/models/{}` was not found or your project does not have access to it. "
    "Please ensure you are using a valid model version. For more information, see: "
    "https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions"
)


def resolve(name: str, method: str, catalogue: Catalogue = CATALOGUE, recorded: bool = False) -> Any:
    return catalogue.resolve(name, method, "v1beta1", recorded, flavour=VERTEX, project="p", location="us-central1")


def refusal(name: str, method: str, catalogue: Catalogue = CATALOGUE) -> ApiError:
    with pytest.raises(ApiError) as caught:
        resolve(name, method, catalogue)
    return caught.value


def names(body: dict[str, Any]) -> list[str]:
    return [entry["name"].rsplit("/", 1)[1] for entry in body["publisherModels"]]


def load(tmp_path: Path, *entries: dict[str, Any], any_model: str | None = None) -> Catalogue:
    path = tmp_path / "models.json"
    path.write_text(json.dumps({"models": list(entries)}))
    return Catalogue.load(path, any_model)


# --- the recorded shape ----------------------------------------------------------------------------


def test_a_gemini_entry_is_what_the_recorded_list_sent() -> None:
    assert CATALOGUE.described("models/gemini-2.5-flash", "v1beta1", flavour=VERTEX) == {
        "name": "publishers/google/models/gemini-2.5-flash",
        "versionId": "default",
        "launchStage": "GA",
        "publisherModelTemplate": TEMPLATE + "gemini-2.5-flash@default",
    }
    image = CATALOGUE.described("gemini-2.0-flash-preview-image-generation", "v1beta1", flavour=VERTEX)
    assert list(image) == ["name", "versionId", "publisherModelTemplate"]  # recorded without a launch stage


def test_the_fullest_recorded_entry_keeps_its_fields_order_and_location() -> None:
    entry = CATALOGUE.described("gemini-1.5-flash-002", "v1beta1", flavour=VERTEX)
    assert list(entry) == [
        "name", "versionId", "openSourceCategory", "supportedActions", "launchStage", "publisherModelTemplate",
    ]  # fmt: skip
    assert entry["openSourceCategory"] == "PROPRIETARY"
    assert list(entry["supportedActions"]) == [
        "openNotebook", "openGenerationAiStudio", "openEvaluationPipeline", "openNotebooks",
    ]  # fmt: skip
    assert entry["supportedActions"]["openGenerationAiStudio"] == {
        "references": {
            "global": {"uri": "https://console.cloud.google.com/vertex-ai/studio/freeform?model=gemini-1.5-flash-002"}
        }
    }
    flash_2 = CATALOGUE.described("gemini-2.0-flash-001", "v1beta1", flavour=VERTEX)
    assert (
        "openSourceCategory" not in flash_2
        and "us-central1" in flash_2["supportedActions"]["openNotebook"]["references"]
    )


def test_an_entry_the_recording_lacks_has_the_shape_of_the_gemini_entries() -> None:
    entry = CATALOGUE.described("gemini-3-flash-preview", "v1beta1", flavour=VERTEX)
    assert entry == {
        "name": "publishers/google/models/gemini-3-flash-preview",
        "versionId": "default",
        "launchStage": "PUBLIC_PREVIEW",
        "publisherModelTemplate": TEMPLATE + "gemini-3-flash-preview@default",
    }


# --- the list --------------------------------------------------------------------------------------


def test_the_list_starts_as_recorded_and_holds_what_vertex_serves() -> None:
    whole = CATALOGUE.page(None, None, flavour=VERTEX)
    assert "nextPageToken" not in whole  # the recorded client's page of 100 held the whole list
    listed = names(whole)
    assert listed[:10] == RECORDED_ORDER
    for served in ("gemini-2.0-flash", "gemini-3-flash-preview", "gemini-3.1-pro-preview", "gemini-2.5-flash-image",
                   "gemini-3.1-flash-lite-image", "text-embedding-004", "text-embedding-005",
                   "text-multilingual-embedding-002", "gemini-embedding-001", "gemini-embedding-2"):  # fmt: skip
        assert served in listed
    developer_only = ["gemma-3-27b-it", "aqa", "gemini-flash-latest", "gemini-1.5-flash-latest", "embedding-001",
                      "imagen-4.0-generate-001", "veo-3.0-generate-001", "learnlm-2.0-flash-experimental"]  # fmt: skip
    assert not set(developer_only) & set(listed)
    assert len(listed) == len(set(listed))


def test_the_list_pages_with_a_token_naming_the_last_entry() -> None:
    first = CATALOGUE.page("20", None, flavour=VERTEX)
    assert len(first["publisherModels"]) == 20
    raw = base64.b64decode(first["nextPageToken"])
    assert raw[0] == 0x0A and raw[2:].decode() == first["publisherModels"][-1]["name"]
    pages, token = [first], first["nextPageToken"]
    while token:
        pages.append(CATALOGUE.page("20", token, flavour=VERTEX))
        token = pages[-1].get("nextPageToken")
    whole = CATALOGUE.page("1000", None, flavour=VERTEX)
    assert [n for page in pages for n in names(page)] == names(whole)
    with pytest.raises(ApiError, match="Invalid page token"):
        CATALOGUE.page(None, "bm90IGEgdG9rZW4", flavour=VERTEX)


def test_the_developer_api_list_is_unchanged() -> None:
    assert len(CATALOGUE.models) == 97
    first = CATALOGUE.page(None, None)
    assert len(first["models"]) == 50 and first["models"][0]["name"] == "models/chat-bison-001"
    everything = [m["name"] for m in CATALOGUE.page("1000", None)["models"]]
    assert "models/gemma-3-27b-it" in everything and "models/text-embedding-005" not in everything
    assert CATALOGUE.page("1000", None, DEVELOPER) == CATALOGUE.page("1000", None)


def test_models_only_vertex_has_are_unknown_to_the_developer_api() -> None:
    assert CATALOGUE.get("text-embedding-005") is None
    with pytest.raises(ApiError) as caught:
        CATALOGUE.resolve("models/text-embedding-005", "embedContent", "v1beta")
    assert caught.value.message.startswith("models/text-embedding-005 is not found for API version v1beta")
    with pytest.raises(ApiError):
        CATALOGUE.described("models/gemini-2.0-flash-preview-image-generation", "v1beta")


# --- get and the 404s ------------------------------------------------------------------------------


def test_get_takes_the_names_the_sdks_send() -> None:
    expected = CATALOGUE.described("models/gemini-2.5-pro", "v1beta1", flavour=VERTEX)
    for name in ("gemini-2.5-pro", "publishers/google/models/gemini-2.5-pro", "models/gemini-2.5-pro@default"):
        assert CATALOGUE.described(name, "v1beta1", flavour=VERTEX) == expected


def test_an_unknown_model_gets_the_publisher_model_404_with_or_without_a_project() -> None:
    error = refusal("models/gemini-3.6-flahs", "generateContent")
    assert (error.code, error.status) == (404, "NOT_FOUND")
    assert error.message == NOT_FOUND.format("projects/p/locations/us-central1/", "gemini-3.6-flahs")
    with pytest.raises(ApiError) as express:
        CATALOGUE.resolve("models/gemini-3.6-flahs", "generateContent", "v1beta1", flavour=VERTEX)
    assert express.value.message == NOT_FOUND.format("", "gemini-3.6-flahs")
    with pytest.raises(ApiError) as get:  # the SDKs get a base model without the project
        CATALOGUE.described("models/gemma-3-1b-it", "v1beta1", flavour=VERTEX)
    assert get.value.code == 404 and get.value.message == NOT_FOUND.format("", "gemma-3-1b-it")


@pytest.mark.parametrize(
    "model",
    ["gemma-3-27b-it", "aqa", "gemini-flash-latest", "gemini-pro-latest", "nano-banana-pro-preview", "embedding-001",
     "gemini-1.5-flash-8b", "deep-research-pro-preview-12-2025", "imagen-4.0-generate-001"],
)  # fmt: skip
def test_developer_only_models_are_not_found_on_vertex(model: str) -> None:
    method = "predict" if model.startswith(("imagen", "embedding")) else "generateContent"
    error = refusal(f"models/{model}", method)
    assert error.code == 404 and f"publishers/google/models/{model}`" in error.message
    assert CATALOGUE.get(model) is not None  # the Developer API has it


def test_an_endpoint_the_project_lacks_gets_the_endpoint_404() -> None:
    error = refusal("endpoints/7070905402157694976", "generateContent")
    assert (error.code, error.status) == (404, "NOT_FOUND")
    assert error.message == "Endpoint `projects/p/locations/us-central1/endpoints/7070905402157694976` not found."


# --- which calls each model serves -----------------------------------------------------------------

SERVED = {
    "gemini-2.5-flash": {"generateContent", "streamGenerateContent", "countTokens", "computeTokens"},
    "gemini-3-pro-image-preview": {"generateContent", "streamGenerateContent", "countTokens", "computeTokens"},
    "gemini-2.0-flash-preview-image-generation": {
        "generateContent", "streamGenerateContent", "countTokens", "computeTokens",
    },
    "text-embedding-004": {"predict", "countTokens", "computeTokens"},
    "text-embedding-005": {"predict", "countTokens", "computeTokens"},
    "text-multilingual-embedding-002": {"predict", "countTokens", "computeTokens"},
    "gemini-embedding-001": {"predict", "embedContent", "batchEmbedContents", "countTokens"},
    "gemini-embedding-2": {"embedContent", "batchEmbedContents", "countTokens"},
}  # fmt: skip


@pytest.mark.parametrize("model", sorted(SERVED))
@pytest.mark.parametrize("operation", sorted(MODEL_CALLS))
def test_each_model_serves_its_calls_and_refuses_the_others(model: str, operation: str) -> None:
    if operation in SERVED[model]:
        found = resolve(f"models/{model}", operation)
        assert found.model_id == model and found.name == f"models/{model}"
        return
    error = refusal(f"models/{model}", operation)
    if operation == "predict" and model.startswith("gemini"):
        assert (error.code, error.status) == (400, "FAILED_PRECONDITION")
        assert error.message.startswith("Gemini cannot be accessed through Vertex Predict/RawPredict API.")
    else:
        assert error.code == 404 and error.message == NOT_FOUND.format("projects/p/locations/us-central1/", model)


def test_every_vertex_operation_is_served_by_some_model() -> None:
    vertex_calls = {op.value for op in Operation if op.is_model_call}
    assert vertex_calls <= set().union(*SERVED.values())


# --- stand-ins: --any-model and recordings ---------------------------------------------------------


def test_any_model_answers_unknown_and_developer_only_names_on_vertex() -> None:
    catalogue = Catalogue.load(any_model="gemini-2.5-flash")
    for name in ("models/my-own-model", "models/gemma-3-27b-it"):
        model = resolve(name, "generateContent", catalogue)
        assert model.name == name and model.supports("computeTokens", VERTEX)
    assert catalogue.described("models/my-own-model", "v1beta1", flavour=VERTEX) == {
        "name": "publishers/google/models/my-own-model",
        "versionId": "default",
        "publisherModelTemplate": TEMPLATE + "my-own-model@default",
    }
    assert refusal("models/my-own-model", "predict", catalogue).status == "FAILED_PRECONDITION"
    assert resolve("endpoints/123", "generateContent", catalogue).name == "endpoints/123"
    assert catalogue.resolve("models/text-embedding-005", "generateContent", "v1beta").name == (
        "models/text-embedding-005"  # a Vertex-only name is one the Developer API lacks
    )


def test_a_recording_vouches_for_any_model_and_call_on_vertex() -> None:
    for operation in MODEL_CALLS:
        assert resolve("models/gemini-1.0-pro-002", operation, recorded=True).model_id == "gemini-1.0-pro-002"
    assert resolve("models/gemma-3-27b-it", "generateContent", recorded=True).name == "models/gemma-3-27b-it"
    assert resolve("endpoints/123", "generateContent", recorded=True).name == "endpoints/123"
    assert refusal("models/gemini-1.0-pro-002", "generateContent").code == 404  # not without it


def test_a_recording_does_not_unlock_a_call_a_known_model_lacks() -> None:
    """As on the Developer API: a recording vouches for a name, not for a call its model does not take."""
    with pytest.raises(ApiError, match="Predict/RawPredict"):
        resolve("models/gemini-2.5-flash", "predict", recorded=True)
    with pytest.raises(ApiError, match="not found"):
        resolve("models/text-embedding-004", "generateContent", recorded=True)


# --- the user's models file ------------------------------------------------------------------------


def test_a_users_entry_serves_both_apis_unless_it_says_otherwise(tmp_path: Path) -> None:
    catalogue = load(
        tmp_path,
        {"name": "models/my-flash", "displayName": "My Flash"},
        {"name": "models/dev-only", "emulator": {"vertex": False}},
        {"name": "models/vertex-only", "emulator": {"developer": False}},
        {"name": "models/my-embedder", "supportedGenerationMethods": ["embedContent"],
         "emulator": {"vertex_methods": ["predict"], "embedding_dimension": 256}},
    )  # fmt: skip
    assert resolve("models/my-flash", "streamGenerateContent", catalogue).displayName == "My Flash"
    assert catalogue.resolve("models/my-flash", "generateContent", "v1beta").name == "models/my-flash"
    assert names(catalogue.page("1000", None, flavour=VERTEX))[-3:] == ["my-flash", "vertex-only", "my-embedder"]
    assert refusal("models/dev-only", "generateContent", catalogue).code == 404
    assert catalogue.get("vertex-only") is None and resolve("models/vertex-only", "generateContent", catalogue)
    assert resolve("models/my-embedder", "predict", catalogue).emulator.embedding_dimension == 256
    assert refusal("models/my-embedder", "embedContent", catalogue).code == 404


def test_overriding_a_shipped_entry_keeps_its_place_and_shape_on_vertex(tmp_path: Path) -> None:
    catalogue = load(tmp_path, {"name": "models/gemini-2.5-flash", "outputTokenLimit": 1024})
    assert names(catalogue.page(None, None, flavour=VERTEX))[:10] == RECORDED_ORDER
    assert resolve("models/gemini-2.5-flash", "generateContent", catalogue).outputTokenLimit == 1024
    assert catalogue.described("gemini-2.5-flash", "v1beta1", flavour=VERTEX)["launchStage"] == "GA"


def test_the_projects_own_models_are_the_users_tuned_entries(tmp_path: Path) -> None:
    assert CATALOGUE.tuned(VERTEX, "p", "us-central1") == {}
    catalogue = load(tmp_path, {"name": "tunedModels/my-tune", "displayName": "My tune", "description": "Tuned."})
    assert catalogue.tuned(flavour=VERTEX, project="p", location="us-central1") == {
        "models": [
            {
                "name": "projects/p/locations/us-central1/models/my-tune",
                "versionId": "1",
                "displayName": "My tune",
                "description": "Tuned.",
                "deployedModels": [
                    {"endpoint": "projects/p/locations/us-central1/endpoints/my-tune", "deployedModelId": "my-tune"}
                ],
            }
        ]
    }
    model = resolve("endpoints/my-tune", "generateContent", catalogue)
    assert model.name == "endpoints/my-tune" and model.displayName == "My tune"
    assert "my-tune" not in names(catalogue.page("1000", None, flavour=VERTEX))
    error = refusal("endpoints/my-tune", "embedContent", catalogue)
    assert error.message == "Endpoint `projects/p/locations/us-central1/endpoints/my-tune` not found."
