"""Reading and writing cassettes: bounded, safe-loaded, redacted, atomic, locked and journaled.

Whole writes go through :mod:`.files` (a lock that leaves nothing behind, an atomic replace);
recording appends through :mod:`.journal` in constant time, and the journal is folded into the
cassette by one whole write when it outgrows the cassette and when the recorder closes
(:func:`compact`). Each whole write also writes or refreshes the cassette's index file beside it
(``NAME.index``, :mod:`.derived`), so that replay needs no full read. Every reader merges a journal
it finds, so what was acknowledged to a client is loadable whenever the writer died. Readers take
the lock only while a journal exists, to read cassette and journal as one state, and parse after
letting go.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .. import safe_yaml
from ..offload import no_collection
from . import codec, convert, derived_form, files, redact
from .files import MAX_BYTES, locked
from .journal import JOURNAL_KEY, Journal, applied, journal_append, journal_path, merge, read_journal, replace
from .model import FORMAT, Cassette, CassetteError, Interaction
from .redact import Secret

__all__ = [
    "MAX_BYTES", "CassetteError", "Snapshot", "append", "compact", "decode_text", "discard", "dumps", "exists",
    "from_data", "index_for", "load", "parse", "read_bytes", "read_data", "read_text", "render", "resolve", "save",
    "snapshot",
]  # fmt: skip

MAX_ALIASES = 8
SUFFIXES = (".yaml", ".yml", ".json")

_SafeDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_SafeDumper):  # type: ignore[misc]
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: Any, value: str) -> Any:
    # Multi-line text (model answers, tracebacks) reads best as a literal block.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def parse(text: str, suffix: str, max_aliases: int = MAX_ALIASES) -> Any:
    """The document in ``text``: JSON for ``.json``, else YAML through the safe, alias-counting loader."""
    try:
        return json.loads(text) if suffix == ".json" else safe_yaml.load(text, max_aliases)
    except safe_yaml.AliasBomb as exc:
        raise CassetteError(str(exc)) from None
    except (ValueError, yaml.YAMLError, RecursionError) as exc:
        raise CassetteError(f"not valid {'JSON' if suffix == '.json' else 'YAML'}: {exc}") from None


def dumps(data: dict[str, Any], suffix: str) -> str:
    if suffix == ".json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    text: str = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1 << 20
    )
    return text


def read_bytes(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """The file's bytes, refused past ``max_bytes``."""
    try:
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise CassetteError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise CassetteError(f"{path} is larger than {max_bytes} bytes")
    return data


def decode_text(path: Path, data: bytes) -> str:
    """The file's text; an empty file is an error here, not a missing cassette as in vcrpy."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CassetteError(f"{path} is not UTF-8 text") from None
    if not text.strip():
        raise CassetteError(f"{path} is empty")
    return text


def read_text(path: Path, max_bytes: int = MAX_BYTES) -> str:
    """The file's text; an empty file is an error here, not a missing cassette as in vcrpy."""
    return decode_text(path, read_bytes(path, max_bytes))


def read_data(path: Path, max_bytes: int = MAX_BYTES, max_aliases: int = MAX_ALIASES) -> Any:
    return parse(read_text(path, max_bytes), path.suffix.lower(), max_aliases)


def exists(path: Path) -> bool:
    """Whether a cassette is at ``path``, written out or so far only journaled."""
    path = Path(path)
    return path.exists() or journal_path(path).exists()


# --- reading ----------------------------------------------------------------------------------------


@dataclass
class Snapshot:
    """A cassette as one state: the file's text (None when only a journal exists), its journal, and
    the file's identity (inode, size, time) to tell later whether anyone replaced it since."""

    text: str | None
    journal: Journal | None
    stamp: tuple[int, int, int] | None = None


def _snapshot(path: Path, max_bytes: int) -> Snapshot:
    journal, stamp = read_journal(path, max_bytes), files.stamp(path)
    if stamp is None and journal is not None:
        return Snapshot(None, journal)
    return Snapshot(read_text(path, max_bytes), journal, stamp)


def snapshot(path: Path, max_bytes: int = MAX_BYTES) -> Snapshot:
    """The cassette file's text and its journal, read together (under the lock while a journal exists)."""
    path = Path(path)
    if not journal_path(path).exists():
        return Snapshot(read_text(path, max_bytes), None)
    with locked(path, required=False):
        return _snapshot(path, max_bytes)


def from_data(data: Any, source: str = "<cassette>") -> Cassette:
    """A cassette from its parsed document, in any of the shapes :func:`load` reads."""
    try:
        return convert.from_genai_replay(data) if convert.is_genai_replay(data) else codec.from_dict(data)
    except (codec.FormatError, RecursionError) as exc:
        raise CassetteError(f"{source}: {exc}") from None


def _load(path: Path, shot: Snapshot, max_aliases: int) -> Cassette:
    with no_collection():
        cassette = Cassette(metadata={"format": FORMAT})  # only a journal so far: ours, then
        if shot.text is not None:
            cassette = from_data(parse(shot.text, path.suffix.lower(), max_aliases), str(path))
        cassette = merge(cassette, shot.journal, path)
    cassette.path = path
    return cassette


def load(path: Path, max_bytes: int = MAX_BYTES, max_aliases: int = MAX_ALIASES) -> Cassette:
    """Our readable cassettes, plain vcrpy ones (YAML or JSON) and google-genai replay files, with
    whatever their journal holds that they do not."""
    path = Path(path)
    return _load(path, snapshot(path, max_bytes), max_aliases)


# --- writing ----------------------------------------------------------------------------------------


