"""The common request decoded in compiled code, with exactly :func:`validate.decode`'s result.

:func:`validate.decode` walks a body in Python, one call per value, to build the canonical body. For
most bodies that walk changes nothing: the canonical body *is* the parsed JSON. This module proves
that with one ``msgspec.convert`` of the parsed JSON into ``msgspec.Struct`` types generated from the
same slot tables, each field's type admitting only values the walk keeps as they are:

- camelCase keys only (a snake_case key is unknown to the types), no nulls, no unknown keys;
- strings and booleans as they are (:func:`validate.parse_body` gives no JSON holding a lone
  surrogate here, the one thing :func:`validate._text` changes);
- integers within the field's bounds and never floats; floats never integers; enums by their names;
- bytes in the standard base64 alphabet, padded, which the walk keeps character for character;
- Struct and Value fields as any JSON (their canonical form is the JSON itself);
- at most one member of each oneof (checked by the struct's ``__post_init__``).

Durations and timestamps are left out of the types, so a body holding one is refused. So the
canonical body is the parsed JSON itself, with its key order, and no struct is kept.

The exception, where SDKs are not canonical, are the messages a request holds at most once (the
request itself, ``generationConfig``, its ``thinkingConfig``, ``toolConfig`` ...; no list or map on
their path from the root). There the types also admit snake_case keys, floats for integers,
integers for floats and enum names in any spelling; the struct's ``__post_init__`` marks what is
not canonical, and after the conversion the marked objects are rewritten in place: keys renamed,
the marked values converted by the walk's own handlers. The google-genai SDK sends ``topK`` as
``20.0`` and ``thinkingConfig`` in snake_case.

Anything else is refused (``None``) and goes the slow way, which reports errors in its own words.
The types are generated at first use, per request message, not at import; nothing here imports
``validate``, which imports this module at its first body.
"""

from __future__ import annotations

import itertools
import sys
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union

import msgspec

from .schema import (
    K_BOOL,
    K_BYTES,
    K_ENUM,
    K_FLOAT,
    K_INT,
    K_MESSAGE,
    K_STRING,
    K_STRUCT,
    K_VALUE,
    K_WKT,
    MAP,
    SINGLE,
    Slot,
)

STANDARD_BASE64 = r"\A(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\Z"
"""Base64 the walk keeps as it is: standard alphabet, length a multiple of 4, correct padding."""
_INT64 = (-(2**63), 2**63 - 1)
_NEVER_INT = Annotated[int, msgspec.Meta(ge=1, le=0)]
"""No integer fits: a float field refuses the integers the walk would turn into floats."""
MARK = "~rewrite"
"""The key of the field a once-held object's struct marks a rewrite in (``_Mark`` makes any JSON
value under that key a refusal, so a body cannot set it)."""
Table = dict[str, Slot]
Rewrites = list[tuple[dict[str, Any], dict[str, Any], bool]]
"""(object, its new keys and values, whether they replace it whole or update some values)."""


class _Mark:
    """A type no JSON value converts to."""


@dataclass
class _Fixer:
    """An object a request holds at most once, at a fixed place, rewritten in place when its struct
    is marked (see :meth:`_Builder.marking`)."""

    table: Table
    names: dict[str, str]
    """The camelCase key of each key."""
    children: dict[str, _Fixer] = field(default_factory=dict)
    """The fixers of the once-held objects it holds, by their keys in either spelling."""


@dataclass
class _Plan:
    table: Table
    """The request message's table, kept so that its id, the key of the plan, stays its own."""
    root: type[msgspec.Struct]
    fixer: _Fixer


_PLANS: dict[int, _Plan] = {}
_LOCK = threading.Lock()
_MODULE = types.ModuleType(f"{__name__}.generated")
"""The generated types, by name: msgspec resolves the names of recursive messages here."""
sys.modules[_MODULE.__name__] = _MODULE
_NAMES = itertools.count()
_UNSET = msgspec.UNSET


def decode(table: Table, raw: dict[str, Any], decoder: Callable[[bool], Any]) -> dict[str, Any] | None:
    """The canonical body of ``raw``, a request of the message of ``table`` (parsed JSON without lone
    surrogates; taken over and possibly rewritten in place), or None when only the walk can tell:
    ``raw`` is left as it was then. ``decoder`` makes the walk's decoder, whose handlers rewrite."""
    plan = _PLANS.get(id(table)) or _plan(table)
    try:
        root: Any = msgspec.convert(raw, plan.root)
    except (msgspec.ValidationError, RecursionError):
        return None
    if root.m is _UNSET:
        return raw
    pending: Rewrites = []
    if not _fix(plan.fixer, raw, root, pending, decoder):
        return None
    for target, rewritten, whole in pending:
        if whole:
            target.clear()
        target.update(rewritten)
    return raw


