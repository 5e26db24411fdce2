"""Chat history semantics of the real SDK, checked step by step against a reference model.

A hypothesis state machine drives ``client.chats`` / ``client.aio.chats`` sessions through random
sequences of messages (text, multi-part with images, function responses), answered unary or
streamed, with replies that succeed, call tools (answered by hand or by the SDK's automatic
function calling), or fail in every way the service fails: a blocked prompt, a candidate without
content, MAX_TOKENS with no parts, an error before the stream, an error mid-stream, streams whose
chunks do not all validate. The reference model below is written from the SDK's documented rules
(the brief's §6.1 and §5, about ``google/genai/chats.py`` and ``_extra_utils.py`` of google-genai
3.6.1), and after every step the machine checks

* ``chat.get_history(curated=True)`` and ``get_history(curated=False)`` against the model, and
* the emulator's journal: every request of the step carried exactly the curated history plus the
  new message (plus, under automatic function calling, the rounds of this message so far), and the
  config of this message (a per-message config replaces the chat's, it is not merged).

Answers are scripted per step through the control plane (``PUT /_emulator/scenario`` and
``PUT /_emulator/faults`` on the run's own API key), so the model knows exactly what the server
sent without hard-coding any text. Response shapes no model writes (a chunk without candidates, a
content without parts, an empty ``Part()``) are scenario replies of raw bodies, sent verbatim, so
every step runs against any emulator (``GEMINI_EMULATOR_URL``) as against the suite's own.

Where the SDK's behaviour differs from the brief's wording the model follows the SDK and says so
in a comment marked ``SDK:``. In short: a content without parts is recorded as it came (not as the
``parts=[]`` placeholder); ``chats.create(history=chat.get_history())`` curates differently from
the live chat (it keeps streams without a finish reason); a failed automatic-function-calling turn
keeps its executed rounds; and a streamed AFC round that ends on a chunk without content is dropped
by the sync chat, or leaves function responses without their calls in the async chat's curated
history, which the service then rejects.
"""

from __future__ import annotations

import asyncio
import base64
import json
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import harness
import pytest
from google import genai
from google.genai import types
from hypothesis import Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

pytestmark = pytest.mark.conformance("chat history")

MODEL = "gemini-2.5-flash"  # no thought signatures: the model's content comes back byte for byte
DEFAULT_REMOTE_CALLS = 10  # §5: maximum_remote_calls when the config does not say
STEPS = 40
# The profile (ci: 40 derandomized examples; dev; deep) decides how many runs; this sets their length, and
# leaves out the explain phase, whose line tracing of the SDK, aiohttp and the server makes a failing
# run take many minutes; one bug at a time is shrunk.
SETTINGS = settings(
    stateful_step_count=STEPS,
    phases=[phase for phase in settings().phases if phase is not Phase.explain],
    report_multiple_bugs=False,
)
PNG = b"\x89PNG\r\n\x1a\n"
Wire = dict[str, Any]


# --------------------------------------------------------------------------------------------------
# The server: the control plane of one API key (one context).


