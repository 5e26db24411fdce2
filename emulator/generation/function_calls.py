"""Function calling for the default model: what to call, in which round, with which arguments.

A test author steers the model with the wording of the prompt alone, so the rule is small and
deterministic:

* The *prompt* is the last user content that is not function responses; every user content of
  function responses after it is one finished *round*. The model only calls functions when the
  request ends with a user content.
* The prompt is cut into *steps* at each word "then". In each step, every mention of a callable
  function's name (whole word, any case) is one call, in the order written: two names, or one
  name written twice, make parallel calls; "a then b" makes ``a`` in round one and ``b`` in round
  two. A prompt that names no callable function calls the one whose name's words it uses
  ("divided" for ``divide``, "weather" for ``get_weather``); failing that, a follow-up ("How about
  in New York?") calls the function the conversation called last, and otherwise the first one, once.
* Round ``n`` makes the calls of step ``n``; once the steps are used up the model answers text
  from the function results (mode ``ANY`` instead repeats the last step: it must always call, so
  the SDK's automatic function calling runs until its ``maximum_remote_calls``).

Callable functions are the declared ones (first declaration of a name wins), restricted to
``allowedFunctionNames`` when given, in any mode: the model never names a function the client did
not offer. Mode ``NONE`` never calls; ``AUTO``, ``VALIDATED`` and an unset mode call as above.

Arguments come from the declaration's ``parameters`` (Google Schema) or ``parametersJsonSchema``,
through :func:`~emulator.generation.schema_values.value_for_schema`, seeded by the request digest and
the call's position, and hinted with the prompt text around the mention (so an enum value or a
word written next to the name tends to show up). What that text names is used where the schema
accepts it (:mod:`.grounding`): places for ``location``-like strings, the prompt's numbers in order
for numeric parameters, dates, quoted strings, names; a follow-up keeps the previous call's
arguments for what it does not say. Every call carries an 8-character ``id`` and an
``args`` object, ``{}`` for functions without parameters, since the Python SDK skips calls whose
args are missing.

The work is linear in the prompt whatever the number of declarations, at most
:data:`MAX_MENTIONS` mentions are planned, and calls stop where the output budget ends (whole calls
only: the answer then finishes with ``MAX_TOKENS``).
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from ..budget import Budget, Exhausted, TooComplex
from ..wire import errors
from .grounding import Grounding
from .schema_values import value_for_schema

__all__ = [
    "FINISH_MESSAGE",
    "MAX_MENTIONS",
    "Declaration",
    "Planned",
    "Progress",
    "call_parts",
    "callable_functions",
    "calls_to_make",
    "declarations",
    "plan",
    "progress",
]

FINISH_MESSAGE = "Model generated function call(s)."
MAX_MENTIONS = 1024
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_THEN = re.compile(r"\bthen\b", re.IGNORECASE)
# Names may hold letters, digits, "_", ".", ":" and "-"; a mention must not sit inside a longer
# identifier, but a sentence's full stop right after the name is fine. So a mention starts a run of
# such characters and ends at its end, or before a "." or ":" that no name character follows.
_RUN = re.compile(r"[\w.:-]+")


@dataclass(frozen=True)
class Declaration:
    """One declared function, with where it sits in the request for error messages."""

    name: str
    schema: dict[str, Any] | None
    json_schema: bool
    path: str


@dataclass(frozen=True)
class Planned:
    """One call the model will make: which function, and the prompt text its arguments draw on."""

    declaration: Declaration
    hint: str
    previous: dict[str, Any] | None = None
    """The arguments of the conversation's last call of this function, for a follow-up."""


@dataclass(frozen=True)
class Progress:
    """Where the conversation stands in the current user turn."""

    prompt: str
    rounds: int
    results: list[dict[str, Any]]
    awaiting: bool


def declarations(body: dict[str, Any]) -> list[Declaration]:
    """Declared functions in request order; a repeated name keeps its first declaration."""
    found: dict[str, Declaration] = {}
    for t, tool in enumerate(body.get("tools", ())):
        for d, decl in enumerate(tool.get("functionDeclarations", ())):
            name = decl.get("name")
            if not name or name in found:
                continue
            path = f"tools[{t}].function_declarations[{d}]"
            if "parametersJsonSchema" in decl:
                found[name] = Declaration(name, decl["parametersJsonSchema"], True, f"{path}.parameters_json_schema")
            else:
                found[name] = Declaration(name, decl.get("parameters"), False, f"{path}.parameters")
    return list(found.values())


def _config(body: dict[str, Any]) -> dict[str, Any]:
    config = body.get("toolConfig", {}).get("functionCallingConfig", {})
    return config if isinstance(config, dict) else {}


