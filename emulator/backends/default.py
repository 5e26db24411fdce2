"""The zero-config model: plausible, deterministic answers derived from the request itself.

Same request in, same answer out (across processes): every choice is drawn from a random
generator seeded by a digest of the canonical request, the model and the configured seed. When the
request declares functions the model calls them, steered by the prompt's wording (the rule lives
in :mod:`.tools`); once the function results are in, it answers text built from them.

Like the real model, an answer stops at ``maxOutputTokens`` (the model's ``outputTokenLimit`` when
unset) with ``finishReason: MAX_TOKENS``, so no request can ask for unbounded output. Answers are
worked out on the event loop for a short slice only; heavy ones (a large body, a schema that takes
long to fill) are worked out again in a worker thread, with the same result.

A Vertex AI call gets Vertex AI's answer: its shape of the same generated content
(:mod:`..generation.vertex_framing`), and its forms of the calls that generate none
(:mod:`..generation.vertex_answers`).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

from ..budget import Budget, Exhausted, Slow, TooComplex, inline_deadline
from ..generation import embeddings, figures, framing, function_calls, instructions, media, replies, vertex_answers
from ..generation.conversation import last_user_text
from ..generation.grounding import Grounding
from ..generation.schema_values import cut_json, value_for_schema
from ..journal import answered_by
from ..offload import HEAVY_BYTES, off_loop
from ..wire import errors, profiles, tokens
from ..wire.call import Call, Operation
from ..wire.profiles import Profile
from .base import Reply, StreamReply

_SENTENCES = (
    "This answer comes from gemini-emulator, so it is the same every time you ask.",
    "Nothing here was produced by a real model, and no network was used.",
    "The words are chosen from the request, which keeps tests repeatable.",
    "Change the prompt or the configuration and the answer changes with it.",
    "Token counts follow a simple documented rule, so usage figures add up.",
    "Streaming splits this text into several chunks that share one response id.",
    "Scripted scenarios and recorded cassettes can replace this default reply.",
    "A longer prompt does not make a longer answer, but a smaller token limit makes a shorter one.",
)
_INLINE_STREAM_CHARS = 32_768
"""Answers longer than this are cut into stream chunks in a worker thread."""
_THOUGHT = "**Considering the request**\n\nI read the conversation and decided how to answer it deterministically."


def _pick(seed: bytes, count: int) -> list[str]:
    """``count`` distinct sentences in an order drawn from ``seed``'s bytes: a Mersenne Twister seeded
    per request (624 words of state) cost more than the rest of the answer."""
    pool = list(_SENTENCES)
    return [pool.pop(seed[i] % len(pool)) for i in range(count)]


def _prose(call: Call, seed: bytes, state: function_calls.Progress | None = None, index: int = 0) -> str:
    """The text answer: what the tools returned, else the answer to a recognised prompt
    (:mod:`..generation.replies`), else an echo of the prompt; then shaped by the system instruction.

    A story's choices are seeded by what shapes it (model, system instruction, temperature,
    candidate; the prompt is added by :func:`..generation.stories.story`) and not by the whole
    request, so that ``maxOutputTokens`` and ``stopSequences`` cut the very story told without them."""
    contents = call.body.get("contents", [])
    system = instructions.system_text(call.body)
    style = instructions.style_of(system)
    first = not any(c.get("role") == "model" for c in contents)
    # Every result of the current user turn, so the answer after several rounds reports them all.
    results = (state if state is not None else function_calls.progress(contents)).results
    if results:
        found = "; ".join(
            f"{r.get('name', 'the function')} returned {json.dumps(r.get('response', {}), ensure_ascii=False)}"
            for r in results
        )
        return instructions.shape(f"Here is what the tools told me: {found}.", style, first=first, cut=False)
    prompt = last_user_text(contents)

    def story_seed() -> bytes:
        temperature = call.body.get("generationConfig", {}).get("temperature")
        shapes = f"{call.model.name}|{system}|{temperature}|{index}".encode("utf-8", "surrogatepass")
        return hashlib.sha256(shapes).digest()

    said = replies.answer(contents, prompt, story_seed, style)
    if said is None:
        spoken = " ".join(prompt.split())
        topic = spoken if len(spoken) <= 80 else spoken[:77] + "..."
        opening = f'You said: "{topic}".' if topic else "You sent no text."
        said = " ".join([opening, *_pick(seed, 3)])
    return instructions.shape(said, style, first=first, prompt=prompt)


def output_limit(call: Call) -> int:
    """Tokens an answer may hold: ``maxOutputTokens``, never more than the model's ``outputTokenLimit``."""
    asked = call.body.get("generationConfig", {}).get("maxOutputTokens")
    limit = call.model.outputTokenLimit
    return max(0, min(int(asked), limit)) if isinstance(asked, (int, float)) else limit