def _fix(fixer: _Fixer, value: dict[str, Any], struct: Any, pending: Rewrites, decoder: Callable[[bool], Any]) -> bool:
    """Collects the rewrites of a marked object and of the marked objects below it; False when the
    walk must decide (both spellings of one field, a scalar its handler refuses)."""
    renamed, changed, below = struct.m
    if renamed:
        out = dict(zip(map(fixer.names.__getitem__, value), value.values(), strict=True))
        if len(out) != len(value):
            return False  # both spellings of one field
        pending.append((value, out, True))
    elif changed:
        out = {}
        pending.append((value, out, False))
    if changed:
        walk = decoder(True)
        for name in changed:
            slot = fixer.table[name]
            out[name] = slot.decode(walk, slot, value.get(name, value.get(slot.name)), None, None)
        if walk.violations:
            return False
    for key, inner in below:  # noqa: SIM110 (cheaper than all() of a generator)
        if not _fix(fixer.children[key], value[key], inner, pending, decoder):
            return False
    return True


def _plan(root: Table) -> _Plan:
    with _LOCK:
        plan = _PLANS.get(id(root))
        if plan is None:
            plan = _PLANS[id(root)] = _Builder(root).plan()
    return plan


def _fields(table: Table) -> list[Slot]:
    """One slot per field, in the table's order."""
    seen: dict[str, Slot] = {}
    for slot in table.values():
        seen.setdefault(slot.name, slot)
    return list(seen.values())


def _message_table(slot: Slot) -> Table | None:
    if slot.label == MAP:
        value = slot.value
        return value.table if value is not None and value.kind == K_MESSAGE else None
    return slot.table if slot.kind == K_MESSAGE else None


