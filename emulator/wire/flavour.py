"""Which of the two APIs a client reaches: what every layer branches on, so it sits below them all."""

from __future__ import annotations

from enum import Enum


class Flavour(str, Enum):
    """The Gemini Developer API (``generativelanguage``) or Vertex AI (``aiplatform``)."""

    DEVELOPER = "developer"
    VERTEX = "vertex"

    @property
    def api_name(self) -> str:
        """The API's name in messages: ``Developer API`` or ``Vertex AI``."""
        return "Developer API" if self is Flavour.DEVELOPER else "Vertex AI"
