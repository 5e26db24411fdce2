"""A replayer's derived index of a cassette: read once, then ready in a fraction of a second.

Parsing a 20 MB YAML cassette takes seconds even with libyaml, and its parsed form takes hundreds of
megabytes; a suite that replays one on every run pays both before its first answer. So the first
replayer that reads a cassette also writes what replay needs of it, in a form that is cheap to
read, into a per-user cache folder: one file per cassette content (named by the SHA-256 of the
file's bytes, its suffix and the decoding code's own fingerprint, so an edited cassette or a changed
decoder never meets a stale index). Later replayers hash the cassette, find that file, and keep it
as bytes, decoding an interaction only when it is first replayed. Beside it, per matcher, a keys
file holds each interaction's match-key digest and flavour (named also by a fingerprint of the
matching and wire code that canonicalises bodies), so a later start computes no key at all; without
one, keys are computed from the request lines and the keys file written.

The file: a header line (``{"gemini-emulator-derived": 1, "count": N, "check": ..., "metadata":
...}``), then N request lines (``[method, uri, body]``), then N lines each holding an interaction
in our readable shape without its request body. It is written only when every interaction decodes
from it equal to what the full read gave (so values JSON cannot carry exactly keep the full read),
atomically, and the header's check (the SHA-256 of what follows it) is verified before use: a file
that fails it is ignored and rewritten.

The cache folder is ``$GEMINI_EMULATOR_CASSETTE_CACHE`` when set (empty or ``off``: no cache), else
``$XDG_CACHE_HOME/gemini-emulator/cassettes`` (``~/.cache/...``). A cassette with a journal (a
recorder still at work) is always read in full, as :func:`.store.load` does.

A cache is empty on a fresh machine, and a fresh clone in CI is where cassettes are replayed most.
So whoever *writes* a cassette (:func:`.store.save`, the journal's fold, ``cassette convert``) also
writes its index file beside it, ``NAME.index`` (``chat.yaml.index``), for cassettes of
:data:`INDEX_MIN_BYTES` (512 KiB) or more or when one is there already, atomically and under the
cassette's lock; ``gemini-emulator cassette index`` writes one for any cassette
(:func:`write_index`). It is made from what was written, after redaction, so it holds nothing the
cassette does not. It is one line of header, ``{"gemini-emulator-index": 1, "cassette": NAME,
"sha256": ..., "code": ..., "keys": ..., "digests": ...}`` (the SHA-256 of the cassette's bytes, the
decoding code's fingerprint, the default matcher's keys-file stamp and that keys file in hex), then
the derived file as above. A replayer uses it when the cassette's bytes and the code are the ones it
was stamped with and the derived file checks out; anything else (an edited cassette, another version
of the emulator, a damaged file) is ignored, never an error, and the cache or the full read answers
instead. A replayer only reads: it never writes beside a cassette.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
from pathlib import Path

from ..offload import no_collection
from . import files, redact, store
from .derived_form import (
    INDEX_MIN_BYTES,
    Derived,
    derive,
    fingerprint,
    index_blob,
    keys_data,
    keys_stamp,
    open_derived,
    read_index,
    read_keys,
)
from .files import INDEX_SUFFIX, MAX_BYTES, index_path
from .journal import journal_path
from .matching import Index, Matcher
from .model import Cassette, CassetteError

__all__ = [
    "CACHE_ENV", "INDEX_MIN_BYTES", "INDEX_SUFFIX", "Derived", "cache_folder", "fingerprint", "forget", "index_path",
    "index_state", "replay_index", "write_index",
]  # fmt: skip

CACHE_ENV = "GEMINI_EMULATOR_CASSETTE_CACHE"
MAX_ENTRIES = 64
"""Derived files kept; the least recently used go first (a recorder leaves one per folded state)."""
_RECENT = 8
_recent: dict[tuple[str, str, Matcher], tuple[Cassette, Index]] = {}
"""Indexes built lately, by content: the server is set up twice (checked, then run) and a folder of
cassettes chooses the same one for many contexts; each replayer forks its own state off these."""
_recent_lock = threading.Lock()


def cache_folder() -> Path | None:
    """Where derived indexes live, or None when caching is off."""
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        return Path(value).expanduser() if value.strip() and value.strip().lower() != "off" else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gemini-emulator" / "cassettes"


def _keys_name(name: str, matcher: Matcher) -> str:
    return f"{name.removesuffix('.jsonl')}.keys-{keys_stamp(matcher)}"


def _name_of(digest: bytes, suffix: str) -> str:
    """The derived file's name for a cassette whose bytes have SHA-256 ``digest``."""
    h = hashlib.sha256(fingerprint())
    h.update(suffix.encode() + b"\0")
    h.update(digest)
    return h.hexdigest() + ".jsonl"


