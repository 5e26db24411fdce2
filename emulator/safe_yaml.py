"""YAML from files and request bodies: tag-free, C-accelerated where libyaml is present, alias-bounded.

``yaml.safe_load`` never names a Python object, but in pure Python it spends about 2 ms per nested
bracket, and each alias (``*name``) can multiply the document (the "billion laughs"). So documents
are read with libyaml's safe loader (nesting beyond libyaml's limit is an error, not a freeze) and
the construction step counts alias uses, refusing a document that uses more than it allows.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["AliasBomb", "load"]

_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class AliasBomb(yaml.YAMLError):  # type: ignore[misc]
    """A document that uses more aliases than it may."""


class _Loader(_SafeLoader):  # type: ignore[misc]
    def __init__(self, stream: str, max_aliases: int) -> None:
        super().__init__(stream)
        self.alias_uses = 0
        self.max_aliases = max_aliases

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node in self.constructed_objects:
            self.alias_uses += 1
            if self.alias_uses > self.max_aliases:
                raise AliasBomb(f"more than {self.max_aliases} YAML aliases; refusing to expand them")
        return super().construct_object(node, deep)


def load(text: str, max_aliases: int) -> Any:
    """The single document in ``text``; ``yaml.YAMLError`` (or :class:`AliasBomb`) when it is not one."""
    loader = _Loader(text, max_aliases)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