def _structured(config: dict[str, Any], seed: bytes, hint: str, budget: Budget, prompt: str = "") -> tuple[str, bool]:
    """The JSON answer, and whether it ran out of room: then it is the text the real model writes
    before it stops. Values the ``prompt`` names fill the fields they fit (:mod:`..generation.grounding`:
    names, places, dates, quoted text, numbers written next to a field's name, "three recipes" for
    an array's length); the rest is generated, always valid against the schema."""
    limit = budget.tokens or 0
    words = prompt or hint
    try:
        if "responseJsonSchema" in config:
            schema = config["responseJsonSchema"]
            ground = Grounding(words, numbers_in_order=False)
            value = value_for_schema(schema, seed=seed, json_schema=True, hint=words, budget=budget, grounding=ground)
        elif "responseSchema" in config:
            ground = Grounding(words, numbers_in_order=False)
            value = value_for_schema(config["responseSchema"], seed=seed, hint=words, budget=budget, grounding=ground)
        else:
            value = {"response": hint}
    except Exhausted as cut:
        enum = config.get("responseMimeType") == "text/x.enum"
        return cut_json(cut.partial, limit, indent=None if enum else 2), True
    except TooComplex:
        raise errors.invalid_argument(errors.MSG_TOO_MANY_STATES) from None
    if config.get("responseMimeType") == "text/x.enum" and isinstance(value, str):
        return value, False
    return json.dumps(value, ensure_ascii=False, indent=2), False