def _name(data: bytes, suffix: str) -> str:
    return _name_of(hashlib.sha256(data).digest(), suffix)


def _read(where: Path) -> bytes | None:
    try:
        with where.open("rb") as f:
            data = f.read(4 * MAX_BYTES)
    except OSError:
        return None
    with contextlib.suppress(OSError):
        os.utime(where)  # recently used: kept when the folder is pruned
    return data


def _store(folder: Path, name: str, data: bytes) -> None:
    """Writes the derived file atomically; a cache that cannot be written is no error, only slower."""
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, folder / name)
        tmp = None
        entries = sorted(folder.glob("*.jsonl"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for stale in entries[MAX_ENTRIES:]:
            for keys in folder.glob(f"{stale.stem}.keys-*"):
                keys.unlink()
            stale.unlink()
    except OSError:
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def forget() -> None:
    """Drops the indexes built lately (a test that wants the next read to go to the file)."""
    with _recent_lock:
        _recent.clear()


def _content_digest(path: Path, max_bytes: int) -> bytes | None:
    """The SHA-256 of the file as it is now, hashed as it is read rather than held whole; None when
    it cannot be read or is too large (the full read then says so)."""
    h, size = hashlib.sha256(), 0
    try:
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                size += len(chunk)
                if size > max_bytes:
                    return None
                h.update(chunk)
    except OSError:
        return None
    return h.digest()


def _remember(key: tuple[str, str, Matcher], found: tuple[Cassette, Index]) -> tuple[Cassette, Index]:
    with _recent_lock:
        _recent[key] = found
        while len(_recent) > _RECENT:
            del _recent[next(iter(_recent))]
    return found


def replay_index(path: Path, matcher: Matcher | None = None, max_bytes: int = MAX_BYTES) -> tuple[Cassette, Index]:
    """The cassette at ``path`` and its replay index, through a derived file when there is one for
    these bytes: the index file beside the cassette, else the cache's (and one is written into the
    cache when there is neither). The cassette returned holds the interactions only when they were
    read in full; replay asks the index for them. Errors are :func:`.store.load`'s."""
    path, matcher = Path(path), matcher or Matcher()
    if journal_path(path).exists():
        cassette = store.load(path, max_bytes)
        return cassette, Index(cassette, matcher)
    suffix, folder = path.suffix.lower(), cache_folder()
    digest = _content_digest(path, max_bytes)
    if digest is not None:
        name = _name_of(digest, suffix)
        with _recent_lock:
            found = _recent.get((name, str(path), matcher))
        if found is not None:
            return found
        found = _beside(path, digest, name, folder, matcher)
        if found is None and folder is not None:
            found = _warm(path, folder, name, matcher)
        if found is not None:
            return _remember((name, str(path), matcher), found)
    data = store.read_bytes(path, max_bytes)
    name = _name(data, suffix)  # what was read, whatever was hashed above
    return _remember((name, str(path), matcher), _cold(path, data, folder, name, matcher))


def _warm(path: Path, folder: Path, name: str, matcher: Matcher) -> tuple[Cassette, Index] | None:
    found = _read(folder / name)
    if found is None:
        return None
    with no_collection():
        opened = open_derived(found)
        if opened is None:
            return None
        source, metadata = opened
        keys_name = _keys_name(name, matcher)
        keys = read_keys(_read(folder / keys_name), len(source))
        index = Index(matcher=matcher, source=source, keys=keys)
    if keys is None:
        _store(folder, keys_name, keys_data(index))
    return Cassette(metadata=metadata, path=path), index


def _cold(path: Path, data: bytes, folder: Path | None, name: str, matcher: Matcher) -> tuple[Cassette, Index]:
    with no_collection():
        text = store.decode_text(path, data)
        cassette = store.from_data(store.parse(text, path.suffix.lower()), str(path))
        cassette.path = path
        del text
        derived = derive(cassette)
        if derived is None:
            return cassette, Index(cassette, matcher)
        if folder is not None:
            _store(folder, name, derived)
        opened = open_derived(derived)
        assert opened is not None
        shell = Cassette(metadata=cassette.metadata, path=path)
        del cassette
        index = Index(matcher=matcher, source=opened[0])
    if folder is not None:
        _store(folder, _keys_name(name, matcher), keys_data(index))
    return shell, index


def _beside(
    path: Path, digest: bytes, name: str, folder: Path | None, matcher: Matcher
) -> tuple[Cassette, Index] | None:
    """The cassette through its index file, when that was made from these very bytes by this code."""
    found = read_index(index_path(path))
    if found is None:
        return None
    header, body = found
    if header.get("sha256") != digest.hex() or header.get("code") != fingerprint().hex():
        return None
    with no_collection():
        opened = open_derived(body)
        if opened is None:
            return None
        source, metadata = opened
        keys = None
        if header.get("keys") == keys_stamp(matcher) and isinstance(header.get("digests"), str):
            with contextlib.suppress(ValueError):
                keys = read_keys(bytes.fromhex(header["digests"]), len(source))
        keys_name = _keys_name(name, matcher)
        if keys is None and folder is not None:
            keys = read_keys(_read(folder / keys_name), len(source))
        index = Index(matcher=matcher, source=source, keys=keys)
    if keys is None and folder is not None:
        _store(folder, keys_name, keys_data(index))
    return Cassette(metadata=metadata, path=path), index


def index_state(path: Path, max_bytes: int = MAX_BYTES) -> str:
    """``current`` when the index beside the cassette would be used whole (its match keys too),
    ``stale`` when one is there but would be ignored or its keys computed again, ``missing`` when
    there is none."""
    path = Path(path)
    if not index_path(path).exists():
        return "missing"
    found, digest = read_index(index_path(path)), _content_digest(path, max_bytes)
    if found is None or digest is None:
        return "stale"
    header, body = found
    if header.get("sha256") != digest.hex() or header.get("code") != fingerprint().hex():
        return "stale"
    if header.get("keys") != keys_stamp(Matcher()) or not isinstance(header.get("digests"), str):
        return "stale"
    with no_collection():
        opened = open_derived(body)
    try:
        keys = None if opened is None else read_keys(bytes.fromhex(header["digests"]), len(opened[0]))
    except ValueError:
        keys = None
    return "stale" if keys is None else "current"


def write_index(path: Path, max_bytes: int = MAX_BYTES) -> int:
    """Writes (or refreshes) the index beside the cassette at ``path`` from a full read of its bytes,
    and returns how many interactions it holds. Refuses a cassette that holds anything shaped like a
    credential (the index is meant to be committed with it) and one whose values JSON cannot carry."""
    path = Path(path)
    with files.locked(path):
        data = store.read_bytes(path, max_bytes)
        text = store.decode_text(path, data)
        redact.refuse(text)
        with no_collection():
            cassette = store.from_data(store.parse(text, path.suffix.lower()), str(path))
            del text
            blob = index_blob(path, data, cassette)
        if blob is None:
            raise CassetteError(f"{path} holds values JSON cannot carry exactly; replay reads it in full")
        files.write_atomic(index_path(path), blob)
        return len(cassette.interactions)