def callable_functions(body: dict[str, Any]) -> list[Declaration]:
    """What the model may call: nothing in mode NONE, else the declarations ``allowedFunctionNames`` lets through."""
    config = _config(body)
    if config.get("mode") == "NONE":
        return []
    declared = declarations(body)
    allowed = config.get("allowedFunctionNames")
    if allowed:
        names = set(allowed)
        declared = [d for d in declared if d.name in names]
    return declared


def _answers(content: dict[str, Any]) -> bool:
    if (content.get("role") or "user") != "user":
        return False
    return any("functionResponse" in part for part in content.get("parts", ()))


def progress(contents: list[dict[str, Any]]) -> Progress:
    """The prompt, the rounds answered since it and, if the request ends with answers, every result since it."""
    anchor = -1
    for i in range(len(contents) - 1, -1, -1):
        if (contents[i].get("role") or "user") == "user" and not _answers(contents[i]):
            anchor = i
            break
    prompt = ""
    if anchor >= 0:
        texts = [p["text"] for p in contents[anchor].get("parts", ()) if "text" in p and not p.get("thought")]
        prompt = " ".join(texts)
    later = contents[anchor + 1 :]  # empty when the request ends with the prompt, as most do
    answered = [c for c in later if _answers(c)] if later else []
    # The last content is the prompt itself unless something follows it (then it is ``later``'s last).
    ends_with_answers = bool(later) and _answers(later[-1])
    results = (
        [p["functionResponse"] for c in answered for p in c.get("parts", ()) if "functionResponse" in p]
        if ends_with_answers
        else []
    )
    return Progress(
        prompt=prompt,
        rounds=len(answered),
        results=results,
        awaiting=bool(contents) and (contents[-1].get("role") or "user") == "user",
    )


def _mentions(segment: str, functions: list[Declaration]) -> list[tuple[int, int, Declaration]]:
    """Non-overlapping (start, end, function) mentions in order, at most :data:`MAX_MENTIONS`; where
    several names fit at one place the longest wins, then the first declared."""
    names: dict[str, Declaration] = {}
    for decl in functions:
        names.setdefault(decl.name.lower(), decl)
    longest = max(len(name) for name in names)
    kept: list[tuple[int, int, Declaration]] = []
    for run in _RUN.finditer(segment):
        word = run.group()
        ends = [len(word)] + [i for i in range(min(len(word), longest + 1)) if _stops_at(word, i)]
        for end in sorted(ends, reverse=True):
            found = names.get(word[:end].lower()) if end <= longest else None
            if found is not None:
                kept.append((run.start(), run.start() + end, found))
                break
        if len(kept) >= MAX_MENTIONS:
            break
    return kept


def _stops_at(word: str, end: int) -> bool:
    """Whether a name may end before ``word[end]``: a "." or ":" that no name character follows."""
    return word[end] in ".:" and (end + 1 == len(word) or word[end + 1] in ".:")


_NAME_PART = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_VAGUE = frozenset(
    {"get", "set", "fetch", "find", "run", "make", "the", "for", "and", "api", "tool", "func", "function"}
)
_WORD = re.compile(r"[a-z]+")


def _overlap(name: str, stems: set[str]) -> int:
    """How many of the words of a function's name the prompt uses ("divided" for ``divide``)."""
    score = 0
    for part in {p.lower() for p in _NAME_PART.findall(name)} - _VAGUE:
        if len(part) >= 3:
            score += (part[:-1] if len(part) > 4 else part) in stems
    return score


def _stems(prompt: str) -> set[str]:
    """Every prompt word with up to four of its last letters dropped: a name's word is used when its
    stem is one of them, looked up in constant time whatever the number of declarations."""
    return {w[:k] for w in set(_WORD.findall(prompt.lower())) for k in range(max(1, len(w) - 4), len(w) + 1)}


def _unnamed(prompt: str, functions: list[Declaration], previous: str | None) -> Declaration:
    """The function a prompt that names none calls (see the module docstring)."""
    stems = _stems(prompt)
    scores = [_overlap(d.name, stems) for d in functions]
    best = max(scores)
    tied = [d for d, s in zip(functions, scores, strict=True) if s == best]
    return next((d for d in tied if d.name == previous), tied[0])


def plan(prompt: str, functions: list[Declaration], previous: str | None = None) -> list[list[Planned]]:
    """The calls of every round, from the prompt's wording (see the module docstring); ``previous`` is
    the name of the function the conversation called last."""
    if not functions:
        return []
    mentions = _mentions(prompt, functions)
    # A "then" inside a mentioned name (``do-then``) does not cut the prompt.
    firsts = [m[0] for m in mentions]

    def inside(at: int) -> bool:
        k = bisect.bisect_right(firsts, at) - 1
        return k >= 0 and at < mentions[k][1]

    cuts = [(m.start(), m.end()) for m in _THEN.finditer(prompt) if not inside(m.start())]
    starts = [c[0] for c in cuts]
    lows, highs = [0, *(c[1] for c in cuts)], [*starts, len(prompt)]
    steps: dict[int, list[Planned]] = {}
    for k, (start, end, decl) in enumerate(mentions):
        step = bisect.bisect_right(starts, start)
        before = k > 0 and bisect.bisect_right(starts, mentions[k - 1][0]) == step
        after = k + 1 < len(mentions) and bisect.bisect_right(starts, mentions[k + 1][0]) == step
        # A call's context runs to the next mention; the step's first call also gets what precedes
        # it ("In Osaka, use get_weather").
        begin = start if before else lows[step]
        stop = mentions[k + 1][0] if after else highs[step]
        hint = " ".join((prompt[begin:start] + " " + prompt[end:stop]).split())
        steps.setdefault(step, []).append(Planned(decl, hint))
    return [steps[k] for k in sorted(steps)] or [
        [Planned(_unnamed(prompt, functions, previous), " ".join(prompt.split()))]
    ]


