"""Figures an answer reports besides its parts, the same in both flavours' shapes.

Kept apart from the framing so that each flavour's shape (:mod:`.framing`, :mod:`.vertex_framing`)
reads them from one place: a generated medium's token count and the answer's average log-probability.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..wire.profiles import Profile


def media_tokens(profile: Profile, data: dict[str, Any]) -> int:
    """Tokens of one generated image (a fixed count per family) or stretch of speech (25 a second)."""
    if profile.output == "audio":
        size = len(data.get("data", "")) * 3 // 4
        return max(1, size * 25 // (2 * 24_000))
    return 1120 if profile.media_type == "image/jpeg" else 1290


def avg_logprobs(rid: str) -> float:
    """A plausible average log-probability (between -0.05 and -0.45), fixed by the response id so that
    the same request gets the same figure."""
    return -0.05 - hashlib.sha256(rid.encode()).digest()[0] / 640
