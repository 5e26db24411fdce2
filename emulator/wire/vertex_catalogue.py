"""What Vertex AI says about models: which of the catalogue's it serves, and in which shapes.

Vertex AI lists Google's models as Model Garden publisher models (``publishers/google/models/{id}``)
and a project's own models (tuned ones, deployed behind ``endpoints/{id}``) apart from them.
``emulator/data/vertex_models.json`` holds the publisher entries in the real shape (the first ten as a
recorded ``GET publishers/google/models?pageSize=100`` answered them), the models only Vertex AI has,
and the emulator traits of shared models that Vertex AI serves otherwise (the embedding models'
``predict``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from . import errors

GENERATE_CALLS = ("generateContent", "streamGenerateContent", "countTokens", "computeTokens")
"""What Vertex AI serves for a model the Developer API lists with ``generateContent``."""
EMBED_CALLS = ("embedContent", "batchEmbedContents", "countTokens")
"""What Vertex AI serves for a model the Developer API lists with ``embedContent``: the SDKs send a
Gemini embedding model's several contents as one ``batchEmbedContents`` there too."""
ALL_CALLS = (*GENERATE_CALLS, *EMBED_CALLS, "predict")

TEMPLATE_PREFIX = "projects/{project}/locations/{location}/"
DEFAULT_PAGE = 100
"""Unrecorded and undocumented; the one recorded client asked for 100 and got the whole list."""

MSG_GEMINI_PREDICT = (
    "Gemini cannot be accessed through Vertex Predict/RawPredict API. Please follow "
    "https://cloud.google.com/vertex-ai/docs/generative-ai/start/quickstarts/quickstart-multimodal for Gemini usage."
)


@dataclass
class VertexData:
    """The shipped Vertex AI facts, as ``emulator/data/vertex_models.json`` holds them."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Publisher entries by model id, in the order the listing shows them."""
    models: list[dict[str, Any]] = field(default_factory=list)
    """Catalogue entries of the models only Vertex AI has."""
    traits: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Emulator traits by model id, laid over the Developer API's entry of a model both serve."""

    @classmethod
    def shipped(cls) -> VertexData:
        text = resources.files("emulator.data").joinpath("vertex_models.json").read_text(encoding="utf-8")
        data = json.loads(text)
        entries = {entry["name"].rsplit("/", 1)[1]: entry for entry in data["publisherModels"]}
        return cls(entries, list(data["models"]), dict(data["traits"]))

    def patched(self, entry: dict[str, Any]) -> dict[str, Any]:
        """A shipped Developer API entry as both APIs see it: Vertex AI's traits laid over it, and marked
        as one Vertex AI lacks when its publisher list leaves it out."""
        model_id = entry["name"].split("/", 1)[1]
        traits = {**entry.get("emulator", {}), **self.traits.get(model_id, {})}
        if model_id not in self.entries:
            traits["vertex"] = False
        return {**entry, "emulator": traits} if traits else entry


def publisher_entry(model_id: str, shipped: dict[str, Any] | None) -> dict[str, Any]:
    """``GET publishers/google/models/{id}`` of a model: the shipped entry, else the shape every Gemini entry
    of the recorded list shares (a model the user adds, or a name ``--any-model`` answers)."""
    if shipped is not None:
        return shipped
    name = f"publishers/google/models/{model_id}"
    return {"name": name, "versionId": "default", "publisherModelTemplate": f"{TEMPLATE_PREFIX}{name}@default"}


def own_model(
    model_id: str, display_name: str, description: str | None, project: str | None, location: str | None
) -> dict[str, Any]:
    """A user's ``tunedModels/{id}`` entry as the project's own model, deployed behind ``endpoints/{id}`` (the
    fields the SDK reads, in the order of the ``Model`` message)."""
    where = f"projects/{project}/locations/{location}/" if project is not None else ""
    body: dict[str, Any] = {"name": f"{where}models/{model_id}", "versionId": "1", "displayName": display_name}
    if description is not None:
        body["description"] = description
    body["deployedModels"] = [{"endpoint": f"{where}endpoints/{model_id}", "deployedModelId": model_id}]
    return body


def endpoint_not_found(endpoint_id: str, project: str | None, location: str | None) -> errors.ApiError:
    """Vertex AI's 404 for an endpoint the project lacks, as a tuned model's caller met it (googleapis/python-genai
    issue 1706, 2025-11): ``Endpoint `projects/…/locations/us-central1/endpoints/7070…` not found.``"""
    where = f"projects/{project}/locations/{location}/" if project is not None else ""
    return errors.ApiError(404, f"Endpoint `{where}endpoints/{endpoint_id}` not found.")


def gemini_predict() -> errors.ApiError:
    """A Gemini model called with ``:predict``: a 400 FAILED_PRECONDITION, not a 404 (reported word for word in
    langchainjs issue 3884 and google-cloud-dotnet issue 11576, with its status in several code comments)."""
    return errors.ApiError(400, MSG_GEMINI_PREDICT, "FAILED_PRECONDITION")