class Control:
    """The control plane, for one API key (one context)."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key

    def call(self, method: str, name: str, body: Any = None) -> Any:
        return harness.control(self.url, self.key, method, name, body)

    def journal(self) -> list[Wire]:
        return harness.journal(self.url, self.key)


# --------------------------------------------------------------------------------------------------
# What the SDK receives, and the SDK's notion of a valid content (§6.1).


def dump(content: types.Content) -> Wire:
    return content.model_dump(mode="json", exclude_none=True)


def dumps(contents: list[types.Content]) -> list[Wire]:
    return [dump(c) for c in contents]


def content_valid(content: types.Content) -> bool:
    """§6.1: non-empty ``parts`` and no part equal to an empty ``Part()`` (``{"text": ""}`` is fine)."""
    return bool(content.parts) and all(part != types.Part() for part in content.parts or ())


@dataclass(frozen=True)
class Sent:
    """One response body or stream chunk as the SDK sees it: did it have candidates, candidate 0's
    content and finish reason."""

    candidates: bool
    content: types.Content | None
    finish: str | None

    @property
    def valid(self) -> bool:
        """§6.1 ``_validate_response``: candidates, and candidate 0 has a valid content."""
        return self.candidates and self.content is not None and content_valid(self.content)

    def view(self) -> tuple[bool, Wire | None, str | None]:
        return self.candidates, dump(self.content) if self.content is not None else None, self.finish

    @classmethod
    def of_wire(cls, body: Wire) -> Sent:
        candidates = body.get("candidates") or []
        if not candidates:
            return cls(False, None, None)
        first = candidates[0]
        content = types.Content.model_validate(first["content"]) if "content" in first else None
        return cls(True, content, first.get("finishReason"))

    @classmethod
    def of_response(cls, response: types.GenerateContentResponse) -> Sent:
        if not response.candidates:
            return cls(False, None, None)
        first = response.candidates[0]
        finish = first.finish_reason.value if first.finish_reason is not None else None
        return cls(True, first.content, finish)


def model_content(parts: list[types.Part]) -> types.Content:
    return types.Content(role="model", parts=parts)


def text_content(text: str) -> types.Content:
    return model_content([types.Part(text=text)])


def looked_up(key: str) -> str:
    """What the tool returns; the reference model uses the same function to predict the responses."""
    return f"value of {key}"


def make_lookup(log: list[str]) -> Callable[[str], str]:
    """A closure, not a method: the async SDK deep-copies the config, and a bound method with it."""

    def lookup(key: str) -> str:
        """Looks a key up."""
        log.append(key)
        return looked_up(key)

    return lookup


LOOKUP_DECLARATION = types.Tool(
    function_declarations=[
        types.FunctionDeclaration(
            name="lookup",
            description="Looks a key up.",
            parameters_json_schema={"type": "object", "properties": {"key": {"type": "string"}}, "required": ["key"]},
        )
    ]
)


# --------------------------------------------------------------------------------------------------
# Outcomes: what one request is answered with. Each says how to script it and what the SDK receives.


class Outcome:
    """One request's answer: a scenario rule (maybe with a fault)."""

    def rule(self) -> Wire:
        raise NotImplementedError

    def fault(self) -> Wire | None:
        return None

    def received(self, stream: bool) -> list[Sent]:
        """The bodies (one, unary) or chunks (stream) the SDK gets before any error."""
        raise NotImplementedError

    def error(self, stream: bool) -> int | None:
        """The HTTP or mid-stream error code raised after ``received``, if any."""
        return None

    def calls(self) -> list[types.FunctionCall]:
        return []


@dataclass(frozen=True)
class TextReply(Outcome):
    """Text in explicit stream pieces: one chunk per piece; the unary answer is the pieces joined."""

    pieces: tuple[str, ...]

    def rule(self) -> Wire:
        return {"reply": {"stream": {"chunks": list(self.pieces)}}}

    def received(self, stream: bool) -> list[Sent]:
        if not stream:
            return [Sent(True, text_content("".join(self.pieces)), "STOP")]
        last = len(self.pieces) - 1
        return [Sent(True, text_content(p), "STOP" if i == last else None) for i, p in enumerate(self.pieces)]


@dataclass(frozen=True)
class Truncated(Outcome):
    """A stream that loses its final chunk (fault ``truncate``): no finishReason. Unary is untouched."""

    text: TextReply

    def rule(self) -> Wire:
        return self.text.rule()

    def fault(self) -> Wire:
        return {"kind": "truncate", "after_chunks": 10_000}

    def received(self, stream: bool) -> list[Sent]:
        sent = self.text.received(stream)
        return sent[:-1] if stream else sent


@dataclass(frozen=True)
class FinishedAs(Outcome):
    """The last body ends with ``reason`` (fault ``finish``): MAX_TOKENS keeps its content, the others
    lose it, so a stream's final chunk has a candidate without content."""

    text: TextReply
    reason: str

    def rule(self) -> Wire:
        return self.text.rule()

    def fault(self) -> Wire:
        return {"kind": "finish", "finish_reason": self.reason}

    def received(self, stream: bool) -> list[Sent]:
        sent = self.text.received(stream)
        last = sent[-1]
        return [*sent[:-1], Sent(True, last.content if self.reason == "MAX_TOKENS" else None, self.reason)]


@dataclass(frozen=True)
class Midstream(Outcome):
    """A stream that fails with ``code`` after ``after`` chunks; a unary call gets the error at once."""

    text: TextReply
    after: int
    code: int

    def rule(self) -> Wire:
        return {**self.text.rule(), "error": {"code": self.code, "after_chunks": self.after}}

    def received(self, stream: bool) -> list[Sent]:
        return self.text.received(True)[: self.after] if stream else []

    def error(self, stream: bool) -> int:
        return self.code


