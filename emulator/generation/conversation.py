"""Reading the conversation a request carries: what the user said last."""

from __future__ import annotations

from typing import Any


def last_user_text(contents: list[dict[str, Any]]) -> str:
    for content in reversed(contents):
        if content.get("role", "user") == "user":
            texts = [p["text"] for p in content.get("parts", ()) if "text" in p and not p.get("thought")]
            if texts:
                return " ".join(texts)
    return ""