class Candidate:
    """One candidate's final text or function calls and why it ended, before it is framed as a response.

    Function calls are never cut by ``maxOutputTokens`` or stop sequences: a partial call is no call,
    and clients only ever see whole ones.
    """

    def __init__(
        self,
        text: str,
        finish: str,
        thought: str | None,
        calls: list[dict[str, Any]] | None = None,
        finish_message: str | None = None,
        media: list[dict[str, Any]] | None = None,
        media_tokens: int = 0,
    ) -> None:
        self.text, self.finish, self.thought = text, finish, thought
        self.calls = calls or []
        self.finish_message = finish_message
        self.media, self.media_tokens = media or [], media_tokens

    @property
    def output_tokens(self) -> int:
        count = tokens.count_text(self.text) + self.media_tokens
        if self.calls:  # most answers have none: no generator to run
            count += sum(tokens.count_part(p) for p in self.calls)
        return count

    @classmethod
    def generate(
        cls,
        call: Call,
        seed: bytes,
        index: int,
        deadline: float | None = None,
        state: function_calls.Progress | None = None,
    ) -> Candidate:
        """One candidate; :class:`~emulator.budget.Slow` when it is not done by ``deadline``. ``state`` is
        ``function_calls.progress`` of the contents, when the caller read it once for all candidates."""
        config = call.body.get("generationConfig", {})
        thinking = config.get("thinkingConfig", {})
        thinks = bool(call.model.thinking) and thinking.get("thinkingBudget", -1) != 0
        thought = _THOUGHT if thinks else None
        profile = profiles.on(call.model.profile, call.flavour)
        limit = output_limit(call)
        budget = Budget(limit, deadline=deadline)
        if state is None:
            state = function_calls.progress(call.body.get("contents", []))
        planned = function_calls.calls_to_make(call.body, state, budget)
        if planned:
            # Calls are never cut by maxOutputTokens (a partial call is no call); the model's own limit holds.
            budget.tokens = call.model.outputTokenLimit
            calls = function_calls.call_parts(planned, seed + bytes([index]), budget, ids=profile.call_ids)
            if len(calls) < len(planned):  # out of room: whole calls only, as the real model sends them
                return cls("", "MAX_TOKENS", thought, calls)
            message = function_calls.FINISH_MESSAGE if profile.finish_message else None
            return cls("", "STOP", thought, calls, message)
        prose = _prose(call, hashlib.sha256(seed + bytes([index])).digest() if index else seed, state, index)
        if profile.output != "text" and _answers_with_media(profile, config):
            return cls.with_media(call, seed + bytes([index]), prose, thought)
        cut = False
        if config.get("responseMimeType") in ("application/json", "text/x.enum"):
            prompt = last_user_text(call.body.get("contents", []))
            text, cut = _structured(config, seed + bytes([index]), prose, budget, prompt)
        else:
            text = prose if index == 0 else f"{prose} (Candidate {index + 1}.)"
        finish = "MAX_TOKENS" if cut else "STOP"
        for stop in config.get("stopSequences", ()):
            if stop and stop in text:
                text = text[: text.index(stop)]
        if tokens.count_text(text) > limit:
            text, finish = tokens.truncate(text, limit), "MAX_TOKENS"
        return cls(text, finish, thought)

    @classmethod
    def with_media(cls, call: Call, seed: bytes, prose: str, thought: str | None) -> Candidate:
        """An image model's picture (after a line of text), or a speech model's audio alone."""
        profile = call.model.profile
        if profile.output == "audio":
            said = last_user_text(call.body.get("contents", [])) or prose
            data = media.pcm(seed, media.speech_seconds(said))
            text = ""
        else:
            data = media.jpeg(seed) if profile.media_type == "image/jpeg" else media.png(seed)
            modalities = call.body.get("generationConfig", {}).get("responseModalities")
            text = "" if modalities == ["IMAGE"] else "Here is the image you asked for."
        part = {"inlineData": {"mimeType": profile.media_type, "data": base64.b64encode(data).decode()}}
        return cls(text, "STOP", thought, media=[part], media_tokens=figures.media_tokens(profile, part["inlineData"]))

    def parts(self, text: str, include_thought: bool, calls: bool = True) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        if include_thought and self.thought:
            parts.append({"text": self.thought, "thought": True})
        if text:
            parts.append({"text": text})
        if calls and (self.calls or self.media):  # most answers are text alone: nothing to copy
            parts += [copy.deepcopy(p) for p in self.calls] + [copy.deepcopy(p) for p in self.media]
        return parts


