"""A backend that plays a scenario: scripted answers, errors and blocks, chosen rule by rule.

All state (how often each rule was used, how often its conditions held) lives in the instance, so
one instance per context gives each test its own script. Choosing and consuming a rule happens in
one synchronous step, with no ``await`` in between, so concurrent requests on the event loop can
never both take a one-shot rule. Delays are awaited only after the choice is made; only the facts of
a huge request are read off the loop, before it.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
from collections.abc import AsyncIterator
from typing import Any

from ..generation.framing import digest
from ..journal import answered_by
from ..offload import HEAVY_BYTES, off_loop
from ..scenarios import failures, render
from ..scenarios.conditions import Groups
from ..scenarios.facts import Facts
from ..scenarios.model import Rule, Scenario
from ..scenarios.templates import TemplateError
from ..wire import errors
from ..wire.call import Call, Operation
from ..wire.errors import ApiError
from .base import Backend, Reply, StreamReply
from .default import DefaultBackend

_SCRIPTED = (Operation.GENERATE, Operation.STREAM)


class ScriptedBackend:
    """Answers generate requests from ``scenario``; other methods, and misses under
    ``unmatched: default``, go to ``fallback`` (the default model unless given)."""

    def __init__(self, scenario: Scenario, fallback: Backend | None = None) -> None:
        self.scenario = scenario
        self.fallback: Backend = fallback if fallback is not None else DefaultBackend()
        self.reset()

    def reset(self) -> None:
        """Forgets every use and count, as if no request had been made."""
        self.requests = 0
        self._used = [0] * len(self.scenario.rules)
        self._seen = [0] * len(self.scenario.rules)

    def pending(self) -> list[str]:
        """Rules with a finite ``times`` that still have uses left: the part of the script not yet played."""
        rules = self.scenario.rules
        return [r.label(i) for i, r in enumerate(rules) if r.times is not None and self._used[i] < r.times]

    async def answer(self, call: Call) -> Reply | StreamReply:
        if call.operation not in _SCRIPTED:
            return await self.fallback.answer(call)
        self.requests += 1
        if call.size > HEAVY_BYTES:  # reading a huge request takes long: off the loop, before the choice
            facts = await off_loop(Facts.of, call, self.requests)
        else:
            facts = Facts.of(call, self.requests)
        picked = self._pick(facts)
        if picked is None:
            if self.scenario.unmatched == "default":
                return await self.fallback.answer(call)
            answered_by(f"scenario:{self.scenario.name} (no rule matched)")
            raise self._unmatched(facts)
        index, groups = picked
        rule = self.scenario.rules[index]
        if rule.fault is not None and rule.reply is None and rule.error is None and rule.block is None:
            answer = await self.fallback.answer(call)
            answered_by(f"scenario:{self.scenario.name} {rule.label(index)}")  # the rule's fault, the answer
            answer.fault = rule.fault
            return answer
        answered_by(f"scenario:{self.scenario.name} {rule.label(index)}")
        try:
            reply = self._prepare(rule, call, facts.context(self.scenario.name, groups), self._seed(call, index))
        except TemplateError as exc:
            raise self._failed(index, str(exc)) from None
        if rule.delay:
            await asyncio.sleep(rule.delay)
        if isinstance(reply, ApiError):
            raise reply
        if rule.fault is not None:
            reply.fault = rule.fault
        return reply

    def _pick(self, facts: Facts) -> tuple[int, Groups] | None:
        """Counts the request for every rule whose conditions hold, then takes the first usable one."""
        chosen: tuple[int, Groups] | None = None
        for index, rule in enumerate(self.scenario.rules):
            groups = rule.when.match(facts)
            if groups is None:
                continue
            self._seen[index] += 1
            if chosen is None and self._usable(index, rule):
                chosen = (index, groups)
        if chosen is not None:
            self._used[chosen[0]] += 1
        return chosen

    def _usable(self, index: int, rule: Rule) -> bool:
        nth_ok = rule.when.nth is None or self._seen[index] in rule.when.nth
        return nth_ok and (rule.times is None or self._used[index] < rule.times)

    def _seed(self, call: Call, index: int) -> bytes:
        """Deterministic per scenario, rule, request number and request, so reruns give the same ids."""
        key = f"{self.scenario.name}|{index}|{self.requests}|".encode() + digest(call)
        return hashlib.sha256(key).digest()

    def _prepare(self, rule: Rule, call: Call, context: dict[str, Any], seed: bytes) -> Reply | StreamReply | ApiError:
        """Everything but waiting: templates are filled here, so a bad one fails before any delay."""
        error = failures.api_error(rule.error, call, context) if rule.error is not None else None
        if rule.block is not None:
            body = failures.blocked(rule.block, call, context, seed)
            return StreamReply(_play([(body, 0)], None, None, 0.0)) if call.streaming else Reply(body)
        if rule.reply is None:
            assert error is not None
            return error
        if rule.reply.raw is not None:
            bodies = copy.deepcopy(rule.reply.raw)
            if not call.streaming:
                return error if error is not None else Reply(bodies[0])
            after = rule.error.after_chunks if rule.error is not None else 0
            return StreamReply(_play([(b, 0) for b in bodies], None, (after, error) if error else None, 0.0))
        built = render.build(rule.reply, call, context)
        if not call.streaming:
            return error if error is not None else Reply(render.unary(call, rule.reply, built, seed))
        plan = rule.reply.stream
        chunks = list(render.chunks(call, rule.reply, built, seed))
        after = rule.error.after_chunks if rule.error is not None else 0
        rate = plan.tokens_per_second if plan is not None else None
        failure = (after, error) if error is not None else None
        return StreamReply(_play(chunks, rate, failure, plan.first_chunk if plan else 0.0))

    def _unmatched(self, facts: Facts) -> ApiError:
        spent = [
            f"{rule.label(i)} matches but was used up (times: {rule.times})"
            for i, rule in enumerate(self.scenario.rules)
            if rule.when.match(facts) is not None and rule.times is not None and self._used[i] >= rule.times
        ]
        hint = f" {'; '.join(spent)}." if spent else ""
        message = (
            f'Scenario "{self.scenario.name}": no rule matched this request ({facts.describe()}).{hint} '
            "Add a rule for it, or set unmatched: default to let the fallback model answer."
        )
        return self._error(message, "SCENARIO_UNMATCHED", facts.request)

    def _failed(self, index: int, problem: str) -> ApiError:
        label = self.scenario.rules[index].label(index)
        return self._error(f'Scenario "{self.scenario.name}" {label}: {problem}', "SCENARIO_TEMPLATE", self.requests)

    def _error(self, message: str, reason: str, request: int) -> ApiError:
        """A 400 FAILED_PRECONDITION: a client error that no retry policy retries, so the test fails at once."""
        info = errors.detail(
            "ErrorInfo",
            reason=reason,
            domain="gemini-emulator",
            metadata={"scenario": self.scenario.name, "request": str(request)},
        )
        return ApiError(400, message, status="FAILED_PRECONDITION", details=[info])


async def _play(
    chunks: list[tuple[dict[str, Any], int]],
    rate: float | None,
    failure: tuple[int, ApiError] | None,
    first_wait: float,
) -> AsyncIterator[dict[str, Any]]:
    """Yields chunks at the scripted pace; with ``failure`` (k, error), raises after k chunks."""
    for number, (chunk, weight) in enumerate(chunks):
        if failure is not None and number == failure[0]:
            raise failure[1]
        wait = first_wait if number == 0 else (weight / rate if rate else 0.0)
        if wait:
            await asyncio.sleep(wait)
        yield chunk
    if failure is not None:
        raise failure[1]