class _Builder:
    """Generates the types of one request message, and the fixers of its once-held objects."""

    def __init__(self, root: Table) -> None:
        self.root = root
        self.paths: dict[int, int] = {}
        self.many: set[int] = set()
        self._walk(root, {id(root)})
        self.classes: dict[int, str] = {}
        self.attributes: dict[int, dict[str, str]] = {}
        """Per message, the struct attribute of each key."""

    def _walk(self, table: Table, stack: set[int]) -> None:
        """Counts the paths of single fields from the root to each message; a message held in a
        list or a map, or inside itself, is held more than once."""
        for slot in _fields(table):
            child = _message_table(slot)
            if child is None:
                continue
            if slot.label != SINGLE or id(child) in stack:
                self._mark_many(child)
                continue
            self.paths[id(child)] = self.paths.get(id(child), 0) + 1
            self._walk(child, stack | {id(child)})

    def _mark_many(self, table: Table) -> None:
        if id(table) in self.many:
            return
        self.many.add(id(table))
        for slot in _fields(table):
            child = _message_table(slot)
            if child is not None:
                self._mark_many(child)

    def once(self, table: Table) -> bool:
        """Whether the request holds this message at most once, at one place."""
        if table is self.root:
            return True
        return id(table) not in self.many and self.paths.get(id(table)) == 1

    def once_child(self, slot: Slot) -> bool:
        return slot.label == SINGLE and slot.kind == K_MESSAGE and self.once(slot.table)

    def plan(self) -> _Plan:
        root = getattr(_MODULE, self.struct(self.root))
        return _Plan(self.root, root, self.fixer(self.root))

    def fixer(self, table: Table) -> _Fixer:
        children = {key: self.fixer(slot.table) for key, slot in table.items() if self.once_child(slot)}
        names = {key: slot.json_name for key, slot in table.items()}
        return _Fixer(table, names, children)

    def struct(self, table: Table) -> str:
        """The name of the generated type of a message (generated now if it is not yet)."""
        name = self.classes.get(id(table))
        if name is not None:
            return name
        name = self.classes[id(table)] = f"M{next(_NAMES)}"
        once = self.once(table)
        fields: list[tuple[str, Any, Any]] = []
        attributes: dict[str, str] = {}
        groups: dict[str, list[str]] = {}
        for slot in table.values():
            if slot.kind == K_WKT or (slot.key != slot.json_name and not once):
                continue
            attribute = attributes[slot.key] = f"f{len(fields)}"
            kind: Any = Union[self.field_type(slot, once), msgspec.UnsetType]  # noqa: UP007 (names of types to come)
            fields.append((attribute, kind, _UNSET))
            if slot.oneof is not None and slot.alias is None:
                groups.setdefault(slot.oneof, []).append(attribute)
        self.attributes[id(table)] = attributes
        rename = {attribute: key for key, attribute in attributes.items()}
        tests = [
            " + ".join(f"(self.{a} is not UNSET)" for a in group) + " > 1"
            for group in groups.values()
            if len(group) > 1
        ]
        source = [f"    if {' or '.join(tests)}:\n        raise ValueError('oneof')\n"] if tests else []
        namespace: dict[str, Any] = {"UNSET": _UNSET}
        if once:
            fields.append(("m", Union[_Mark, msgspec.UnsetType], _UNSET))  # noqa: UP007 (as above)
            rename["m"] = MARK
            source += self.marking(table, attributes, namespace)
        cls_namespace: dict[str, Any] = {}
        if source:
            assert all(a.isidentifier() for a in attributes.values())
            exec("def __post_init__(self):\n" + "".join(source), namespace)
            cls_namespace["__post_init__"] = namespace["__post_init__"]
        cls = msgspec.defstruct(
            name,
            fields,
            module=_MODULE.__name__,
            namespace=cls_namespace,
            rename=rename,
            forbid_unknown_fields=True,
            gc=False,
        )
        setattr(_MODULE, name, cls)
        return name

    def marking(self, table: Table, attributes: dict[str, str], namespace: dict[str, Any]) -> list[str]:
        """``__post_init__`` lines of a once-held object's struct: unless it is canonical and all it
        holds too, ``m`` becomes (whether it has a snake_case key, the camelCase keys of its scalars
        the walk would change, ((key, struct) of each object it holds that is not canonical))."""
        renamed = []
        lines = ["    changed = ()\n    below = ()\n"]
        for key, attribute in attributes.items():
            slot = table[key]
            if key != slot.json_name:
                renamed.append(f"self.{attribute} is not UNSET")
            if slot.label != SINGLE:
                continue
            test = None
            if slot.kind == K_INT:
                test = f"type(self.{attribute}) is float"
            elif slot.kind == K_FLOAT:
                test = f"type(self.{attribute}) is int"
            elif slot.kind == K_ENUM:
                namespace[f"E{attribute}"] = frozenset((*slot.enum, _UNSET))
                test = f"self.{attribute} not in E{attribute}"
            elif self.once_child(slot):
                test = f"self.{attribute} is not UNSET and self.{attribute}.m is not UNSET"
                lines.append(f"    if {test}:\n        below += (({key!r}, self.{attribute}),)\n")
                continue
            if test is not None:
                lines.append(f"    if {test}:\n        changed += ({slot.json_name!r},)\n")
        lines.append(f"    renamed = {' or '.join(renamed) or 'False'}\n")
        return [*lines, "    if renamed or changed or below:\n        self.m = (renamed, changed, below)\n"]

    def field_type(self, slot: Slot, once: bool) -> Any:
        if slot.label == MAP:
            assert slot.value is not None
            return dict[str, self.element_type(slot.value, False)]  # type: ignore[misc]
        element = self.element_type(slot, once and slot.label == SINGLE)
        return element if slot.label == SINGLE else list[element]  # type: ignore[valid-type]

    def element_type(self, slot: Slot, loose: bool) -> Any:
        """The type of one value of a field; ``loose`` where a rewrite follows (see :class:`_Fixer`)."""
        kind = slot.kind
        if kind == K_MESSAGE:
            return self.struct(slot.table)
        if kind == K_STRING:
            return str
        if kind == K_BOOL:
            return bool
        if kind == K_INT:
            low, high = max(int(slot.bounds[0]), _INT64[0]), min(int(slot.bounds[1]), _INT64[1])
            integer = Annotated[int, msgspec.Meta(ge=low, le=high)]
            return integer | float if loose else integer
        if kind == K_FLOAT:
            number = Annotated[float, msgspec.Meta(ge=-slot.bounds[1], le=slot.bounds[1])]
            return int | number if loose else _NEVER_INT | number
        if kind == K_ENUM:
            return str if loose else Literal[tuple(slot.enum)]
        if kind == K_BYTES:
            return Annotated[str, msgspec.Meta(pattern=STANDARD_BASE64)]
        if kind == K_STRUCT:
            return dict[str, Any]
        assert kind == K_VALUE
        return Any