@dataclass(frozen=True)
class PartsReply(Outcome):
    """A multi-part reply: one-word texts, images, function calls. Streamed, each text part is a chunk
    and a run of other parts travels whole in one chunk (the emulator never cuts non-text parts)."""

    parts: tuple[types.Part, ...]

    def rule(self) -> Wire:
        return {"reply": {"parts": [part_spec(p) for p in self.parts], "stream": {"split": "words"}}}

    def received(self, stream: bool) -> list[Sent]:
        if not stream:
            return [Sent(True, model_content(list(self.parts)), "STOP")]
        chunks: list[list[types.Part]] = []
        run: list[types.Part] = []
        for part in self.parts:
            if part.text is None:
                run.append(part)
                continue
            if run:
                chunks, run = [*chunks, run], []
            chunks.append([part])
        if run:
            chunks.append(run)
        last = len(chunks) - 1
        return [Sent(True, model_content(c), "STOP" if i == last else None) for i, c in enumerate(chunks)]

    def calls(self) -> list[types.FunctionCall]:
        return [p.function_call for p in self.parts if p.function_call is not None]


def part_spec(part: types.Part) -> Wire:
    """A Part as a scenario writes it."""
    if part.text is not None:
        return {"text": part.text}
    if part.function_call is not None:
        call = part.function_call
        return {"function_call": {"name": call.name, "args": call.args, **({"id": call.id} if call.id else {})}}
    assert part.inline_data is not None and part.inline_data.data is not None
    data = base64.b64encode(part.inline_data.data).decode()
    return {"inline_data": {"mime_type": part.inline_data.mime_type, "data": data}}


@dataclass(frozen=True)
class Blocked(Outcome):
    """A blocked prompt: HTTP 200 with promptFeedback and no candidates (streamed: one such chunk)."""

    reason: str

    def rule(self) -> Wire:
        return {"block": self.reason}

    def received(self, stream: bool) -> list[Sent]:
        return [Sent(False, None, None)]


@dataclass(frozen=True)
class NoContent(Outcome):
    """A candidate with a finish reason and no content (MAX_TOKENS with no parts, SAFETY, ...)."""

    finish: str

    def rule(self) -> Wire:
        return {"reply": {"finish_reason": self.finish}}

    def received(self, stream: bool) -> list[Sent]:
        return [Sent(True, None, self.finish)]


@dataclass(frozen=True)
class Failure(Outcome):
    """An HTTP error before any content (before the stream starts, for a stream)."""

    code: int

    def rule(self) -> Wire:
        return {"error": {"code": self.code}}

    def received(self, stream: bool) -> list[Sent]:
        return []

    def error(self, stream: bool) -> int:
        return self.code


@dataclass(frozen=True)
class Raw(Outcome):
    """Bodies sent verbatim (a scenario reply of ``raw`` bodies): every chunk of a stream, the first
    body for unary."""

    bodies: tuple[Wire, ...]

    def rule(self) -> Wire:
        return {"reply": {"raw": list(self.bodies)}}

    def received(self, stream: bool) -> list[Sent]:
        return [Sent.of_wire(b) for b in (self.bodies if stream else self.bodies[:1])]


# --------------------------------------------------------------------------------------------------
# Configs: the chat's, or one message's (which replaces the chat's for that message).


@dataclass(frozen=True)
class Setup:
    """A config as the machine sees it. ``tools``: None, "callable" (AFC) or "declared" (manual)."""

    system: str | None = None
    temperature: float | None = None
    tools: str | None = None
    disable_afc: bool = False
    remote_calls: int | None = None
    none: bool = False  # no config object at all (only for a chat; a message's None means "the chat's")

    def config(self, tool: Callable[[str], str]) -> types.GenerateContentConfig | None:
        if self.none:
            return None
        tools: list[Any] | None = None
        if self.tools == "callable":
            tools = [tool]
        elif self.tools == "declared":
            tools = [LOOKUP_DECLARATION]
        afc = None
        if self.disable_afc or self.remote_calls is not None:
            afc = types.AutomaticFunctionCallingConfig(
                disable=True if self.disable_afc else None, maximum_remote_calls=self.remote_calls
            )
        return types.GenerateContentConfig(
            system_instruction=self.system, temperature=self.temperature, tools=tools, automatic_function_calling=afc
        )

    @property
    def afc(self) -> bool:
        """§5: callables in the tools and not disabled; maximum_remote_calls <= 0 also disables it."""
        return (
            self.tools == "callable" and not self.disable_afc and (self.remote_calls is None or self.remote_calls > 0)
        )

    @property
    def budget(self) -> int:
        return self.remote_calls if self.remote_calls is not None else DEFAULT_REMOTE_CALLS


