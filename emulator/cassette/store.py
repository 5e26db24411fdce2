"""Reading and writing cassette files safely: bounded, safe-loaded, redacted, atomic and locked.

A whole write replaces the file in one ``os.replace`` of a synced temporary file, so a reader sees
the old cassette or the new one, never half of one. Recording cannot afford that per interaction
(a 30 MB cassette re-read, re-rendered and synced for every call), so a recorder appends each
interaction to a journal beside the cassette, ``.NAME.pending.jsonl`` (:func:`journal_append`), and
the journal is folded into the cassette by one whole write when it outgrows the cassette and when
the recorder closes (:func:`compact`): constant cost per interaction, amortised. Every reader
merges a journal it finds, so a kill at any moment leaves every acknowledged interaction loadable
and nothing torn; the cassette's ``metadata.journal`` says how much of the journal it already
holds, so a fold that crashed before removing the journal never counts an interaction twice.

Writers serialise on ``flock`` of ``.NAME.lock`` rather than the cassette, whose inode changes with
every replace. The holder removes the lock file as it lets go, so nothing is left behind; a writer
that then finds it has locked a file no longer at that path starts again, so the removal never
lets two writers in at once. Readers take the lock only while a journal exists, to read cassette
and journal as one state, and parse after letting go.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import glob
import json
import os
import tempfile
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import codec, convert, redact
from .model import FORMAT, Cassette, Interaction

MAX_BYTES = 64 * 1024 * 1024
MAX_ALIASES = 8
SUFFIXES = (".yaml", ".yml", ".json")


class CassetteError(ValueError):
    """A cassette that cannot be used: empty, unreadable, corrupt, too large, unsafe or misnamed."""


_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SafeDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Loader(_SafeLoader):  # type: ignore[misc]
    """Safe loading that counts alias uses: a few are normal, thousands are a billion-laughs bomb."""

    max_aliases = MAX_ALIASES

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.alias_uses = 0

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node in self.constructed_objects:
            self.alias_uses += 1
            if self.alias_uses > self.max_aliases:
                raise CassetteError(f"more than {self.max_aliases} YAML aliases; refusing to expand them")
        return super().construct_object(node, deep)


class _Dumper(_SafeDumper):  # type: ignore[misc]
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: Any, value: str) -> Any:
    # Multi-line text (model answers, tracebacks) reads best as a literal block.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


_PAUSES = [0, False]  # threads inside _no_gc, and whether the collector was on before the first
_PAUSES_LOCK = threading.Lock()


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Parsing makes millions of objects and no cycles; the collector's passes over them would make
    loading quadratic (a 5,000-interaction YAML cassette: 6 s with them, 1.3 s without), and one
    full pass in a worker thread stalls the event loop too (300-400 ms for a 6 MB cassette). The
    pause is counted, so that threads overlapping in here do not switch it back on for each other."""
    with _PAUSES_LOCK:
        if _PAUSES[0] == 0:
            _PAUSES[1] = gc.isenabled()
            gc.disable()
        _PAUSES[0] += 1
    try:
        yield
    finally:
        with _PAUSES_LOCK:
            _PAUSES[0] -= 1
            if _PAUSES[0] == 0 and _PAUSES[1]:
                gc.enable()


def parse(text: str, suffix: str, max_aliases: int = MAX_ALIASES) -> Any:
    """The document in ``text``: JSON for ``.json``, else YAML through the safe, alias-counting loader."""
    try:
        if suffix == ".json":
            return json.loads(text)
        loader = _Loader(text)
        loader.max_aliases = max_aliases
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except (ValueError, yaml.YAMLError, RecursionError) as exc:
        if isinstance(exc, CassetteError):
            raise
        raise CassetteError(f"not valid {'JSON' if suffix == '.json' else 'YAML'}: {exc}") from None


def dumps(data: dict[str, Any], suffix: str) -> str:
    if suffix == ".json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    text: str = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1 << 20
    )
    return text


