"""The real service's semantic checks: what a well-typed request may still get wrong.

Each rule is a function of the canonical body and the model that returns the error the real
service gives, or None. :data:`RULES` lists them per method in the order they are applied. Field
level checks (empty contents, parts, names) are reported together in the ``* Request.path: text``
style of the real front end; the others stop at the first offence, as the real service does.

Most requests break no rule, so :func:`check` first runs :func:`_clean`, one pass over the contents
that can only say "nothing to report"; the rules themselves run only when it is unsure. A property
test (tests/wire/test_rules.py) holds it to that: whatever it passes, every rule passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from . import errors, tokens, vertex_schema
from .call import Operation
from .catalogue import ModelInfo
from .flavour import Flavour

Body = dict[str, Any]
Rule = Callable[[Body, ModelInfo, Operation], "errors.ApiError | None"]

MSG_ROLE = "Please use a valid role: user, model."
MSG_EMPTY_TEXT = (
    "Unable to submit request because it has an empty text parameter. Add a value to the parameter and try "
    "again. Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini"
)
MSG_NO_PARTS = (
    "Unable to submit request because it must include at least one parts field, which describes the prompt input. "
    "Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini"
)
MSG_INVALID = "Request contains an invalid argument."
MAX_PREDICT_INSTANCES = 250
"""Texts one text-embedding ``predict`` takes (documented; the 400 below was met by vercel/ai issue 19950, 2026-08)."""
"""The front end's text when it names nothing in particular."""
MSG_RESPONSE_AFTER_CALL = "Please ensure that function response turn comes immediately after a function call turn."
MSG_CALL_AFTER_USER = (
    "Please ensure that function call turn comes immediately after a user turn or after a function response turn."
)
MSG_COUNTS = (
    "Please ensure that the number of function response parts is equal to the number of function call parts "
    "of the function call turn."
)
_ROLES = frozenset({"user", "model", "function", ""})
"""Roles the real service takes: ``function`` is the user side, carrying function responses."""
_SIDE_FIELDS = frozenset({"thought", "thoughtSignature", "videoMetadata"})
"""What a part may hold instead of data: a thought's signature replayed without its text, or video
metadata for the media part before it (the real service accepts both)."""
# The members of Part's ``data`` oneof.
_DATA_FIELDS = frozenset(
    (
        "text",
        "inlineData",
        "fileData",
        "functionCall",
        "functionResponse",
        "executableCode",
        "codeExecutionResult",
        "toolCall",
        "toolResponse",
    )
)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def out_of_range(field: str, value: float, low: float, high: float) -> errors.ApiError:
    """The real range text: ``high`` is exclusive, so an inclusive upper bound is written as bound + 0.0001."""
    return errors.invalid_argument(
        f"Unable to submit request because it has a {field} value of {_number(value)} but the supported range is "
        f"from {_number(low)} (inclusive) to {_number(high)} (exclusive). Update the value and try again."
    )


def _generate_requests(body: Body, method: Operation) -> Iterator[tuple[str, Body]]:
    """Every GenerateContentRequest-like body in a call, with the path prefix its messages use."""
    if method is Operation.COUNT_TOKENS:
        inner = body.get("generateContentRequest")
        if inner is not None:
            yield "CountTokensRequest.generate_content_request", inner
        else:
            yield "CountTokensRequest", body
    else:
        yield "GenerateContentRequest", body


def _field_violations(prefix: str, body: Body) -> Iterator[str]:
    contents = body.get("contents") or []
    if not contents:
        yield f"{prefix}.contents: contents is not specified"
    named = [(f"contents[{i}]", c) for i, c in enumerate(contents)]
    if "systemInstruction" in body:
        named.append(("system_instruction", body["systemInstruction"]))
    for where, content in named:
        parts = content.get("parts") or []
        if not parts and where != "system_instruction":
            yield f"{prefix}.{where}.parts: contents.parts must not be empty."
        for j, part in enumerate(parts):
            here = f"{prefix}.{where}.parts[{j}]"
            if _DATA_FIELDS.isdisjoint(part) and _SIDE_FIELDS.isdisjoint(part):
                yield f"{here}.data: required oneof field 'data' must have one initialized field"
            for key, snake in (("functionCall", "function_call"), ("functionResponse", "function_response")):
                if key in part and not part[key].get("name"):
                    yield f"{here}.{snake}.name: Name cannot be empty."


def shape(body: Body, model: ModelInfo, method: Operation) -> errors.ApiError | None:
    lines = [
        line for prefix, request in _generate_requests(body, method) for line in _field_violations(prefix, request)
    ]
    return errors.invalid_argument("".join(f"* {line}\n" for line in lines)) if lines else None


def _all_contents(body: Body, method: Operation) -> Iterator[Body]:
    for _, request in _generate_requests(body, method):
        yield from request.get("contents", ())