# --------------------------------------------------------------------------------------------------
# The reference model.


def curate(history: list[types.Content]) -> list[types.Content]:
    """§6.1 initial curation: user turns are kept; a run of model turns is kept only if every content
    in it is valid, otherwise the run and the user turn before it are dropped."""
    curated: list[types.Content] = []
    i = 0
    while i < len(history):
        if history[i].role == "user":
            curated.append(history[i])
            i += 1
            continue
        run = []
        while i < len(history) and history[i].role == "model":
            run.append(history[i])
            i += 1
        if all(content_valid(c) for c in run):
            curated.extend(run)
        elif curated and curated[-1].role == "user":
            curated.pop()
    return curated


@dataclass
class Prediction:
    """What one message should cause: the contents of each request, what the caller receives (every
    stream chunk of every round, or the final unary response), the error, and the tool calls run."""

    requests: list[list[types.Content]] = field(default_factory=list)
    received: list[Sent] = field(default_factory=list)
    error: int | None = None
    message: str | None = None  # the error's text, when the model knows it
    executed: list[str] = field(default_factory=list)


MSG_CALL_AFTER_USER = (
    "Please ensure that function call turn comes immediately after a user turn or after a function response turn."
)
MSG_RESPONSE_AFTER_CALL = "Please ensure that function response turn comes immediately after a function call turn."
MSG_COUNTS = (
    "Please ensure that the number of function response parts is equal to the number of function call parts "
    "of the function call turn."
)


def turn_order_error(contents: list[types.Content]) -> str | None:
    """The service's function-turn rules (brief §4.3), on turns where consecutive model contents (one
    per streamed chunk) are one turn: a call turn follows a user turn, a response turn follows a call
    turn, with as many responses as calls. Such a request is rejected with 400 before it is journaled.

    The SDK can send such a request itself: ``chats.create(history=chat.get_history())`` re-curates the
    comprehensive history, which keeps a stream that ended without a finish reason (every chunk of it
    is a valid content); the live chat had left it out. Answering a function call again after that
    puts a response turn after a text turn."""
    turns: list[tuple[str, list[types.Content]]] = []
    for content in contents:
        if turns and content.role == "model" and turns[-1][0] == "model":
            turns[-1][1].append(content)
        else:
            turns.append((content.role or "user", [content]))
    previous: tuple[str, list[types.Content]] | None = None
    for role, turn in turns:
        calls = sum(p.function_call is not None for c in turn for p in c.parts or ())
        responses = sum(p.function_response is not None for c in turn for p in c.parts or ())
        if calls and (previous is None or previous[0] != "user"):
            return MSG_CALL_AFTER_USER
        if responses:
            called = 0
            if previous is not None and previous[0] == "model":
                called = sum(p.function_call is not None for c in previous[1] for p in c.parts or ())
            if not called:
                return MSG_RESPONSE_AFTER_CALL
            if called != responses:
                return MSG_COUNTS
        previous = (role, turn)
    return None


