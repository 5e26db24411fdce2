"""The two scripted ways a request does not get content: a Google error, or a blocked prompt.

Errors default to the real service's texts and, for 429, to its detail set (QuotaFailure and Help,
plus RetryInfo when ``retry_after`` is given), so a client's retry and back-off code sees what it
would see in production. Detail order follows real 429 bodies: QuotaFailure, Help, RetryInfo.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ..generation import framing
from ..wire import errors
from ..wire.call import Call
from ..wire.errors import ApiError
from . import templates
from .actions import Block, Error, Quota

Wire = dict[str, Any]

DEFAULT_MESSAGES: dict[int, str] = {
    400: "Request contains an invalid argument.",
    401: (
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
        "valid authentication credential."
    ),
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    429: errors.MSG_QUOTA,
    500: errors.MSG_INTERNAL,
    503: errors.MSG_OVERLOADED,
    504: errors.MSG_DEADLINE,
}


def delay_text(seconds: float) -> str:
    """A google.protobuf.Duration in its JSON form: "3s", or "0.250s" with a fraction."""
    return f"{int(seconds)}s" if float(seconds).is_integer() else f"{seconds:.3f}s"


def _quota(quota: Quota, model: str) -> list[Wire]:
    violation = {
        "quotaMetric": quota.metric,
        "quotaId": quota.quota_id,
        "quotaDimensions": {"location": "global", "model": model},
        "quotaValue": str(quota.value),
    }
    help_link = {
        "description": "Learn more about Gemini API quotas",
        "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
    }
    return [errors.detail("QuotaFailure", violations=[violation]), errors.detail("Help", links=[help_link])]


def api_error(spec: Error, call: Call, context: Mapping[str, Any]) -> ApiError:
    """The ApiError a rule's ``error`` describes; raises TemplateError for a placeholder without value."""
    details: list[Wire] = []
    if call.vertex and spec.code == 429 and spec.message is None and spec.quota is None and not spec.details:
        return ApiError(429, errors.MSG_VERTEX_QUOTA, status=spec.status)  # Vertex's 429 carries no details
    quota = spec.quota if spec.quota is not None else spec.code == 429
    if quota:
        details += _quota(quota if isinstance(quota, Quota) else Quota(), call.model.model_id)
    if spec.retry_after is not None:
        details.append(errors.detail("RetryInfo", retryDelay=delay_text(spec.retry_after)))
    if spec.reason:
        details.append(errors.error_info(spec.reason))
    details += copy.deepcopy(spec.details)  # the scenario is shared; later layers may annotate replies
    if spec.message is not None:
        message = templates.render(spec.message, context)
    else:
        message = DEFAULT_MESSAGES.get(spec.code, f"Scripted error {spec.code} from scenario {context['scenario']}.")
    return ApiError(spec.code, message, status=spec.status, details=details)


def blocked(spec: Block, call: Call, context: Mapping[str, Any], seed: bytes) -> Wire:
    """A blocked prompt: promptFeedback and prompt-only usage, no candidates (HTTP 200)."""
    feedback: Wire = {"blockReason": spec.reason}
    if spec.message is not None:
        feedback["blockReasonMessage"] = templates.render(spec.message, context)
    if spec.safety_ratings is not None:
        feedback["safetyRatings"] = copy.deepcopy(spec.safety_ratings)
    return framing.blocked(call, framing.response_id(seed), feedback)