def read_text(path: Path, max_bytes: int = MAX_BYTES) -> str:
    """The file's text; an empty file is an error here, not a missing cassette as in vcrpy."""
    try:
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise CassetteError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise CassetteError(f"{path} is larger than {max_bytes} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CassetteError(f"{path} is not UTF-8 text") from None
    if not text.strip():
        raise CassetteError(f"{path} is empty")
    return text


def read_data(path: Path, max_bytes: int = MAX_BYTES, max_aliases: int = MAX_ALIASES) -> Any:
    return parse(read_text(path, max_bytes), path.suffix.lower(), max_aliases)


JOURNAL_KEY = "journal"
"""``metadata.journal`` of a cassette: ``{id, applied}``, the journal whose first lines it already holds."""

_JOURNAL_TAG = "gemini-emulator-journal"


def journal_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.pending.jsonl")


def exists(path: Path) -> bool:
    """Whether a cassette is at ``path``, written out or so far only journaled."""
    path = Path(path)
    return path.exists() or journal_path(path).exists()


# --- locking ---------------------------------------------------------------------------------------


def _flock(where: Path, create: bool, wait: bool = True) -> int | None:
    """A descriptor of ``where`` holding its flock, once what it locked is still what the path names
    (a holder may remove the file while others wait on it); None if absent, or busy and not ``wait``."""
    while True:
        try:
            fd = os.open(where, (os.O_RDWR | os.O_CREAT if create else os.O_RDONLY) | os.O_CLOEXEC, 0o644)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        if _stamp(where, fd) is not None:
            return fd
        os.close(fd)


def _stamp(path: Path, fd: int | None = None) -> tuple[int, int, int] | None:
    """The file at ``path`` as (inode, size, mtime): a replaced file has another. With ``fd``, None
    unless that descriptor is the file the path names."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    if fd is not None and (os.fstat(fd).st_dev, os.fstat(fd).st_ino) != (stat.st_dev, stat.st_ino):
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


@contextlib.contextmanager
def locked(path: Path, required: bool = True) -> Iterator[None]:
    """Exclusive across processes and threads alike, since each holder opens its own descriptor.
    Not ``required`` (readers): when the lock cannot be had (a read-only folder), go on without."""
    path = Path(path)
    lock = path.with_name(f".{path.name}.lock")
    try:
        if required:
            path.parent.mkdir(parents=True, exist_ok=True)
        fd = _flock(lock, create=True)
    except OSError:
        if required:
            raise
        fd = None
    try:
        yield
    finally:
        if fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(lock)  # while still holding it: see the module's notes
            os.close(fd)


# --- the journal ------------------------------------------------------------------------------------


@dataclass
class Journal:
    """A journal as read: its id (empty when a crash cut even its header short) and its whole lines."""

    id: str
    lines: list[bytes]
    torn: bool
    data: bytes

    @property
    def text(self) -> str:
        """All of it as text, for the secret scans of lint and ``cassette redact``."""
        return self.data.decode("utf-8", "replace")


def _read_journal(path: Path, max_bytes: int = MAX_BYTES) -> Journal | None:
    where = journal_path(path)
    try:
        with where.open("rb") as f:
            data = f.read(max_bytes + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CassetteError(f"cannot read {where}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise CassetteError(f"{where} is larger than {max_bytes} bytes")
    complete, newline, rest = data.rpartition(b"\n")
    lines = complete.split(b"\n") if newline else []
    journal = Journal("", lines[1:], bool(rest), data)
    if lines:
        try:
            header = json.loads(lines[0])
            journal.id = header["id"] if header.get(_JOURNAL_TAG) == 1 else ""
        except (ValueError, TypeError, KeyError, AttributeError):
            pass
        if not journal.id or not isinstance(journal.id, str):
            raise CassetteError(f"{where} is not a cassette journal (its first line is no journal header)")
    return journal


def _header() -> bytes:
    return json.dumps({_JOURNAL_TAG: 1, "id": uuid.uuid4().hex}).encode() + b"\n"


def _line(interaction: Interaction, secrets: Iterable[str]) -> bytes:
    """One journal line: the interaction redacted and scanned exactly as a whole write would be."""
    item = codec.interaction_to_dict(redact.scrub(interaction, secrets))
    text = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
    check(text, secrets)
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        raise CassetteError("refusing to write: the interaction holds a lone surrogate, not text") from None


def _heal(fd: int) -> int:
    """The journal's size once a last line that a crash cut short is cut off; it was never acknowledged."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return size
    end = size
    while end > 0:
        start = max(0, end - 65536)
        cut = os.pread(fd, end - start, start).rfind(b"\n")
        if cut >= 0:
            os.ftruncate(fd, start + cut + 1)
            return start + cut + 1
        end = start
    os.ftruncate(fd, 0)
    return 0


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _sync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def journal_append(path: Path, interactions: list[Interaction], secrets: Iterable[str] = frozenset()) -> bool:
    """Appends to the cassette's journal without reading or rewriting the cassette; True when the
    journal has outgrown the cassette and should be folded in (:func:`compact`).

    The journal is a header line (``{"gemini-emulator-journal": 1, "id": ...}``), then one
    interaction per line in our readable format, redacted and scanned first, written with one
    ``write`` and synced before this returns. A crash leaves at most a last line cut short, which
    readers ignore and the next writer cuts off.
    """
    path = Path(path)
    data = b"".join(_line(i, secrets) for i in interactions)
    with locked(path):
        cassette_size = path.stat().st_size if path.exists() else 0
        where = journal_path(path)
        fd = os.open(where, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        size = -1
        try:
            size = _heal(fd)
            data = (_header() if size == 0 else b"") + data
            if cassette_size + size + len(data) > MAX_BYTES:
                raise CassetteError(f"refusing to write: {path} would grow past {MAX_BYTES} bytes, what replay reads")
            try:
                _write_all(fd, data)
                os.fsync(fd)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)
                raise
        except BaseException:
            if size == 0:
                with contextlib.suppress(OSError):
                    os.unlink(where)
            raise
        finally:
            os.close(fd)
        if size == 0:
            _sync_dir(path.parent)
    return size + len(data) > cassette_size


# --- reading ----------------------------------------------------------------------------------------


@dataclass
class Snapshot:
    """A cassette as one state: the file's text (None when only a journal exists), its journal, and
    the file's identity (inode, size, time) to tell later whether anyone replaced it since."""

    text: str | None
    journal: Journal | None
    stamp: tuple[int, int, int] | None = None


def _snapshot(path: Path, max_bytes: int) -> Snapshot:
    journal, stamp = _read_journal(path, max_bytes), _stamp(path)
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


def _applied(metadata: dict[str, Any], journal: Journal) -> int:
    """How many of the journal's lines the cassette already holds (a fold that crashed before
    removing the journal), so that none is counted twice."""
    marker = metadata.get(JOURNAL_KEY)
    if isinstance(marker, dict) and marker.get("id") == journal.id and isinstance(marker.get("applied"), int):
        return max(0, int(marker["applied"]))
    return 0


def merge(cassette: Cassette, journal: Journal | None, path: Path) -> Cassette:
    """Adds the journal's interactions the cassette does not hold yet, and records that it holds them."""
    if journal is None or not journal.id:
        return cassette
    where, items = journal_path(path), []
    for number, line in enumerate(journal.lines[_applied(cassette.metadata, journal) :], start=2):
        try:
            items.append(json.loads(line))
        except ValueError:
            raise CassetteError(f"{where}: line {number} is not JSON; the journal is corrupt") from None
    try:
        cassette.interactions += codec.from_dict({"metadata": {"format": FORMAT}, "interactions": items}).interactions
    except (codec.FormatError, RecursionError) as exc:
        raise CassetteError(f"{where}: {exc}") from None
    cassette.metadata[JOURNAL_KEY] = {"id": journal.id, "applied": len(journal.lines)}
    return cassette


def _load(path: Path, shot: Snapshot, max_aliases: int) -> Cassette:
    with _no_gc():
        cassette = Cassette(metadata={"format": FORMAT})  # only a journal so far: ours, then
        if shot.text is not None:
            data = parse(shot.text, path.suffix.lower(), max_aliases)
            try:
                cassette = convert.from_genai_replay(data) if convert.is_genai_replay(data) else codec.from_dict(data)
            except (codec.FormatError, RecursionError) as exc:
                raise CassetteError(f"{path}: {exc}") from None
        cassette = merge(cassette, shot.journal, path)
    cassette.path = path
    return cassette


def load(path: Path, max_bytes: int = MAX_BYTES, max_aliases: int = MAX_ALIASES) -> Cassette:
    """Our readable cassettes, plain vcrpy ones (YAML or JSON) and google-genai replay files, with
    whatever their journal holds that they do not."""
    path = Path(path)
    return _load(path, snapshot(path, max_bytes), max_aliases)


# --- writing ----------------------------------------------------------------------------------------


def render(cassette: Cassette, suffix: str, secrets: Iterable[str] = (), plain: bool = False) -> str:
    """The file's text after redaction; refuses if anything that looks like a credential is left."""
    secrets = frozenset(secrets)
    interactions = [redact.scrub(i, secrets) for i in cassette.interactions]
    scrubbed = Cassette(interactions=interactions, metadata=redact.scrub_data(cassette.metadata, secrets))
    text = dumps(convert.to_vcrpy(scrubbed) if plain else codec.to_dict(scrubbed), suffix)
    check(text, secrets)
    return text


def check(text: str, secrets: Iterable[str] = ()) -> None:
    """The last line of defence on every write path: no key or token pattern reaches the disk, and no
    piece of a live secret in any disguise (case, percent-encoding, base64)."""
    hits = redact.find_secrets(text)
    disguised = redact.find_disguised(text, secrets)
    if hits or disguised:
        shown = ", ".join(sorted({h[:4] + "..." for h in hits}) + ["pieces of a live secret"] * bool(disguised))
        raise CassetteError(
            f"refusing to write: {len(hits) + len(disguised)} credential-like string(s) survived redaction "
            f"({shown}); pass them as secrets to redact, or remove them"
        )


def write_atomic(path: Path, text: str | bytes) -> None:
    """Replaces ``path`` with ``text`` in one step. Call under :func:`locked`: every writer of a
    temporary file holds the lock, so one left by a writer killed before its rename is removed here."""
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8") if isinstance(text, str) else text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _sync_dir(path.parent)  # make the rename itself durable


def _replace(path: Path, text: str, held: Journal) -> None:
    """Writes a cassette whose ``metadata.journal`` says it holds ``held``'s lines, then retires that
    journal: removed, or replaced by a new one with the lines appended since. A crash between the two
    steps is harmless since the marker is written with the cassette."""
    write_atomic(path, text)
    now = _read_journal(path)
    if now is None or now.id != held.id:
        return  # not the journal the marker speaks of
    later = now.lines[len(held.lines) :]
    if later:
        write_atomic(journal_path(path), _header() + b"".join(line + b"\n" for line in later))
    else:
        journal_path(path).unlink()
        _sync_dir(path.parent)


def save(cassette: Cassette, path: Path, secrets: Iterable[str] = (), plain: bool = False) -> None:
    """Redacts, checks and writes; ``plain`` writes vcrpy's own shape (string bodies) instead of ours.

    Journaled interactions that ``cassette`` does not hold (per its ``metadata.journal``) stay
    pending, to be merged by the next reader: they were acknowledged to some recorder."""
    path = Path(path)
    with locked(path):
        journal = _read_journal(path)
        metadata = dict(cassette.metadata)
        applied = _applied(metadata, journal) if journal is not None else 0
        if not applied:
            metadata.pop(JOURNAL_KEY, None)
        text = render(cassette.model_copy(update={"metadata": metadata}), path.suffix.lower(), secrets, plain)
        if journal is None or (applied < len(journal.lines) and journal.id):
            write_atomic(path, text)
            return
        _replace(path, text, journal)
        if applied and not journal_path(path).exists():  # its marker has done its job: a file without it
            metadata.pop(JOURNAL_KEY)
            write_atomic(path, render(cassette.model_copy(update={"metadata": metadata}), path.suffix, secrets, plain))


def compact(path: Path, secrets: Iterable[str] = frozenset(), wait: bool = True) -> None:
    """Folds the journal into the cassette and retires it; nothing to do without one. A cassette
    file that exists but cannot be read is an error, never overwritten.

    Parsing and rendering (seconds for tens of megabytes) hold no lock, so appends go on meanwhile;
    only one folder at a time, though, by a flock of the journal itself (which appends never take):
    without ``wait`` another fold in progress means this one is not needed. The lock is taken only
    to read both files as one state and, at the end, to check that nobody replaced the cassette
    since and swap the new one in.
    """
    path = Path(path)
    claim = _flock(journal_path(path), create=False, wait=wait)
    if claim is None:
        return
    try:
        with locked(path):
            shot = _snapshot(path, MAX_BYTES)
        if shot.journal is None:
            return
        with _no_gc():  # a full collection over what this makes would stall every thread, the loop's too
            text = render(_load(path, shot, MAX_ALIASES), path.suffix.lower(), secrets) if shot.journal.lines else None
        with locked(path):
            now = _read_journal(path)
            if now is None or now.id != shot.journal.id or _stamp(path) != shot.stamp:
                return  # saved, folded or discarded by someone else meanwhile
            if text is not None:
                _replace(path, text, shot.journal)
            elif not now.lines:
                journal_path(path).unlink()  # a journal a crash cut short before its first line
    finally:
        os.close(claim)


def append(path: Path, interactions: list[Interaction], secrets: Iterable[str] = frozenset()) -> None:
    """Journals the interactions, folding the journal in when it has outgrown the cassette, so
    concurrent recorders neither lose nor tear anything and each call costs constant time, amortised.
    A fold that fails (a cassette that cannot be read) raises; what was journaled stays journaled."""
    if journal_append(path, interactions, secrets):
        compact(path, secrets, wait=False)


def discard(path: Path) -> None:
    """Removes the cassette and its journal (recording afresh)."""
    path = Path(path)
    with locked(path):
        for target in (path, journal_path(path)):
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
