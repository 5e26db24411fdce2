"""Turns a rule's ``reply`` into wire JSON: a unary body, or stream chunks with their token weights.

Framing comes from :mod:`emulator.generation.framing`, shared with the default and callable models:
role "model", an ``index`` on every candidate, one ``responseId`` and ``modelVersion`` for every
chunk, usage where totalTokenCount = prompt + candidates + thoughts. Streams carry running
candidate counts, send each text part in pieces and every other part whole, put each candidate's
finishReason on its last piece, and never send an empty text part. Thought parts are sent only
when the request asks for them (``includeThoughts``), as the real service does; their tokens are
counted either way. Thought signatures for Gemini-3-like models are added by the server's signer,
not here; a signature written in the scenario is sent as is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..generation import framing
from ..generation.framing import Prompt
from ..wire import tokens
from ..wire.call import Call
from . import templates
from .actions import Candidate, Part, Reply, StreamPlan, Usage

Wire = dict[str, Any]
_WORD = re.compile(r"\S+")


@dataclass
class Built:
    """One candidate after templates: its wire parts (thoughts already filtered) and its ending."""

    index: int
    parts: list[Wire]
    finish: str
    finish_message: str | None
    thought_tokens: int
    pieces: list[str] | None = field(default=None)

    def wire(self, parts: list[Wire], final: bool) -> Wire:
        if not final:
            return framing.candidate(self.index, parts)
        extra = {"finishMessage": self.finish_message} if self.finish_message else {}
        return framing.candidate(self.index, parts, self.finish, **extra)


def part_json(spec: Part, context: Mapping[str, Any]) -> Wire | None:
    """The wire form of one scripted part, or None for text that rendered empty."""
    out: Wire
    if spec.text is not None or spec.thought is not None:
        text = templates.render(spec.text if spec.text is not None else spec.thought or "", context)
        if not text and spec.thought_signature is None:
            return None
        out = {"text": text, "thought": True} if spec.thought is not None else {"text": text}
    elif spec.function_call is not None:
        call: Wire = {"name": spec.function_call.name, "args": templates.render_value(spec.function_call.args, context)}
        if spec.function_call.id:
            call["id"] = spec.function_call.id
        out = {"functionCall": call}
    elif spec.inline_data is not None:
        out = {"inlineData": {"mimeType": spec.inline_data.mime_type, "data": spec.inline_data.data}}
    elif spec.executable_code is not None:
        code = spec.executable_code
        out = {"executableCode": {"language": code.language, "code": templates.render(code.code, context)}}
    else:
        assert spec.code_execution_result is not None
        result = spec.code_execution_result
        out = {"codeExecutionResult": {"outcome": result.outcome, "output": templates.render(result.output, context)}}
    if spec.thought_signature is not None:
        out["thoughtSignature"] = spec.thought_signature
    return out


def _content(spec: Candidate, context: Mapping[str, Any]) -> list[Wire]:
    if spec.text is not None:
        text = templates.render(spec.text, context)
        return [{"text": text}] if text else []
    if "json_value" in spec.model_fields_set:
        return [{"text": json.dumps(templates.render_value(spec.json_value, context), ensure_ascii=False)}]
    rendered = (part_json(p, context) for p in spec.parts or ())
    return [p for p in rendered if p is not None]


def build(reply: Reply, call: Call, context: Mapping[str, Any]) -> list[Built]:
    """Every candidate of a reply, rendered; raises TemplateError when a placeholder has no value."""
    show_thoughts = bool(call.body.get("generationConfig", {}).get("thinkingConfig", {}).get("includeThoughts"))
    built = []
    for index, spec in enumerate(reply.all_candidates()):
        pieces = None
        if reply.stream is not None and reply.stream.chunks is not None:
            pieces = [piece for piece in (templates.render(c, context) for c in reply.stream.chunks) if piece]
            parts = [{"text": "".join(pieces)}] if pieces else []
        else:
            parts = _content(spec, context)
        _, thoughts = framing.output_tokens(parts)
        visible = [p for p in parts if show_thoughts or not p.get("thought")]
        message = templates.render(spec.finish_message, context) if spec.finish_message else None
        built.append(Built(index, visible, spec.finish_reason or "STOP", message, thoughts, pieces))
    return built


def usage(prompt: Prompt, output: int, thoughts: int, override: Usage | None) -> Wire:
    """usageMetadata; a scenario's overrides replace the computed figures (the total follows them)."""
    if override is None:
        return framing.usage(prompt, output, thoughts)
    if override.prompt_token_count is not None:
        prompt = (override.prompt_token_count, [{"modality": "TEXT", "tokenCount": override.prompt_token_count}])
    output = output if override.candidates_token_count is None else override.candidates_token_count
    thoughts = thoughts if override.thoughts_token_count is None else override.thoughts_token_count
    out = framing.usage(prompt, output, thoughts)
    if override.cached_content_token_count is not None:
        out = {
            "promptTokenCount": out.pop("promptTokenCount"),
            "cachedContentTokenCount": override.cached_content_token_count,
            **out,
        }
    if override.total_token_count is not None:
        out["totalTokenCount"] = override.total_token_count
    return out