@dataclass
class Reference:
    comprehensive: list[types.Content]
    curated: list[types.Content]

    @classmethod
    def of(cls, history: list[types.Content]) -> Reference:
        return cls(list(history), curate(history))

    def pending(self) -> list[types.FunctionCall]:
        """The function calls of the model turn that ends the curated history, if it ends with one."""
        run: list[types.Content] = []
        for content in reversed(self.curated):
            if content.role != "model":
                break
            run.insert(0, content)
        return [p.function_call for c in run for p in c.parts or () if p.function_call is not None]

    def record(self, message: types.Content, output: list[types.Content], valid: bool) -> None:
        """§6.1: the input and the model output go to the comprehensive history, and to the curated one
        only when valid. SDK: the placeholder ``Content(role="model", parts=[])`` stands in only when no
        body had a content at all (no candidates, or a candidate without content). A content without
        parts (``{"role": "model"}``) is recorded as it came, ``parts=None``; the brief lumps it in
        with the placeholder cases."""
        turn = [message, *(output or [types.Content(role="model", parts=[])])]
        self.comprehensive.extend(turn)
        if valid:
            self.curated.extend(turn)

    def send(
        self, message: types.Content, setup: Setup, plan: list[Outcome], stream: bool, is_async: bool
    ) -> Prediction:
        """One send_message / send_message_stream, with automatic function calling when ``setup.afc``.

        §6.1: every request carries the whole curated history plus the message. An error (before or
        during a stream) records nothing for that request. Unary: the output is candidate 0's content,
        valid when the response is. Stream: one content per chunk that has one (not merged), valid only
        if every chunk validates, some chunk has a finish reason and there is output.
        §5 (AFC): each response uses one of ``maximum_remote_calls``; when none is left, or the response
        calls nothing, it is recorded and the turn ends. Otherwise the calls run, the round is recorded
        as (input, the round's model contents), the input becomes the user content of the function
        responses (``{"result": value}``, no id), and both are appended to the next request. A streamed
        round is valid when every chunk validates and one has a finish reason.
        """
        prediction = Prediction()
        contents = [*self.curated, message]
        budget = setup.budget
        for outcome in plan:
            prediction.message = turn_order_error(contents)
            if prediction.message is not None:
                prediction.error = 400
                return prediction
            prediction.requests.append(list(contents))
            sent = outcome.received(stream)
            prediction.received = [*prediction.received, *sent] if stream else sent
            prediction.error = outcome.error(stream)
            if prediction.error is not None:
                return prediction
            output = [s.content for s in sent if s.candidates and s.content is not None]
            if stream:
                valid = bool(output) and all(s.valid for s in sent) and any(s.finish for s in sent)
            else:
                valid = sent[0].valid
            budget -= 1
            calls = [p.function_call for c in output for p in c.parts or () if p.function_call is not None]
            if not setup.afc or budget <= 0 or not calls:
                self.record(message, output, valid)
                return prediction
            key = [str((call.args or {})["key"]) for call in calls]
            prediction.executed += key
            results = types.Content(
                role="user",
                parts=[
                    types.Part.from_function_response(name=call.name or "", response={"result": looked_up(k)})
                    for call, k in zip(calls, key, strict=True)
                ],
            )
            if stream and not is_async and not (sent[-1].candidates and sent[-1].content is not None):
                # SDK: the sync send_message_stream records a round, and adds it to the next request, only
                # when the round's last chunk has a content (async: always). After a trailing chunk
                # without one (a usage-only chunk, say) the functions have run but their calls and
                # results are dropped: the model is asked again with the same contents.
                continue
            # SDK: the async stream records a round that had no finish reason, or a chunk that failed
            # validation, in the comprehensive history only, yet the final answer that follows it is
            # curated: the curated history then holds function responses without their calls, and the
            # service rejects the next request (see turn_order_error).
            contents += [*output, results]
            self.record(message, output, valid)
            message = results
        raise AssertionError("the plan ran out of answers")


# --------------------------------------------------------------------------------------------------
# Strategies.

WORD = st.text(alphabet=string.ascii_letters + string.digits + "éß.,!?'-", min_size=1, max_size=8)
PIECE = st.text(alphabet=string.ascii_letters + string.digits + " éß.,!?'-", min_size=1, max_size=12)
USER_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20)
KEY = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=6)
CALL_ID = st.none() | st.from_regex(r"[a-z0-9]{8}", fullmatch=True)
IMAGE = st.binary(max_size=24).map(lambda b: types.Part.from_bytes(data=PNG + b, mime_type="image/png"))

text_replies = st.lists(PIECE, min_size=1, max_size=4).map(lambda p: TextReply(tuple(p)))
call_parts = st.builds(
    lambda key, call_id: types.Part(function_call=types.FunctionCall(name="lookup", args={"key": key}, id=call_id)),
    KEY,
    CALL_ID,
)
plain_parts = st.one_of(WORD.map(lambda w: types.Part(text=w)), IMAGE)


def parts_replies(calls: bool) -> st.SearchStrategy[PartsReply]:
    part = st.one_of(plain_parts, call_parts) if calls else plain_parts
    return st.lists(part, min_size=1, max_size=3).map(lambda p: PartsReply(tuple(p)))


# A calling round of automatic function calling: maybe a word first, then one or two calls.
rounds = st.builds(
    lambda lead, calls: PartsReply(tuple([*lead, *calls])),
    st.lists(WORD.map(lambda w: types.Part(text=w)), max_size=1),
    st.lists(call_parts, min_size=1, max_size=2),
)