def _rendered(
    cassette: Cassette, suffix: str, secrets: Iterable[Secret] = (), plain: bool = False
) -> tuple[str, dict[str, Any]]:
    """:func:`render`'s text and the document dumped into it (what a reader parses back)."""
    secrets = frozenset(secrets)
    interactions = [redact.scrub(i, secrets) for i in cassette.interactions]
    scrubbed = Cassette(interactions=interactions, metadata=redact.scrub_data(cassette.metadata, secrets))
    document = convert.to_vcrpy(scrubbed) if plain else codec.to_dict(scrubbed)
    text = dumps(document, suffix)
    redact.refuse(text, secrets)
    return text, document


def render(cassette: Cassette, suffix: str, secrets: Iterable[Secret] = (), plain: bool = False) -> str:
    """The file's text after redaction; refuses if anything that looks like a credential is left."""
    return _rendered(cassette, suffix, secrets, plain)[0]


def index_for(path: Path, text: str, document: Any) -> bytes | None:
    """For a writer: the index file due beside the cassette it writes at ``path`` (:mod:`.derived`),
    given the text it writes (redacted and checked) and the document dumped into that text; None when
    none is due (a small cassette without one) or none can be made.

    The cassette is built from the document as a reader builds it from the parsed text, without
    parsing the text again (which would cost as much as the write): the safe dumper and loader give
    back the JSON data a cassette holds unchanged."""
    data = text.encode("utf-8")
    if not derived_form.index_due(path, len(data)):
        return None
    try:
        return derived_form.index_blob(path, data, from_data(document, str(path)))
    except (CassetteError, ValueError):  # the cassette is written; only its index is not
        return None


def save(cassette: Cassette, path: Path, secrets: Iterable[Secret] = (), plain: bool = False) -> None:
    """Redacts, checks and writes; ``plain`` writes vcrpy's own shape (string bodies) instead of ours.

    Journaled interactions that ``cassette`` does not hold (per its ``metadata.journal``) stay
    pending, to be merged by the next reader: they were acknowledged to some recorder."""
    path = Path(path)
    with locked(path):
        journal = read_journal(path)
        metadata = dict(cassette.metadata)
        held = applied(metadata, journal) if journal is not None else 0
        if not held:
            metadata.pop(JOURNAL_KEY, None)
        suffix = path.suffix.lower()
        text, document = _rendered(cassette.model_copy(update={"metadata": metadata}), suffix, secrets, plain)
        if journal is None or (held < len(journal.lines) and journal.id):
            files.write_atomic(path, text)
        else:
            replace(path, text, journal)
            if held and not journal_path(path).exists():  # its marker has done its job: a file without it
                metadata.pop(JOURNAL_KEY)
                text, document = _rendered(cassette.model_copy(update={"metadata": metadata}), suffix, secrets, plain)
                files.write_atomic(path, text)
        derived_form.place_index(path, index_for(path, text, document))


def compact(path: Path, secrets: Iterable[Secret] = frozenset(), wait: bool = True) -> None:
    """Folds the journal into the cassette and retires it; nothing to do without one. A cassette
    file that exists but cannot be read is an error, never overwritten.

    Parsing and rendering (seconds for tens of megabytes) hold no lock, so appends go on meanwhile;
    only one folder at a time, though, by a lock of the journal itself (which appends never take):
    without ``wait`` another fold in progress means this one is not needed. The lock is taken only
    to read both files as one state and, at the end, to check that nobody replaced the cassette
    since and swap the new one in.
    """
    path = Path(path)
    claim = files.claim(journal_path(path), wait=wait)
    if claim is None:
        return
    try:
        with locked(path):
            shot = _snapshot(path, MAX_BYTES)
        if shot.journal is None:
            return
        text, blob = None, None
        with no_collection():  # a full collection over what this makes would stall every thread, the loop's too
            if shot.journal.lines:
                text, document = _rendered(_load(path, shot, MAX_ALIASES), path.suffix.lower(), secrets)
                blob = index_for(path, text, document)
                del document
        with locked(path):
            now = read_journal(path)
            if now is None or now.id != shot.journal.id or files.stamp(path) != shot.stamp:
                return  # saved, folded or discarded by someone else meanwhile
            if text is not None:
                replace(path, text, shot.journal)
                derived_form.place_index(path, blob)
            elif not now.lines:
                journal_path(path).unlink()  # a journal a crash cut short before its first line
    finally:
        claim.release()


def append(path: Path, interactions: list[Interaction], secrets: Iterable[Secret] = frozenset()) -> None:
    """Journals the interactions, folding the journal in when it has outgrown the cassette, so
    concurrent recorders neither lose nor tear anything and each call costs constant time, amortised.
    A fold that fails (a cassette that cannot be read) raises; what was journaled stays journaled."""
    if journal_append(path, interactions, secrets):
        compact(path, secrets, wait=False)


def discard(path: Path) -> None:
    """Removes the cassette, its journal and its index file (recording afresh)."""
    path = Path(path)
    with locked(path):
        for target in (path, journal_path(path), files.index_path(path)):
            with contextlib.suppress(FileNotFoundError):
                target.unlink()


def resolve(root: Path, name: str) -> Path:
    """The cassette file ``name`` names under ``root``; nothing may lead outside it, symlinks included."""
    if not name or "\x00" in name:
        raise CassetteError("a cassette name must be a non-empty relative path")
    relative = Path(name)
    if relative.is_absolute() or name.startswith(("/", "\\")) or ".." in relative.parts or "\\" in name:
        raise CassetteError(f"cassette name {name!r} must be a relative path without '..'")
    if not relative.name:
        raise CassetteError(f"cassette name {name!r} names no file")
    if relative.suffix.lower() not in SUFFIXES:
        relative = relative.with_name(relative.name + ".yaml")
    base = Path(root).resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base) or target == base:
        raise CassetteError(f"cassette name {name!r} leads outside {root}")
    return base / relative