def response(call: Call, reply: Reply, seed: bytes, candidates: list[Wire], usage_metadata: Wire) -> Wire:
    body = framing.response(call, framing.response_id(seed), candidates, usage_metadata)
    if reply.model_version:
        body["modelVersion"] = reply.model_version
    return body


def unary(call: Call, reply: Reply, built: list[Built], seed: bytes) -> Wire:
    output = sum(framing.output_tokens(b.parts)[0] for b in built)
    thoughts = sum(b.thought_tokens for b in built)
    metadata = usage(framing.prompt_of(call), output, thoughts, reply.usage)
    return response(call, reply, seed, [b.wire(b.parts, True) for b in built], metadata)


def split(text: str, plan: StreamPlan) -> list[str]:
    """Cuts text into pieces of ``plan.size`` units; the pieces always join back to the text."""
    if plan.split == "characters":
        size = plan.size or 1
        return [text[i : i + size] for i in range(0, len(text), size)] or [text]
    if plan.split == "words":
        starts = [m.start() for m in _WORD.finditer(text)]
        cuts = starts[:: plan.size or 1][1:]
    else:
        return framing.split_text(text, plan.size or framing.CHUNK_TOKENS)
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a] or [text]


def _pieces(candidate: Built, plan: StreamPlan) -> list[list[tuple[int, Wire]]]:
    """Per chunk, the (part number, part piece) pairs of one candidate; non-text parts travel whole."""
    if candidate.pieces is not None:
        return [[(0, {"text": piece})] for piece in candidate.pieces] or [[]]
    out: list[list[tuple[int, Wire]]] = []
    whole: list[tuple[int, Wire]] = []
    for number, part in enumerate(candidate.parts):
        if "text" not in part:
            whole.append((number, part))
            continue
        if whole:
            out, whole = [*out, whole], []
        for i, piece in enumerate(split(part["text"], plan)):
            cut = {**part, "text": piece}
            if i:
                cut.pop("thoughtSignature", None)
            out.append([(number, cut)])
    if whole:
        out.append(whole)
    return out or [[]]


def chunks(call: Call, reply: Reply, built: list[Built], seed: bytes) -> Iterator[tuple[Wire, int]]:
    """Stream chunks with the tokens each adds (for pacing); the last piece of a candidate ends it."""
    plan = reply.stream or StreamPlan()
    prompt = framing.prompt_of(call)
    planned = [_pieces(b, plan) for b in built]
    thoughts = sum(b.thought_tokens for b in built)
    sent: dict[tuple[int, int], Wire] = {}
    for step in range(max(len(p) for p in planned)):
        listed = []
        for candidate, pieces in zip(built, planned, strict=True):
            if step >= len(pieces):
                continue
            for number, piece in pieces[step]:
                key = (candidate.index, number)
                sent[key] = {**piece, "text": sent[key]["text"] + piece["text"]} if key in sent else piece
            listed.append(candidate.wire([p for _, p in pieces[step]], step == len(pieces) - 1))
        output, _ = framing.output_tokens(list(sent.values()))
        weight = sum(tokens.count_part(p) for c in listed for p in c.get("content", {}).get("parts", ()))
        yield response(call, reply, seed, listed, usage(prompt, output, thoughts, reply.usage)), weight