def scripted_outcomes(calls: bool) -> st.SearchStrategy[Outcome]:
    """Every scripted answer; ``calls``: whether the reply may contain function calls."""
    return st.one_of(
        text_replies,
        parts_replies(calls),
        st.sampled_from(["SAFETY", "OTHER", "PROHIBITED_CONTENT"]).map(Blocked),
        st.sampled_from(["MAX_TOKENS", "SAFETY", "RECITATION"]).map(NoContent),
        st.sampled_from([400, 403, 404, 429, 500, 503]).map(Failure),
        st.builds(Midstream, text_replies, st.integers(1, 4), st.sampled_from([429, 500, 503])),
        st.builds(Truncated, text_replies),
        st.builds(FinishedAs, text_replies, st.sampled_from(["MAX_TOKENS", "SAFETY", "RECITATION"])),
    )


def _candidate(content: Wire | None, finish: str | None) -> Wire:
    return {
        "candidates": [
            {**({"content": content} if content is not None else {}), **({"finishReason": finish} if finish else {})}
        ]
    }


@st.composite
def raw_chunk(draw: st.DrawFn) -> Wire:
    """One body of a shape only raw replies send: well-formed, or one of the ways a chunk fails
    ``_validate_response`` (no candidates, no content, content without parts, empty parts, ``Part()``)."""
    finish = draw(st.sampled_from([None, "STOP", "MAX_TOKENS"]))
    shape = draw(st.sampled_from(["text", "text", "none", "feedback", "no content", "no parts", "[]", "[{}]"]))
    if shape == "none":
        return {"candidates": []}
    if shape == "feedback":
        return {"promptFeedback": {"blockReason": "OTHER"}}
    content: Wire | None = {
        "text": {"role": "model", "parts": [{"text": draw(WORD)}]},
        "no content": None,
        "no parts": {"role": "model"},
        "[]": {"role": "model", "parts": []},
        "[{}]": {"role": "model", "parts": [{}]},
    }[shape]
    return _candidate(content, finish)


raw_outcomes = st.lists(raw_chunk(), min_size=1, max_size=4).map(lambda b: Raw(tuple(b)))


@st.composite
def raw_rounds(draw: st.DrawFn) -> Raw:
    """A calling round of automatic function calling as the service may stream it: the calls in one
    chunk, with or without a finish reason, maybe followed by a chunk that has no content."""
    calls = [
        {"functionCall": {"name": "lookup", "args": {"key": draw(KEY)}, **({"id": i} if (i := draw(CALL_ID)) else {})}}
        for _ in range(draw(st.integers(1, 2)))
    ]
    finish = draw(st.sampled_from([None, "STOP"]))
    bodies = [_candidate({"role": "model", "parts": calls}, finish)]
    trailing = draw(st.sampled_from(["none", "usage only", "feedback", "no content", "text"]))
    if trailing == "usage only":
        bodies.append({"candidates": [], "usageMetadata": {"promptTokenCount": 1, "totalTokenCount": 1}})
    elif trailing == "feedback":
        bodies.append({"promptFeedback": {"blockReason": "OTHER"}})
    elif trailing == "no content":
        bodies.append(_candidate(None, "STOP"))
    elif trailing == "text":
        bodies.append(_candidate({"role": "model", "parts": [{"text": draw(WORD)}]}, "STOP"))
    return Raw(tuple(bodies))


messages = st.one_of(
    USER_TEXT,
    st.lists(st.one_of(USER_TEXT, USER_TEXT.map(lambda t: types.Part(text=t)), IMAGE), min_size=1, max_size=3),
)

setups = st.builds(
    Setup,
    system=st.none() | WORD,
    temperature=st.sampled_from([None, 0.5, 1.0]),
    tools=st.sampled_from([None, "callable", "callable", "callable", "declared"]),
    disable_afc=st.sampled_from([False, False, False, True]),
    remote_calls=st.sampled_from([None, None, None, 0, 1, 2, 3]),
)
chat_setups = st.one_of(st.just(Setup(none=True)), setups)


