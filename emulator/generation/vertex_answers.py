"""Vertex AI's answers to the calls that generate no content: countTokens, computeTokens, predict (the
text-embedding models) and embedContent, as deterministic as the Developer API's.

Shapes as the real service writes them (fields in proto field-number order, zeros and empty lists
left out): countTokens ``totalTokens, totalBillableCharacters, promptTokensDetails``; computeTokens
one ``tokensInfo`` per content, ``tokens`` (base64 bytes), ``tokenIds`` (int64, so strings) and
``role``; predict one prediction per instance, ``embeddings: {values, statistics: {token_count,
truncated}}``, and ``metadata.billableCharacterCount``; embedContent ``embedding: {values}``,
``usageMetadata: {promptTokenCount, totalTokenCount, promptTokensDetails}`` and ``truncated`` only
when the content was cut to the model's input limit.
"""

from __future__ import annotations

import base64
from typing import Any

from ..wire import tokens
from ..wire.call import Call, Operation
from . import embeddings

Wire = dict[str, Any]
OPERATIONS = frozenset({Operation.COUNT_TOKENS, Operation.COMPUTE_TOKENS, Operation.PREDICT, Operation.EMBED})


def answer(call: Call, seed: int) -> Wire:
    """The answer to one of :data:`OPERATIONS`; ``seed`` is the default model's, which embeddings follow."""
    if call.operation is Operation.COUNT_TOKENS:
        return count_tokens(call)
    if call.operation is Operation.COMPUTE_TOKENS:
        return compute_tokens(call)
    if call.operation is Operation.PREDICT:
        return predict(call, seed)
    if call.operation is Operation.EMBED:
        return embed_content(call, seed)
    raise ValueError(f"no Vertex AI answer of this kind: {call.operation.value}")


def count_tokens(call: Call) -> Wire:
    total, details = tokens.prompt_usage(call.body)
    return {
        "totalTokens": total,
        "totalBillableCharacters": billable_characters(call.body),
        "promptTokensDetails": details,
    }


def billable_characters(body: Wire) -> int:
    """What Vertex AI bills of a prompt: the non-whitespace characters of its texts (contents and system
    instruction) and of its functions' names and descriptions; media and schemas are billed otherwise.
    The recordings agree to the character: 25 for "What is the capital of France?", 47 with the system
    instruction "You are a helpful chatbot.", 123 for a prompt of 92, an instruction of 15 and a
    function named ``get_user_country`` (16) whose ``OBJECT`` parameters add nothing."""
    contents = [*body.get("contents", ()), body.get("systemInstruction") or {}]
    texts = [part["text"] for content in contents for part in content.get("parts", ()) if "text" in part]
    for tool in body.get("tools", ()):
        for declaration in tool.get("functionDeclarations", ()):
            texts += [declaration.get("name", ""), declaration.get("description", "")]
    return sum(tokens.billable_characters(text) for text in texts if isinstance(text, str))


def compute_tokens(call: Call) -> Wire:
    """Each content's tokens (the texts of its parts), or each legacy instance's (``prompt`` or ``content``)."""
    infos = []
    for content in call.body.get("contents", ()):
        texts = [part["text"] for part in content.get("parts", ()) if isinstance(part.get("text"), str)]
        infos.append(
            _tokens_info([piece for text in texts for piece in tokens.pieces(text)], content.get("role") or "user")
        )
    for instance in call.body.get("instances", ()):
        text = instance.get("prompt", instance.get("content")) if isinstance(instance, dict) else instance
        if isinstance(text, str):
            infos.append(_tokens_info(tokens.pieces(text), None))
    return {"tokensInfo": infos}


def _tokens_info(pieces: list[str], role: str | None) -> Wire:
    info: Wire = {}
    if pieces:
        info["tokens"] = [base64.b64encode(piece.encode("utf-8", "surrogatepass")).decode() for piece in pieces]
        info["tokenIds"] = [str(tokens.token_id(piece)) for piece in pieces]
    if role:
        info["role"] = role
    return info


def predict(call: Call, seed: int) -> Wire:
    """One embedding per instance (``content``, ``task_type``), of ``parameters.outputDimensionality``;
    a text over the model's input limit is cut to it (``truncated``), as ``autoTruncate`` does by default."""
    parameters = call.body.get("parameters")
    asked = parameters.get("outputDimensionality") if isinstance(parameters, dict) else None
    length = embeddings.size(call.model, asked)
    limit = call.model.inputTokenLimit
    predictions, billed = [], 0
    for instance in call.body.get("instances", ()):
        fields = instance if isinstance(instance, dict) else {"content": instance}
        content = fields.get("content")
        text = content if isinstance(content, str) else ""
        task = fields.get("task_type", fields.get("taskType"))
        count = tokens.count_text(text)
        values = embeddings.vector(call.model.name, seed, {"parts": [{"text": text}]}, task, length)
        statistics = {"token_count": min(count, limit), "truncated": count > limit}
        predictions.append({"embeddings": {"values": values, "statistics": statistics}})
        billed += tokens.billable_characters(text)
    return {"predictions": predictions, "metadata": {"billableCharacterCount": billed}}


def embed_content(call: Call, seed: int) -> Wire:
    """The Gemini embedding models' form: the options at the top or in ``embedContentConfig`` (which wins)."""
    options = {**call.body, **(call.body.get("embedContentConfig") or {})}
    content = call.body.get("content", {})
    length = embeddings.size(call.model, options.get("outputDimensionality"))
    values = embeddings.vector(call.model.name, seed, content, options.get("taskType"), length)
    count, details = tokens.prompt_usage({"contents": [content]})
    counted = min(count, call.model.inputTokenLimit)
    out: Wire = {
        "embedding": {"values": values},
        "usageMetadata": {"promptTokenCount": counted, "totalTokenCount": counted, "promptTokensDetails": details},
    }
    if count > counted:
        out["usageMetadata"]["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": counted}]
        out["truncated"] = True
    return out