def roles(body: Body, model: ModelInfo, method: Operation) -> errors.ApiError | None:
    for content in _all_contents(body, method):
        if content.get("role", "user") not in _ROLES:
            return errors.invalid_argument(MSG_ROLE)
    return None


def parts_present(body: Body, model: ModelInfo, method: Operation) -> errors.ApiError | None:
    """Vertex AI refuses a content without parts in words of its own (reported by users of Vertex AI
    clients; the Developer API lists it among the field violations of :func:`shape`)."""
    for content in _all_contents(body, method):
        if not content.get("parts"):
            return errors.invalid_argument(MSG_NO_PARTS)
    return None


def side(content: Body) -> str:
    """``model``, or ``user`` for every other role (``function`` included) and for none."""
    return "model" if content.get("role") == "model" else "user"


def empty_text(body: Body, model: ModelInfo, method: Operation) -> errors.ApiError | None:
    for _, request in _generate_requests(body, method):
        contents = [*request.get("contents", ()), request.get("systemInstruction", {})]
        for content in contents:
            for part in content.get("parts", ()):
                # Gemini 3 sends a signed empty text part at the end of a stream; it comes back as is.
                if part.get("text") == "" and "thoughtSignature" not in part:
                    return errors.invalid_argument(MSG_EMPTY_TEXT)
    return None


def _turns(contents: list[Body]) -> list[tuple[str, list[Body]]]:
    """Contents grouped into turns: consecutive model contents (one per streamed chunk) are one turn."""
    turns: list[tuple[str, list[Body]]] = []
    for content in contents:
        role = side(content)
        if turns and role == "model" and turns[-1][0] == "model":
            turns[-1][1].append(content)
        else:
            turns.append((role, [content]))
    return turns


def _count(turn: list[Body], key: str) -> int:
    return sum(key in part for content in turn for part in content.get("parts", ()))


def function_turns(body: Body, model: ModelInfo, method: Operation) -> errors.ApiError | None:
    for _, request in _generate_requests(body, method):
        previous: tuple[str, list[Body]] | None = None
        for role, turn in _turns(request.get("contents", [])):
            calls, responses = _count(turn, "functionCall"), _count(turn, "functionResponse")
            if calls and (previous is None or previous[0] != "user"):
                return errors.invalid_argument(MSG_CALL_AFTER_USER)
            if responses:
                called = _count(previous[1], "functionCall") if previous and previous[0] == "model" else 0
                if not called:
                    return errors.invalid_argument(MSG_RESPONSE_AFTER_CALL)
                if called != responses:
                    return errors.invalid_argument(MSG_COUNTS)
            previous = (role, turn)
    return None


def ranges(body: Body, model: ModelInfo, method: Operation) -> errors.ApiError | None:
    for _, request in _generate_requests(body, method):
        config = request.get("generationConfig", {})
        for field, low, high in _limits(model):
            value = config.get(field)
            if value is not None and not low <= value < high:
                return out_of_range(field, value, low, high)
    return None


def embedding(body: Body, model: ModelInfo, method: Operation) -> errors.ApiError | None:
    if method is Operation.BATCH_EMBED:
        requests = body.get("requests", [])
        if not requests:
            return errors.invalid_argument("* BatchEmbedContentsRequest.requests: requests is not specified\n")
        named = [(f"BatchEmbedContentsRequest.requests[{i}]", r) for i, r in enumerate(requests)]
    else:
        named = [("EmbedContentRequest", body)]
    for where, request in named:
        if not request.get("content", {}).get("parts"):
            return errors.invalid_argument(f"* {where}.content.parts: contents.parts must not be empty.\n")
        # Vertex AI's request has the field twice: top-level (deprecated) and in embedContentConfig.
        size = request.get("outputDimensionality", request.get("embedContentConfig", {}).get("outputDimensionality"))
        error = _dimensionality(size, model)
        if error is not None:
            return error
    return None


def _dimensionality(size: Any, model: ModelInfo) -> errors.ApiError | None:
    dimension = model.emulator.embedding_dimension or 768
    if size is not None and not 1 <= size <= dimension:
        return out_of_range("outputDimensionality", size, 1, dimension + 1)
    return None


_TASK_TYPES = frozenset(vertex_schema.POOL.FindEnumTypeByName(vertex_schema.TASK_TYPE).values_by_name)


