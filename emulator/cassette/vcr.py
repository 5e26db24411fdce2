"""A vcrpy serializer for our readable cassettes: vcrpy itself replays them and records into them.

vcrpy is no dependency of the emulator, and nothing here imports it (only :func:`register` does,
when called). A vcrpy user registers the serializer and names it::

    import vcr
    from emulator.cassette import vcr as gemini_vcr

    gemini_vcr.register()  # on vcrpy's default VCR (behind vcr.use_cassette); or register(my_vcr)
    with vcr.use_cassette("cassettes/chat.yaml", serializer="gemini-emulator"):
        ...

or, by hand, ``my_vcr.register_serializer("gemini-emulator", emulator.cassette.vcr)``: the module is
itself a serializer (``serialize`` and ``deserialize``), writing YAML; :data:`JSON` writes JSON.

Reading takes anything :func:`emulator.cassette.load` reads and hands vcrpy the plain shape that
:func:`.convert.to_vcrpy` writes: string bodies, a JSON answer and a stream framed byte for byte as
the emulator sends them. A plain vcrpy cassette is handed over as it was read. Writing takes the
plain shape vcrpy records and writes our readable format, redacted and checked as every other
write (:func:`.store.render`). What vcrpy's shape has no slot for (event delays, a stream cut short,
an interaction's metadata) rides along in each response under :data:`STASH`, which vcrpy's players
never read, and is written back: a cassette survives vcrpy's re-saving it unchanged. (vcrpy
plays a stream cut short as the events it holds, without the error the emulator ends it with.)

The formats this project writes, as vcrpy sees them: readable YAML and JSON load in vcrpy with any
serializer but replay only through this one (vcrpy's own players want ``body.string``); plain
vcrpy cassettes (``--plain``, ``convert --to vcrpy``) are vcrpy's own format. google-genai replay
files (``convert --to genai-replay``) are the SDK's format, not vcrpy's: they load through
:func:`emulator.cassette.load`, this serializer reads them too, and a vcrpy that records into one
rewrites it in our readable format. A journal beside a cassette (a recorder still at work) is not
seen here, since vcrpy hands a serializer the file's text alone: read it once the recorder stopped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from . import codec, convert, store
from .model import FORMAT, CassetteError, Interaction

__all__ = ["JSON", "JSON_NAME", "NAME", "STASH", "YAML", "Serializer", "deserialize", "register", "serialize"]

NAME = "gemini-emulator"
JSON_NAME = "gemini-emulator-json"
STASH = "gemini_emulator"
"""The key, in a response vcrpy holds, under which what its shape cannot carry is kept."""


def _parse(text: str) -> Any:
    if len(text.encode()) > store.MAX_BYTES:
        raise CassetteError(f"the cassette is larger than {store.MAX_BYTES} bytes")
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            pass  # a YAML flow mapping, perhaps
    return store.parse(text, ".yaml")


def _is_ours(data: Any) -> bool:
    metadata = data.get("metadata") if isinstance(data, dict) else None
    return isinstance(metadata, dict) and metadata.get("format") == FORMAT


def _stash(item: Interaction) -> dict[str, Any]:
    response = item.response
    extra: dict[str, Any] = {}
    delays = [e.delay for e in response.events or []]
    if any(d is not None for d in delays):
        extra["delays"] = delays
    if not response.complete:
        extra["complete"] = False
    if item.metadata:
        extra["metadata"] = item.metadata
    return extra


def _unstash(item: Interaction, extra: Any) -> None:
    if not isinstance(extra, dict):
        return
    events, delays = item.response.events, extra.get("delays")
    if events is not None and isinstance(delays, list) and len(delays) == len(events):
        for event, delay in zip(events, delays, strict=True):
            event.delay = delay
    if extra.get("complete") is False:
        item.response.complete = False
    if isinstance(extra.get("metadata"), dict):
        item.metadata = extra["metadata"]


class Serializer:
    """vcrpy's serializer protocol: ``deserialize`` a file's text into its cassette dict, ``serialize``
    one back. ``suffix`` picks what is written (``.yaml`` or ``.json``); any is read. ``secrets``
    (a live key) are hunted in every disguise before writing, as ``serve --record`` does."""

    def __init__(self, suffix: str = ".yaml", secrets: Iterable[str] = ()) -> None:
        self.suffix = suffix
        self.secrets = frozenset(secrets)

    def deserialize(self, cassette_string: str) -> dict[str, Any]:
        data = _parse(cassette_string)
        if not (_is_ours(data) or convert.is_genai_replay(data)):
            if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
                raise CassetteError("not a cassette: expected a mapping with an 'interactions' list")
            return data  # vcrpy's own shape, as vcrpy's serializers read it
        cassette = store.from_data(data)
        plain = convert.to_vcrpy(cassette)
        for item, out in zip(cassette.interactions, plain["interactions"], strict=True):
            if extra := _stash(item):
                out["response"][STASH] = extra
        return plain

    def serialize(self, cassette_dict: dict[str, Any]) -> str:
        try:
            cassette = codec.from_dict(cassette_dict, plain=True)
        except codec.FormatError as exc:
            raise CassetteError(f"cannot write vcrpy's cassette: {exc}") from None
        for item, raw in zip(cassette.interactions, cassette_dict["interactions"], strict=True):
            _unstash(item, raw["response"].get(STASH))
        return store.render(cassette, self.suffix, self.secrets)


YAML = Serializer(".yaml")
JSON = Serializer(".json")
serialize = YAML.serialize
deserialize = YAML.deserialize


def register(target: Any = None, secrets: Iterable[str] = ()) -> Any:
    """Registers :data:`NAME` (YAML) and :data:`JSON_NAME` on ``target``, a ``vcr.VCR`` (vcrpy's
    default one, behind ``vcr.use_cassette``, when None), and returns it."""
    if target is None:
        import vcr  # vcrpy, only when asked: the emulator does not depend on it

        target = vcr.default_vcr
    target.register_serializer(NAME, Serializer(".yaml", secrets))
    target.register_serializer(JSON_NAME, Serializer(".json", secrets))
    return target