@st.composite
def initial_histories(draw: st.DrawFn) -> list[types.Content]:
    """A history to start a chat with: user turns and model runs, some of them invalid."""
    history: list[types.Content] = []
    if draw(st.booleans()):
        history.append(text_content(draw(WORD)))  # a history may start with the model
    for _ in range(draw(st.integers(0, 3))):
        history.append(types.Content(role="user", parts=[types.Part(text=draw(USER_TEXT))]))
        for _ in range(draw(st.integers(0, 2))):
            kind = draw(st.sampled_from(["text", "text", "[]", "None", "Part()", "text+Part()"]))
            word = draw(WORD)
            parts = {
                "text": [types.Part(text=word)],
                "[]": [],
                "None": None,
                "Part()": [types.Part()],
                "text+Part()": [types.Part(text=word), types.Part()],
            }[kind]
            history.append(types.Content(role="model", parts=parts))
    return history


def user_content(message: str | list[Any]) -> types.Content:
    """What the SDK makes of a message (``t_content``): one user content with a part per item."""
    items = message if isinstance(message, list) else [message]
    return types.Content(role="user", parts=[types.Part(text=i) if isinstance(i, str) else i for i in items])


# --------------------------------------------------------------------------------------------------
# The machine.


class HistoryMachine(RuleBasedStateMachine):
    """One chat session (re-created by ``fork``) against the reference model, on the test's API key:
    every step that reaches the model first sets the context's faults and scenario afresh (fresh
    counters, an empty journal), so each step starts from nothing, as on a fresh key."""

    def __init__(self, url: str, key: str) -> None:
        super().__init__()
        self.key = key
        self.control = Control(url, self.key)
        self.client = genai.Client(api_key=self.key, http_options=types.HttpOptions(base_url=url))
        self.loop = asyncio.new_event_loop()
        self.executed: list[str] = []
        self.tool = make_lookup(self.executed)
        self.chat: Any = None
        self.is_async = False
        self.setup = Setup(none=True)
        self.ref = Reference([], [])

    def teardown(self) -> None:
        self.loop.run_until_complete(self.client.aio.aclose())
        self.loop.close()
        self.client.close()
        # Hypothesis caches failing examples with their exceptions, whose frames reach this machine: let
        # go of the client (SSL contexts, about 2.5 MB) so that shrinking does not pile them up.
        del self.client, self.chat

    def _create(self, is_async: bool, setup: Setup, history: list[types.Content]) -> None:
        chats = self.client.aio.chats if is_async else self.client.chats
        self.chat = chats.create(model=MODEL, config=setup.config(self.tool), history=list(history))
        self.is_async, self.setup, self.ref = is_async, setup, Reference.of(history)

    @initialize(is_async=st.booleans(), setup=chat_setups, history=initial_histories())
    def start(self, is_async: bool, setup: Setup, history: list[types.Content]) -> None:
        self._create(is_async, setup, history)

    @rule(is_async=st.booleans(), setup=chat_setups, curated=st.booleans())
    def fork(self, is_async: bool, setup: Setup, curated: bool) -> None:
        """A new chat (sync or async) from this one's history: the SDK curates it afresh (§6.1)."""
        self._create(is_async, setup, list(self.chat.get_history(curated=curated)))

    @rule(data=st.data(), message=messages, stream=st.booleans(), override=st.none() | setups)
    def send(self, data: st.DataObject, message: str | list[Any], stream: bool, override: Setup | None) -> None:
        self._step(data, message, stream, override)

    @precondition(lambda self: bool(self.ref.pending()))
    @rule(data=st.data(), stream=st.booleans(), override=st.none() | setups)
    def answer_calls(self, data: st.DataObject, stream: bool, override: Setup | None) -> None:
        """Answers the pending function calls by hand, echoing their ids."""
        answers = [
            types.Part(
                function_response=types.FunctionResponse(
                    name=call.name, id=call.id, response={"output": f"manual {(call.args or {}).get('key')}"}
                )
            )
            for call in self.ref.pending()
        ]
        self._step(data, answers, stream, override)

    def _plan(self, data: st.DataObject, setup: Setup) -> list[Outcome]:
        """This message's answers, one per request: AFC rounds then a final answer, or a single one."""
        if setup.afc:
            calling = data.draw(st.lists(st.one_of(rounds, raw_rounds()), max_size=3), label="rounds")
            final = data.draw(scripted_outcomes(calls=False), label="final")
            return [*calling, final]
        if data.draw(st.integers(0, 4), label="raw?") == 0:
            return [data.draw(raw_outcomes, label="raw")]
        return [data.draw(scripted_outcomes(calls=True), label="outcome")]

    def _script(self, plan: list[Outcome]) -> None:
        """Scenario rules by request number and faults by attempt number; a request beyond the plan is
        an error (``unmatched: error``)."""
        faults = [{**f, "after": i, "times": 1} for i, o in enumerate(plan) if (f := o.fault()) is not None]
        self.control.call("PUT", "faults", faults)
        rules = [{"when": {"request": i + 1}, **o.rule()} for i, o in enumerate(plan)]
        scenario = {"name": "history step", "unmatched": "error", "rules": rules}
        self.control.call("PUT", "scenario", scenario)
        self.control.call("DELETE", "requests")  # PUT scenario empties it too, but that is not documented

    def _step(self, data: st.DataObject, message: str | list[Any], stream: bool, override: Setup | None) -> None:
        setup = override if override is not None else self.setup
        plan = self._plan(data, setup)
        event(f"{'async' if self.is_async else 'sync'} {'stream' if stream else 'unary'}")
        event("answers: " + " + ".join(type(o).__name__ for o in plan))
        user = user_content(message)
        expected = self.ref.send(user, setup, plan, stream, self.is_async)
        if expected.message is not None:
            event("the service rejects the turn order")
        if expected.requests:
            self._script(plan)
            before: list[Wire] = []
        else:  # refused before any model sees it: the context, and its journal, must stay as they are
            before = self.control.journal()
        config = override.config(self.tool) if override is not None else None
        already = len(self.executed)
        got, error = self._run(message, config, stream)

        if expected.error is None:
            assert error is None, f"unexpected {error!r}"
        else:
            assert isinstance(error, genai.errors.APIError), f"expected an error {expected.error}, got {error!r}"
            assert error.code == expected.error
            if expected.message is not None:
                assert error.message == expected.message
            kind = genai.errors.ClientError if expected.error < 500 else genai.errors.ServerError
            assert isinstance(error, kind)
        assert [Sent.of_response(r).view() for r in got] == [s.view() for s in expected.received]
        assert self.executed[already:] == expected.executed

        journal = self.control.journal()
        if not expected.requests:
            assert journal == before, "a refused request leaves no trace in the journal"
            return
        assert len(journal) == len(expected.requests), "requests made"
        for entry, contents in zip(journal, expected.requests, strict=True):
            request = entry["request"]
            sent_contents = [types.Content.model_validate_json(json.dumps(c)) for c in request.get("contents", ())]
            assert dumps(sent_contents) == dumps(contents), "the request carries the curated history + message"
            system = request.get("systemInstruction")
            assert (system["parts"][0]["text"] if system else None) == setup.system
            assert request.get("generationConfig", {}).get("temperature") == setup.temperature
            declared = {d["name"] for t in request.get("tools", ()) for d in t.get("functionDeclarations", ())}
            assert declared == ({"lookup"} if setup.tools else set())

    def _run(
        self, message: str | list[Any], config: types.GenerateContentConfig | None, stream: bool
    ) -> tuple[list[types.GenerateContentResponse], BaseException | None]:
        """Sends through the chat as a user would; returns what was received and what was raised."""
        got: list[types.GenerateContentResponse] = []

        async def run_async() -> None:
            if stream:
                async for chunk in await self.chat.send_message_stream(message, config=config):
                    got.append(chunk)
            else:
                got.append(await self.chat.send_message(message, config=config))

        try:
            if self.is_async:
                self.loop.run_until_complete(run_async())
            elif stream:
                for chunk in self.chat.send_message_stream(message, config=config):
                    got.append(chunk)
            else:
                got.append(self.chat.send_message(message, config=config))
        except genai.errors.APIError as error:
            # Its traceback and response reach the client; the code and class are all the checks need.
            error.response = None
            return got, error.with_traceback(None)
        return got, None

    @invariant()
    def histories_match_the_reference(self) -> None:
        if self.chat is None:
            return
        assert dumps(self.chat.get_history(curated=True)) == dumps(self.ref.curated), "curated history"
        assert dumps(self.chat.get_history(curated=False)) == dumps(self.ref.comprehensive), "comprehensive history"


def test_chat_histories_follow_the_reference_model(emulator_url: str) -> None:
    """Random chat sessions keep both histories exactly as the SDK's documented rules say."""
    key = harness.key(__name__)  # one context for every run (not hundreds left behind on a shared emulator)
    run_state_machine_as_test(lambda: HistoryMachine(emulator_url, key), settings=SETTINGS)  # type: ignore[arg-type]