def predict(body: Body, model: ModelInfo, method: Operation) -> errors.ApiError | None:
    """Vertex AI's ``predict`` for text-embedding models: ``instances`` and ``parameters`` are free JSON
    to the schema, so what an embedding needs is checked here, and only that: each instance an object
    with a ``content`` string, an optional ``title`` string and ``task_type`` (a name of Vertex AI's
    embedding task types, in any case); parameters ``autoTruncate`` a boolean and
    ``outputDimensionality`` a whole number in the model's range. Anything else an instance or the
    parameters hold is let through, as recorded traffic (``mimeType`` from the SDK) shows it may be."""
    instances = body.get("instances")
    if not instances:
        return errors.invalid_argument(MSG_INVALID)
    if len(instances) > MAX_PREDICT_INSTANCES:
        return out_of_range("batchSize", len(instances), 1, MAX_PREDICT_INSTANCES + 1)
    for instance in instances:
        if type(instance) is not dict or type(instance.get("content")) is not str:
            return errors.invalid_argument(MSG_INVALID)
        task, title = instance.get("task_type"), instance.get("title")
        if task is not None and (type(task) is not str or task.upper() not in _TASK_TYPES):
            return errors.invalid_argument(MSG_INVALID)
        if title is not None and type(title) is not str:
            return errors.invalid_argument(MSG_INVALID)
    parameters = body.get("parameters")
    if parameters is None:
        return None
    if type(parameters) is not dict:
        return errors.invalid_argument(MSG_INVALID)
    truncate, size = parameters.get("autoTruncate"), parameters.get("outputDimensionality")
    if truncate is not None and type(truncate) is not bool:
        return errors.invalid_argument(MSG_INVALID)
    if size is not None and (type(size) not in (int, float) or size != int(size)):
        return errors.invalid_argument(MSG_INVALID)
    return _dimensionality(size, model)


def _has_tool(request: Body, *kinds: str) -> bool:
    return any(kind in tool for tool in request.get("tools", ()) for kind in kinds)


_FEATURES: dict[str, tuple[Callable[[Body], bool], str]] = {
    "system_instruction": (lambda r: "systemInstruction" in r, "Developer instruction is not enabled"),
    "function_calling": (lambda r: _has_tool(r, "functionDeclarations"), "Function calling is not enabled"),
    "json_mode": (
        lambda r: r.get("generationConfig", {}).get("responseMimeType") == "application/json",
        "JSON mode is not enabled",
    ),
    "code_execution": (lambda r: _has_tool(r, "codeExecution"), "Code execution is not enabled"),
    "search_grounding": (
        lambda r: _has_tool(r, "googleSearch", "googleSearchRetrieval"),
        "Search Grounding is not supported",
    ),
    "url_context": (lambda r: _has_tool(r, "urlContext"), "Url context is not supported"),
    "multiple_candidates": (
        lambda r: r.get("generationConfig", {}).get("candidateCount", 1) > 1,
        "Multiple candidates is not enabled",
    ),
    "media_resolution": (
        lambda r: "mediaResolution" in r.get("generationConfig", {}),
        "Media resolution is not enabled",
    ),
    "multiturn": (lambda r: any(side(c) == "model" for c in r.get("contents", ())), "Multiturn chat is not enabled"),
}
"""Feature -> (does a request use it, the start of the real refusal, which names the model)."""


def features(body: Body, model: ModelInfo, method: Operation) -> errors.ApiError | None:
    """The real 400 for what the model's family does not do (``Profile.refuses``), in the order of
    :data:`_FEATURES`."""
    refused = model.profile.refuses
    if refused:
        for _, request in _generate_requests(body, method):
            for name, (uses, text) in _FEATURES.items():
                if name in refused and uses(request):
                    return errors.invalid_argument(f"{text} for {model.name}")
    return None


def _limits(model: ModelInfo) -> tuple[tuple[str, float, float], ...]:
    return (
        ("temperature", 0, (model.maxTemperature or 2.0) + 0.0001),
        ("topP", 0, 1.0001),
        ("topK", 1, (model.topK or 64) + 1),
        ("candidateCount", 1, model.emulator.max_candidate_count + 1),
        ("maxOutputTokens", 1, model.outputTokenLimit + 1),
    )


def _clean(request: Body, model: ModelInfo, ranged: bool, checks_empty_text: bool) -> bool:
    """True when no rule of a GenerateContentRequest-like body can fire: one pass, no messages.

    It only has to be sound (True means every rule passes); anything it is unsure of answers False
    and the rules themselves then find the first error. It reads contents as :func:`_turns` groups
    them: ``calls`` and ``responses`` count the current turn, ``before`` is the role of the turn
    before it, ``called`` the calls of that turn when it was a model turn.
    """
    contents = request.get("contents")
    if not contents:
        return False
    before = role = None
    calls = responses = called = 0
    for content in contents:
        parts = content.get("parts")
        if not parts:
            return False
        if content.get("role", "user") not in _ROLES:
            return False
        now = side(content)
        if not (now == "model" and role == "model"):  # a new turn starts: settle the last one
            if calls and before != "user":
                return False
            if responses and (role != "user" or responses != called):
                return False
            called = calls if role == "model" else 0
            before, role, calls, responses = role, now, 0, 0
        for part in parts:
            if "text" in part:
                if not part["text"] and "thoughtSignature" not in part and checks_empty_text:
                    return False
            elif "functionCall" in part:
                if not part["functionCall"].get("name"):
                    return False
                calls += 1
            elif "functionResponse" in part:
                if not part["functionResponse"].get("name"):
                    return False
                responses += 1
            elif _DATA_FIELDS.isdisjoint(part) and _SIDE_FIELDS.isdisjoint(part):
                return False
    if calls and before != "user":
        return False
    if responses and (role != "user" or responses != called):
        return False
    system = request.get("systemInstruction")
    if system is not None:
        for part in system.get("parts", ()):
            if "text" in part and not part["text"] and "thoughtSignature" not in part and checks_empty_text:
                return False
            if _DATA_FIELDS.isdisjoint(part) or "functionCall" in part or "functionResponse" in part:
                return False
    if ranged:
        config = request.get("generationConfig")
        if config:
            for field, low, high in _limits(model):
                value = config.get(field)
                if value is not None and not low <= value < high:
                    return False
    return True


