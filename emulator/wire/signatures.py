"""Thought signatures for Gemini-3-like models: issued on the way out, demanded on the way back.

The real service attaches an opaque ``thoughtSignature`` to the first function call of a model
turn and rejects a follow-up request whose current turn replays that call without it. Histories
rebuilt without signatures are the bug users hit most, so the emulator enforces the same rule for
models whose catalogue entry says ``thought_signatures``. The emulator's own signatures are an HMAC
of the call and the caller's context under a per-instance secret, so one that comes back altered,
on another call or in another context gets the real ``Corrupted thought signature.``; a signature it
did not issue (Google's own, a recording's, a scenario's, and the documented placeholders such as
base64 of ``skip_thought_signature_validator``) cannot be verified here and is accepted, as the real
service accepts its own and the placeholders.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from typing import Any

from . import errors
from .call import Call
from .catalogue import ModelInfo

_MAGIC = b"gemu1"
MSG_MISSING = (
    "Function call is missing a thought_signature in functionCall parts. This is required for tools to work "
    "correctly, and missing thought_signature may lead to degraded model performance. Additional data, function "
    "call `{name}` , position {position}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures "
    "for more details."
)
MSG_CORRUPTED = "Corrupted thought signature."


def _call_payload(call: dict[str, Any], context: str) -> bytes:
    ident = call.get("id") or json.dumps(call.get("args", {}), sort_keys=True, separators=(",", ":"))
    return f"{call.get('name', '')}\x00{ident}\x00{context}".encode("utf-8", "surrogatepass")


class Signer:
    """Signs and checks the function calls of one emulator instance."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or os.urandom(32)

    def signature(self, call: dict[str, Any], context: str = "") -> str:
        digest = hmac.new(self._secret, _call_payload(call, context), hashlib.sha256).digest()[:24]
        return base64.b64encode(_MAGIC + digest).decode()

    def sign_reply(self, body: dict[str, Any], call: Call, signed: set[int] | None = None) -> None:
        """Signs, in place, what the model's family signs (see :mod:`.profiles`): the first function
        call of each candidate, and when the model thought, the last text part of a final answer; a 3.x
        image model's pictures always (the recordings sign them without thoughts too). ``signed`` carries
        the candidates whose call is signed across the chunks of a stream.
        """
        model, profile = call.model, call.model.profile
        thought = bool(body.get("usageMetadata", {}).get("thoughtsTokenCount"))
        tools = bool(call.body.get("tools"))
        sign_calls = model.emulator.thought_signatures or (profile.signs == "tools_and_thought" and tools and thought)
        sign_answer = thought and (profile.signs == "thought" or (profile.signs == "tools_and_thought" and tools))
        sign_media = profile.signs == "thought" and profile.output == "image"  # 3.x pictures, thought or not
        if not (sign_calls or sign_answer or sign_media):
            return
        done = signed if signed is not None else set()
        for position, candidate in enumerate(body.get("candidates", ())):
            index = candidate.get("index", position)
            parts = candidate.get("content", {}).get("parts", ())
            for part in parts:
                if "functionCall" not in part:
                    continue
                if "thoughtSignature" not in part and sign_calls and index not in done:
                    part["thoughtSignature"] = self.signature(part["functionCall"], call.context)
                done.add(index)
            if "finishReason" in candidate and index not in done and (sign_answer or sign_media):
                self._sign_answer(parts, call.context, media_only=not sign_answer)

    def _sign_answer(self, parts: list[dict[str, Any]], context: str, media_only: bool = False) -> None:
        answer = [p for p in parts if ("text" in p and not p.get("thought") and not media_only) or "inlineData" in p]
        for part in answer[-1:] + [p for p in answer[:-1] if "inlineData" in p]:
            if "thoughtSignature" not in part:
                text = part.get("text") or part.get("inlineData", {}).get("mimeType", "")
                part["thoughtSignature"] = self.signature({"name": "", "id": text[:256]}, context)

    def _valid(self, call: dict[str, Any], signature: str, context: str) -> bool:
        """Ours must verify; one we did not issue is accepted (see the module docstring)."""
        try:
            standard = signature.replace("-", "+").replace("_", "/")
            raw = base64.b64decode(standard + "=" * (-len(standard) % 4))
        except (binascii.Error, ValueError):
            return True  # not base64 at all: no signature of ours
        if not raw.startswith(_MAGIC):
            return True
        return hmac.compare_digest(raw, base64.b64decode(self.signature(call, context)))

    def check_request(self, body: dict[str, Any], model: ModelInfo, context: str = "") -> None:
        """Rejects a request whose current turn dropped or altered the signature of a function call."""
        if not model.emulator.thought_signatures:
            return
        contents = body.get("contents", [])
        start = _current_turn_start(contents)
        first_in_run = True
        for position in range(start, len(contents)):
            content = contents[position]
            if content.get("role") != "model":
                first_in_run = True
                continue
            for part in content.get("parts", ()):
                if "functionCall" not in part:
                    continue
                signature = part.get("thoughtSignature")
                if signature is None and first_in_run:
                    name = part["functionCall"].get("name", "")
                    raise errors.invalid_argument(MSG_MISSING.format(name=name, position=position + 1))
                if signature is not None and not self._valid(part["functionCall"], signature, context):
                    raise errors.invalid_argument(MSG_CORRUPTED)
                first_in_run = False


def _current_turn_start(contents: list[dict[str, Any]]) -> int:
    """Index after the last user content that is a real message (not only function responses)."""
    for position in range(len(contents) - 1, -1, -1):
        content = contents[position]
        if content.get("role", "user") != "model" and any(
            "functionResponse" not in part for part in content.get("parts", ())
        ):
            return position + 1
    return 0
