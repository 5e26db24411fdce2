"""Vertex AI's wire schema: Google's ``google.cloud.aiplatform.v1beta1`` request messages.

The messages come from ``emulator/data/vertex_v1beta1.binpb``, a ``FileDescriptorSet`` that
``tools/build_vertex_schema.py`` extracts from googleapis/googleapis (commit
f8291d2b89f0017ab078a4c7378069bae5686f6f, 2026-08-22): only what the request messages reach, so the
emulator needs neither ``protoc`` nor the heavy ``google-cloud-aiplatform`` at run time. The
``google/protobuf`` files they import come from the protobuf runtime.

Those protos lag the service just as the Developer API's do, and the SDK (py:models.py
``_..._to_vertex`` converters, and the types they pass through unconverted) sends fields they lack;
real Vertex traffic has them too (``thinkingConfig.thinkingLevel``, ``imageConfig.imageOutputOptions``
answered 200). :data:`SUPPLEMENT` adds them, as schema.SUPPLEMENT does for the Developer API. Fields
the converters refuse on Vertex AI (``Part.tool_call``, ``FunctionResponse.will_continue``,
``Tool.file_search``, ``store`` ...) stay absent: the real service rejects them as unknown.
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.message import Message

from . import schema
from .call import Operation

PACKAGE = "google.cloud.aiplatform.v1beta1"
DATA = "vertex_v1beta1.binpb"
TASK_TYPE = f"{PACKAGE}.EmbedContentRequest.EmbeddingTaskType"
"""The embedding task types, which ``predict`` instances name in their free-form ``task_type``."""

# (message relative to PACKAGE, field, type), in the grammar of schema.supplemented_pool.
SUPPLEMENT: schema.Supplement = (
    ("GenerateContentRequest", "service_tier", "string"),
    ("GenerateContentRequest", "continuation_token", "bytes"),
    ("GenerateContentRequest", "output_config", "Struct"),
    ("GenerationConfig", "audio_transcription_config", "Struct"),
    ("GenerationConfig", "enable_affective_dialog", "bool"),
    ("GenerationConfig", "translation_config", "Struct"),
    ("GenerationConfig", "response_format", "repeated Struct"),
    ("GenerationConfig.ThinkingConfig", "thinking_level", "enum ThinkingLevel"),
    ("ImageConfig", "image_size", "string"),
    ("ImageConfig", "person_generation", "string"),
    ("ImageConfig", "prominent_people", "string"),
    ("ImageConfig", "image_output_options", "Struct"),
    ("VoiceConfig", "voice", "string"),
    ("Part", "media_resolution", "Struct"),
    ("Part", "audio_transcription", "Struct"),
    ("Part", "speech_metadata", "Struct"),
    ("Part", "document_metadata", "Struct"),
    ("Part", "spreadsheet_metadata", "Struct"),
    ("Part", "audio_metadata", "Struct"),
    ("Blob", "display_name", "string"),
    ("FileData", "display_name", "string"),
    ("VideoMetadata", "fps", "double"),
    ("VideoMetadata", "content_layers", "repeated string"),
    ("ExecutableCode", "id", "string"),
    ("CodeExecutionResult", "id", "string"),
    ("FunctionResponse", "scheduling", "enum Scheduling"),
    ("FunctionResponsePart", "media_resolution", "Struct"),
    ("FunctionResponsePart", "video_metadata", "Struct"),
    ("FunctionResponsePart", "document_metadata", "Struct"),
    ("FunctionResponsePart", "spreadsheet_metadata", "Struct"),
    ("FunctionResponsePart", "audio_metadata", "Struct"),
    ("FunctionDeclaration", "behavior", "enum Behavior"),
    ("Tool", "mcp_servers", "repeated Struct"),
    ("Tool.ComputerUse", "enable_prompt_injection_detection", "bool"),
    ("Tool.ComputerUse", "disabled_safety_policies", "repeated string"),
    ("Tool.GoogleSearch", "search_types", "Struct"),
    ("Tool.GoogleSearch", "time_range_filter", "Struct"),
    ("Tool.ParallelAiSearch", "enable_data_retention", "bool"),
    ("Tool.ParallelAiSearch", "enable_zero_data_retention", "bool"),
    ("GoogleMaps", "auth_config", "Struct"),
    ("GoogleMaps", "grounding_types", "Struct"),
    ("Retrieval", "external_api", "Struct"),
)
SUPPLEMENT_ENUMS: dict[str, tuple[str, ...]] = {
    "ThinkingLevel": schema.SUPPLEMENT_ENUMS["ThinkingLevel"],
    "Scheduling": ("SCHEDULING_UNSPECIFIED", "SILENT", "WHEN_IDLE", "INTERRUPT"),
    "Behavior": ("UNSPECIFIED", "BLOCKING", "NON_BLOCKING"),
}


def build_pool() -> descriptor_pool.DescriptorPool:
    """A fresh pool holding the shipped v1beta1 request messages plus :data:`SUPPLEMENT`."""
    protos = schema.shipped(DATA)
    _add_batch_embed(protos)
    return schema.supplemented_pool(protos, PACKAGE, SUPPLEMENT, SUPPLEMENT_ENUMS)


def _add_batch_embed(files: list[descriptor_pb2.FileDescriptorProto]) -> None:
    """``BatchEmbedContentsRequest``, which the published protos lack but the service serves: the SDK
    sends several contents for a Gemini embedding model as ``{"requests": [EmbedContentRequest, ...]}``
    (py:models.py ``embed_content``, ``EmbeddingApiType.BATCH_EMBED_CONTENTS``)."""
    home = next(
        f for f in files if f.package == PACKAGE and any(m.name == "EmbedContentRequest" for m in f.message_type)
    )
    message = home.message_type.add(name="BatchEmbedContentsRequest")
    fdp = descriptor_pb2.FieldDescriptorProto
    message.field.add(name="model", number=1, type=fdp.TYPE_STRING, label=fdp.LABEL_OPTIONAL)
    message.field.add(
        name="requests",
        number=2,
        type=fdp.TYPE_MESSAGE,
        label=fdp.LABEL_REPEATED,
        type_name=f".{PACKAGE}.EmbedContentRequest",
    )


POOL = build_pool()


def message_class(name: str) -> type[Message]:
    """The class of a v1beta1 message (short name, e.g. ``"Part"``) from the supplemented pool."""
    return schema.message_class(name, POOL, PACKAGE)


GenerateContentRequest = message_class("GenerateContentRequest")

REQUEST_CLASSES: dict[Operation, type[Message]] = {
    Operation.GENERATE: GenerateContentRequest,
    Operation.STREAM: GenerateContentRequest,
    Operation.COUNT_TOKENS: message_class("CountTokensRequest"),
    Operation.COMPUTE_TOKENS: message_class("ComputeTokensRequest"),
    Operation.EMBED: message_class("EmbedContentRequest"),
    Operation.BATCH_EMBED: message_class("BatchEmbedContentsRequest"),
    Operation.PREDICT: message_class("PredictRequest"),
}
