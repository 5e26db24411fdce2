"""A cassette's journal: interactions appended in constant time, folded into the cassette later.

Recording cannot afford a whole write per interaction (a 30 MB cassette re-read, re-rendered and
synced for every call), so a recorder appends each interaction to a journal beside the cassette,
``.NAME.pending.jsonl`` (:func:`journal_append`): a header line (``{"gemini-emulator-journal": 1,
"id": ...}``), then one redacted and scanned interaction per line, each written with one ``write``
and synced. Every reader merges a journal it finds (:func:`merge`), so a kill at any moment leaves
every acknowledged interaction loadable and nothing torn; the cassette's ``metadata.journal`` says
how much of the journal it already holds, so a fold that crashed before removing the journal never
counts an interaction twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import codec, files, redact
from .model import FORMAT, Cassette, CassetteError, Interaction
from .redact import Secret

JOURNAL_KEY = "journal"
"""``metadata.journal`` of a cassette: ``{id, applied}``, the journal whose first lines it already holds."""

_JOURNAL_TAG = "gemini-emulator-journal"


_CLOEXEC = getattr(os, "O_CLOEXEC", 0)  # POSIX only
_BINARY = getattr(os, "O_BINARY", 0)  # Windows only: no newline translation


def journal_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.pending.jsonl")


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


def read_journal(path: Path, max_bytes: int = files.MAX_BYTES) -> Journal | None:
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


def header() -> bytes:
    return json.dumps({_JOURNAL_TAG: 1, "id": uuid.uuid4().hex}).encode() + b"\n"


def _line(interaction: Interaction, secrets: Iterable[Secret]) -> bytes:
    """One journal line: the interaction redacted and scanned exactly as a whole write would be."""
    item = codec.interaction_to_dict(redact.scrub(interaction, secrets))
    text = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
    redact.refuse(text, secrets)
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


def journal_append(path: Path, interactions: list[Interaction], secrets: Iterable[Secret] = frozenset()) -> bool:
    """Appends to the cassette's journal without reading or rewriting the cassette; True when the
    journal has outgrown the cassette and should be folded in (:func:`compact`).

    The journal is a header line (``{"gemini-emulator-journal": 1, "id": ...}``), then one
    interaction per line in our readable format, redacted and scanned first, written with one
    ``write`` and synced before this returns. A crash leaves at most a last line cut short, which
    readers ignore and the next writer cuts off.
    """
    path = Path(path)
    data = b"".join(_line(i, secrets) for i in interactions)
    with files.locked(path):
        cassette_size = path.stat().st_size if path.exists() else 0
        where = journal_path(path)
        fd = os.open(where, os.O_RDWR | os.O_APPEND | os.O_CREAT | _CLOEXEC | _BINARY, 0o644)
        size = -1
        try:
            size = _heal(fd)
            data = (header() if size == 0 else b"") + data
            if cassette_size + size + len(data) > files.MAX_BYTES:
                limit = files.MAX_BYTES
                raise CassetteError(f"refusing to write: {path} would grow past {limit} bytes, what replay reads")
            try:
                files.write_all(fd, data)
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
            files.sync_dir(path.parent)
    return size + len(data) > cassette_size


def applied(metadata: dict[str, Any], journal: Journal) -> int:
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
    for number, line in enumerate(journal.lines[applied(cassette.metadata, journal) :], start=2):
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


def replace(path: Path, text: str, held: Journal) -> None:
    """Writes a cassette whose ``metadata.journal`` says it holds ``held``'s lines, then retires that
    journal: removed, or replaced by a new one with the lines appended since. A crash between the two
    steps is harmless since the marker is written with the cassette."""
    files.write_atomic(path, text)
    now = read_journal(path)
    if now is None or now.id != held.id:
        return  # not the journal the marker speaks of
    later = now.lines[len(held.lines) :]
    if later:
        files.write_atomic(journal_path(path), header() + b"".join(line + b"\n" for line in later))
    else:
        journal_path(path).unlink()
        files.sync_dir(path.parent)