def _table(flavour: Flavour) -> dict[Operation, tuple[Rule, ...]]:
    """The rules of each call of one API. Vertex AI refuses empty text (the Developer API takes
    ``{"text": ""}``) and words a content without parts otherwise; computeTokens is left unchecked, as
    nothing shows what the real one refuses."""
    if flavour is Flavour.VERTEX:
        turns: tuple[Rule, ...] = (parts_present, shape, roles, empty_text, function_turns)
        only: dict[Operation, tuple[Rule, ...]] = {Operation.COMPUTE_TOKENS: (), Operation.PREDICT: (predict,)}
    else:
        turns, only = (shape, roles, function_turns), {}
    return {
        Operation.GENERATE: (*turns, features, ranges),
        Operation.STREAM: (*turns, features, ranges),
        Operation.COUNT_TOKENS: turns,
        Operation.EMBED: (embedding,),
        Operation.BATCH_EMBED: (embedding,),
        **only,
    }


RULES: dict[Flavour, dict[Operation, tuple[Rule, ...]]] = {flavour: _table(flavour) for flavour in Flavour}


MAX_BATCH_EMBED = 100
MSG_BATCH_TOO_LARGE = f"* BatchEmbedContentsRequest.requests: at most {MAX_BATCH_EMBED} requests can be in one batch\n"


MAX_DECLARATIONS = 512


def limits(method: Operation, body: Body) -> None:
    """What the real service can serve at all, held in lenient mode too: each bound keeps one request's
    work (and memory) bounded."""
    if method is Operation.BATCH_EMBED and len(body.get("requests", ())) > MAX_BATCH_EMBED:
        raise errors.invalid_argument(MSG_BATCH_TOO_LARGE)
    for request in (body, body.get("generateContentRequest") or {}):
        for index, tool in enumerate(request.get("tools", ())):
            if len(tool.get("functionDeclarations", ())) > MAX_DECLARATIONS:
                raise errors.invalid_argument(
                    f"The GenerateContentRequest proto is invalid:\n  * tools[{index}].function_declarations: "
                    f"[FIELD_INVALID] At most {MAX_DECLARATIONS} function declarations can be specified."
                )


def input_limit(method: Operation, body: Body, model: ModelInfo, size: int) -> None:
    """The real 400 for a prompt over the model's ``inputTokenLimit``. Counted only for a body of
    ``size`` bytes that could reach the limit: a token takes a byte of text at least, a media part
    258 tokens for some twenty bytes of JSON, so a body under a fourteenth of the limit cannot.

    The text is Vertex AI's as recorded, ``(1250074) ... (1048576)`` for gemini-2.5-flash, on both APIs:
    the Developer API's varies by model and over time (gemini-2.0-flash wrote the limit less one,
    gemini-2.5-flash leaves the count out), which no catalogue field says."""
    if method not in (Operation.GENERATE, Operation.STREAM) or size * 14 < model.inputTokenLimit:
        return
    count = tokens.prompt_usage(body)[0]
    if count > model.inputTokenLimit:
        raise errors.invalid_argument(
            f"The input token count ({count}) exceeds the maximum number of tokens allowed ({model.inputTokenLimit})."
        )


def check(method: Operation, body: Body, model: ModelInfo, flavour: Flavour = Flavour.DEVELOPER) -> None:
    """Raises the first rule's error, in the order of :data:`RULES`."""
    empty = flavour is Flavour.VERTEX
    if method is Operation.GENERATE or method is Operation.STREAM:
        if not model.profile.refuses and _clean(body, model, True, empty):
            return
    elif (
        method is Operation.COUNT_TOKENS and "generateContentRequest" not in body and _clean(body, model, False, empty)
    ):
        return
    for rule in RULES[flavour][method]:
        error = rule(body, model, method)
        if error is not None:
            raise error