def calls_to_make(body: dict[str, Any], state: Progress | None = None, budget: Budget | None = None) -> list[Planned]:
    """The calls this request's answer makes; empty when the model should answer text.

    ``state`` is ``progress(body["contents"])`` when the caller has it already; ``budget`` counts the
    work of reading a long prompt.
    """
    if state is None:
        state = progress(body.get("contents", []))
    if not state.awaiting:
        return []
    if budget is not None:
        budget.work(len(state.prompt) // 64)
    if not body.get("tools"):  # most requests declare nothing: no declarations or config to read
        return []
    functions = callable_functions(body)
    if not functions:
        return []
    earlier = _earlier_calls(body.get("contents", []), state.rounds)
    last = next(reversed(earlier), None)
    steps = plan(state.prompt, functions, last)
    if not steps:
        return []
    if state.rounds < len(steps):
        chosen = steps[state.rounds]
    elif _config(body).get("mode") == "ANY":
        chosen = steps[-1]
    else:
        return []
    return [Planned(p.declaration, p.hint, earlier.get(p.declaration.name)) for p in chosen]


def _earlier_calls(contents: list[dict[str, Any]], rounds: int) -> dict[str, dict[str, Any]]:
    """The arguments of each function's last call before the current prompt, the last called last.

    The current user turn's own rounds (``rounds`` model turns of calls at the end) do not count: a
    follow-up reuses what an earlier message asked for."""
    found: dict[str, dict[str, Any]] = {}
    skip = rounds
    for content in reversed(contents):
        if content.get("role") != "model":
            continue
        calls = [p["functionCall"] for p in content.get("parts", ()) if isinstance(p.get("functionCall"), dict)]
        if not calls:
            continue
        if skip > 0:
            skip -= 1
            continue
        for call in reversed(calls):
            name, args = call.get("name"), call.get("args")
            if isinstance(name, str) and name not in found:
                found[name] = args if isinstance(args, dict) else {}
    return dict(reversed(found.items()))


def _call_id(seed: bytes, index: int) -> str:
    raw = hashlib.sha256(seed + b"|call-id|" + index.to_bytes(4, "big")).digest()
    return "".join(_ID_ALPHABET[b % len(_ID_ALPHABET)] for b in raw[:8])


def call_parts(
    planned: list[Planned], seed: bytes, budget: Budget | None = None, ids: bool = True
) -> list[dict[str, Any]]:
    """The ``functionCall`` parts for ``planned``, arguments valid against each declaration's schema.

    A schema no value satisfies is the client's mistake, so it is answered with a 400 that names
    the declaration, rather than with a call the client's own validation would reject. Calls stop
    where ``budget``'s output ends; a call is sent whole or not at all.
    """
    budget = budget if budget is not None else Budget(65_536)
    parts: list[dict[str, Any]] = []
    for index, item in enumerate(planned):
        decl = item.declaration
        arg_seed = seed + b"|args|" + index.to_bytes(4, "big")
        try:
            budget.spend(len(decl.name) // 8 + 8)  # the name and the call's punctuation
            grounding = Grounding(item.hint, previous=item.previous)
            args = value_for_schema(
                decl.schema,
                seed=arg_seed,
                json_schema=decl.json_schema,
                hint=item.hint,
                budget=budget,
                grounding=grounding,
            )
        except Exhausted:
            break
        except TooComplex:
            message = f"* GenerateContentRequest.{decl.path}: {errors.MSG_TOO_MANY_STATES}\n"
            raise errors.invalid_argument(message) from None
        except ValueError as exc:
            raise errors.invalid_argument(
                f"* GenerateContentRequest.{decl.path}: no arguments satisfy the parameters of function "
                f"`{decl.name}`: {exc}\n"
            ) from None
        # Arguments travel as a Struct: a non-object parameter schema cannot be honoured, {} is the closest.
        call = {"name": decl.name, "args": args if isinstance(args, dict) else {}}
        if ids:  # gemini 3 names its calls; earlier families do not
            call["id"] = _call_id(seed, index)
        parts.append({"functionCall": call})
    return parts
