"""Google-style API errors: one exception type that every layer raises and the server encodes.

The texts of the real service live here so that tests, backends and the validator share them.
"""

from __future__ import annotations

from typing import Any

STATUS_BY_CODE: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    412: "FAILED_PRECONDITION",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

TYPE_PREFIX = "type.googleapis.com/google.rpc."
SERVICE = "generativelanguage.googleapis.com"
VERTEX_SERVICE = "aiplatform.googleapis.com"

MSG_NO_KEY = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)
MSG_BAD_KEY = "API key not valid. Please pass a valid API key."
MSG_METHOD_NOT_FOUND = "Method not found."
MSG_INTERNAL = (
    "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting"
)
MSG_OVERLOADED = "The model is overloaded. Please try again later."
MSG_QUOTA = (
    "You exceeded your current quota, please check your plan and billing details. "
    "For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
)
MSG_DEADLINE = "Deadline expired before operation could complete."
MSG_VERTEX_QUOTA = "Resource has been exhausted (e.g. check quota)."
MSG_VERTEX_INTERNAL = "Internal error encountered."
MSG_NO_CREDENTIALS = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other "
    "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
)
MSG_BAD_CREDENTIALS = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid "
    "authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
)
MSG_API_KEYS_NOT_SUPPORTED = (
    "API keys are not supported by this API. Expected OAuth2 access token or other authentication credentials "
    "that assert a principal. See https://cloud.google.com/docs/authentication"
)
WWW_AUTHENTICATE = {"Www-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
MSG_TOO_MANY_STATES = (
    "The specified schema produces a constraint that has too many states for serving. Typical causes of this "
    "error are schemas with lots of text (for example, very long property or enum names), schemas with long "
    "array length limits (especially when nested), or schemas using complex value matchers (for example, "
    "integers or numbers with minimum/maximum bounds or strings with complex formats like date-time)"
)


class ApiError(Exception):
    """An error the way the Gemini API reports it; raising one anywhere yields its envelope."""

    def __init__(
        self,
        code: int,
        message: str,
        status: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_BY_CODE.get(code, "UNKNOWN")
        self.details = details or []
        self.headers: dict[str, str] = {}
        """Extra response headers, e.g. ``Retry-After`` when a fault asks for one."""
        self.vertex: ApiError | None = None
        """How Vertex AI words the same error, where it words it otherwise (its terse 429)."""

    def on(self, flavour: str) -> ApiError:
        """The error as the API of ``flavour`` (``developer`` or ``vertex``) reports it: on Vertex AI in its own
        words where it words it otherwise (its terse 429, its 500), with the headers this error was given (a
        fault's ``Retry-After``)."""
        if flavour != "vertex":
            return self
        vertex = self.vertex
        if vertex is None and self.message == MSG_INTERNAL:
            vertex = ApiError(self.code, MSG_VERTEX_INTERNAL, self.status, self.details)
            self.vertex = vertex
        if vertex is None:
            return self
        vertex.headers = {**self.headers, **vertex.headers}
        return vertex

    def envelope(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}

    def __repr__(self) -> str:
        return f"ApiError({self.code}, {self.status}, {self.message!r})"


def detail(kind: str, **fields: Any) -> dict[str, Any]:
    """A google.rpc detail object, e.g. detail("RetryInfo", retryDelay="3s")."""
    return {"@type": TYPE_PREFIX + kind, **fields}


def error_info(reason: str, **metadata: str) -> dict[str, Any]:
    return detail("ErrorInfo", reason=reason, domain="googleapis.com", metadata={"service": SERVICE, **metadata})


def bad_request(*violations: tuple[str | None, str]) -> dict[str, Any]:
    """BadRequest detail from (field, description) pairs; a None field is left out as the real service does."""
    items = [{"field": f, "description": d} if f else {"description": d} for f, d in violations]
    return detail("BadRequest", fieldViolations=items)


def invalid_argument(message: str, details: list[dict[str, Any]] | None = None) -> ApiError:
    return ApiError(400, message, details=details)


def no_key() -> ApiError:
    return ApiError(403, MSG_NO_KEY)


def bad_key() -> ApiError:
    return ApiError(
        400,
        MSG_BAD_KEY,
        details=[
            error_info("API_KEY_INVALID"),
            detail("LocalizedMessage", locale="en-US", message=MSG_BAD_KEY),
        ],
    )


def method_not_found() -> ApiError:
    return ApiError(404, MSG_METHOD_NOT_FOUND)


def unimplemented(feature: str, hint: str = "") -> ApiError:
    """A call the real API serves and this emulator does not: the emulator's limit, not the caller's bug."""
    return ApiError(501, f"gemini-emulator does not emulate {feature} yet{hint}")


def model_not_found(model: str, version: str, method: str) -> ApiError:
    """The real 404 (as recorded in 2026): generate calls point at ``ModelService.ListModels``, the others at
    ``ListModels``, and a batch of embeddings is named for the single call it is made of."""
    named = "embedContent" if method == "batchEmbedContents" else method
    lister = "ModelService.ListModels" if method in ("generateContent", "streamGenerateContent") else "ListModels"
    return ApiError(
        404,
        f"{model} is not found for API version {version}, or is not supported for {named}. "
        f"Call {lister} to see the list of available models and their supported methods.",
    )


def payload_too_large(limit: int) -> ApiError:
    return invalid_argument(f"Request payload size exceeds the limit: {limit} bytes.")


def internal() -> ApiError:
    return ApiError(500, MSG_INTERNAL)


def overloaded() -> ApiError:
    return ApiError(503, MSG_OVERLOADED)


def client_gone() -> ApiError:
    """How a call whose client went away is journaled (nobody receives it)."""
    return ApiError(499, "Client disconnected.")


def shutting_down() -> ApiError:
    return ApiError(503, "The emulator is shutting down; this stream ends here. Please try again later.")


def unauthenticated(method: str, *, key_sent: bool) -> ApiError:
    """Vertex AI's 401 for a call without a bearer token: the API-key wording when a key came instead."""
    message = MSG_API_KEYS_NOT_SUPPORTED if key_sent else MSG_NO_CREDENTIALS
    info = detail(
        "ErrorInfo",
        reason="CREDENTIALS_MISSING",
        domain="googleapis.com",
        metadata={"method": method, "service": VERTEX_SERVICE},
    )
    debug = [detail("DebugInfo", detail=MSG_NO_CREDENTIALS)] if key_sent else []
    error = ApiError(401, message, details=[*debug, info])
    error.headers = dict(WWW_AUTHENTICATE)
    return error


def bad_credentials() -> ApiError:
    """Vertex AI's 401 for a bearer token that is not the configured one."""
    error = ApiError(401, MSG_BAD_CREDENTIALS)
    error.headers = dict(WWW_AUTHENTICATE)
    return error


def publisher_model_not_found(model_id: str, project: str | None, location: str | None) -> ApiError:
    """Vertex AI's 404 for a model it does not serve (express mode names no project)."""
    where = f"projects/{project}/locations/{location}/" if project is not None else ""
    return ApiError(
        404,
        f"Publisher Model `{where}publishers/google/models/{model_id}` was not found or your project does not have "
        "access to it. Please ensure you are using a valid model version. For more information, see: "
        "https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions",
    )


def quota_exceeded(model: str, retry_seconds: int, limit: int = 10) -> ApiError:
    error = _developer_quota(model, retry_seconds, limit)
    error.vertex = ApiError(429, MSG_VERTEX_QUOTA)
    return error


def _developer_quota(model: str, retry_seconds: int, limit: int) -> ApiError:
    return ApiError(
        429,
        MSG_QUOTA,
        details=[
            detail(
                "QuotaFailure",
                violations=[
                    {
                        "quotaMetric": f"{SERVICE}/generate_content_free_tier_requests",
                        "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                        "quotaDimensions": {"location": "global", "model": model},
                        "quotaValue": str(limit),
                    }
                ],
            ),
            detail(
                "Help",
                links=[
                    {
                        "description": "Learn more about Gemini API quotas",
                        "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                    }
                ],
            ),
            detail("RetryInfo", retryDelay=f"{retry_seconds}s"),
        ],
    )
