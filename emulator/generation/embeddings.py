"""Embedding vectors: deterministic unit vectors drawn from what is embedded.

The same content and task type embed to the same vector through every call that embeds (the
Developer API's ``embedContent`` and ``batchEmbedContents``, Vertex AI's ``embedContent`` and the
text-embedding models' ``predict``), so that a test comparing them sees one model.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from typing import Any

from ..wire.catalogue import ModelInfo

DEFAULT_DIMENSION = 768


def size(model: ModelInfo, asked: Any = None) -> int:
    """The vector's length: ``outputDimensionality`` when asked, never more than the model's dimension
    (lenient mode skips the rule that refuses more)."""
    dimension = model.emulator.embedding_dimension or DEFAULT_DIMENSION
    return max(1, min(int(asked if asked is not None else dimension), dimension))


def vector(model: str, seed: int, content: Any, task_type: Any, length: int) -> list[float]:
    """A unit vector of ``length`` numbers, fixed by the model's name, the seed, the content and the task."""
    key = json.dumps([model, seed, content, task_type], sort_keys=True)
    rng = random.Random(hashlib.sha256(key.encode()).digest())
    values = [rng.gauss(0.0, 1.0) for _ in range(length)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]