class DefaultBackend:
    """Answers every model method with no configuration at all."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    async def answer(self, call: Call) -> Reply | StreamReply:
        answered_by("default")
        if call.size > HEAVY_BYTES:
            return await off_loop(self.answer_now, call)
        try:
            return self.answer_now(call, inline_deadline())
        except Slow:
            return await off_loop(self.answer_now, call)

    def answer_now(self, call: Call, deadline: float | None = None) -> Reply | StreamReply:
        """The whole answer, worked out at once (a stream's chunks are only framed when sent);
        :class:`~emulator.budget.Slow` when ``deadline`` passes first."""
        if call.vertex and call.operation in vertex_answers.OPERATIONS:
            return Reply(vertex_answers.answer(call, self.seed))
        if call.operation is Operation.COUNT_TOKENS:
            return Reply(self._count(call))
        if call.operation is Operation.EMBED:
            return Reply({"embedding": self._embed(call, call.body)})
        if call.operation is Operation.BATCH_EMBED:
            return Reply({"embeddings": [self._embed(call, r) for r in call.body.get("requests", [])]})
        seed = framing.digest(call, self.seed)
        candidates = _candidates(call, seed, deadline)
        if call.streaming:
            if deadline is not None and sum(len(c.text) for c in candidates) > _INLINE_STREAM_CHARS:
                raise Slow("a long answer is cut into chunks off the loop")
            per_chunk = profiles.on(call.model.profile, call.flavour).chunk_tokens
            pieces = [framing.split_text(c.text, per_chunk) for c in candidates]
            return StreamReply(self._stream(call, seed, candidates, pieces, framing.prompt_of(call)))
        return Reply(self._unary(call, seed, candidates))

    def _unary(self, call: Call, seed: bytes, candidates: list[Candidate]) -> dict[str, Any]:
        include = _include_thoughts(call)
        output = thoughts = 0
        for c in candidates:
            output += c.output_tokens
            if c.thought:
                thoughts += tokens.count_text(c.thought)
        return framing.response(
            call,
            framing.response_id(seed),
            [_candidate(i, c.parts(c.text, include), c.finish, c.finish_message) for i, c in enumerate(candidates)],
            framing.usage(framing.prompt_of(call), output, thoughts),
        )

    async def _stream(
        self,
        call: Call,
        seed: bytes,
        candidates: list[Candidate],
        pieces: list[list[str]],
        prompt: framing.Prompt,
    ) -> AsyncIterator[dict[str, Any]]:
        """Thoughts first, then text in pieces; a candidate's function calls all ride whole on the last chunk."""
        rid = framing.response_id(seed)
        thoughts = sum(tokens.count_text(c.thought) for c in candidates if c.thought)
        if _include_thoughts(call) and thoughts:
            first = [_candidate(i, c.parts("", True, calls=False), None) for i, c in enumerate(candidates)]
            yield framing.response(call, rid, first, framing.usage(prompt, 0, thoughts))
        steps = max(len(p) for p in pieces)
        closing = profiles.on(call.model.profile, call.flavour).closing_chunk
        if call.vertex and any(c.calls for c in candidates):
            # Vertex's closing text is signed in every recording; an unsigned one would be refused when a
            # client sends the turn back (its empty-text rule), so a call's finish rides with the call.
            closing = False
        emitted = 0
        for step in range(steps):
            last = step == steps - 1
            chunk = []
            for i, (cand, parts) in enumerate(zip(candidates, pieces, strict=False)):
                text = parts[step] if step < len(parts) else ""
                out = [{"text": text}] if text else []
                emitted += tokens.count_text(text)
                if last:
                    out += [copy.deepcopy(p) for p in cand.calls] + [copy.deepcopy(p) for p in cand.media]
                    emitted += sum(tokens.count_part(p) for p in cand.calls) + cand.media_tokens
                ends = last and not closing
                if out or ends:
                    finish = (cand.finish, cand.finish_message) if ends else (None, None)
                    chunk.append(_candidate(i, out, *finish))
            if chunk:
                yield framing.response(call, rid, chunk, framing.usage(prompt, emitted, thoughts))
        if closing:  # gemini 3 ends a stream with an empty text that carries the finish
            end = [_candidate(i, [{"text": ""}], c.finish) for i, c in enumerate(candidates)]
            yield framing.response(call, rid, end, framing.usage(prompt, emitted, thoughts))

    def _count(self, call: Call) -> dict[str, Any]:
        body = call.body.get("generateContentRequest", call.body)
        total, details = tokens.prompt_usage(body)
        return {"totalTokens": total, "promptTokensDetails": details}

    def _embed(self, call: Call, request: dict[str, Any]) -> dict[str, Any]:
        # The Developer API's options are at the top; Vertex AI's batchEmbedContents carries them in each
        # request's embedContentConfig (which wins, as in its embedContent).
        options = {**request, **(request.get("embedContentConfig") or {})}
        size = embeddings.size(call.model, options.get("outputDimensionality"))
        vector = embeddings.vector(call.model.name, self.seed, request.get("content"), options.get("taskType"), size)
        return {"values": vector}


def _answers_with_media(profile: Profile, config: dict[str, Any]) -> bool:
    """Speech models always speak; image models draw unless asked for text alone."""
    modalities = config.get("responseModalities")
    return profile.output == "audio" or not modalities or "IMAGE" in modalities


def _candidates(call: Call, seed: bytes, deadline: float | None = None) -> list[Candidate]:
    asked = int(call.body.get("generationConfig", {}).get("candidateCount", 1))
    count = max(1, min(asked, call.model.emulator.max_candidate_count))  # lenient mode skips the range rule
    state = function_calls.progress(call.body.get("contents", []))  # the same for every candidate
    return [Candidate.generate(call, seed, i, deadline, state) for i in range(count)]


def _candidate(index: int, parts: list[dict[str, Any]], finish: str | None, message: str | None = None) -> Any:
    return framing.candidate(index, parts, finish, **({"finishMessage": message} if finish and message else {}))


def _include_thoughts(call: Call) -> bool:
    return bool(call.body.get("generationConfig", {}).get("thinkingConfig", {}).get("includeThoughts"))
