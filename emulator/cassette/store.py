"""Reading and writing cassette files safely: bounded, safe-loaded, redacted, atomic and locked.

Writers replace the file in one ``os.replace`` of a synced temporary file, so a reader (which takes
no lock) sees the old cassette or the new one, never half of one. Writers serialise on ``flock`` of
a sidecar ``.NAME.lock`` file rather than the cassette itself, because the cassette's inode changes
with every replace. The lock files are left in place: deleting them would race with the next writer.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from . import codec, convert, redact
from .model import Cassette, Interaction

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


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Parsing makes millions of objects and no cycles; the collector's passes over them would make
    loading quadratic (a 5,000-interaction YAML cassette: 6 s with them, 1.3 s without)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
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


def load(path: Path, max_bytes: int = MAX_BYTES, max_aliases: int = MAX_ALIASES) -> Cassette:
    """Our readable cassettes, plain vcrpy ones (YAML or JSON) and google-genai replay files."""
    path = Path(path)
    with _no_gc():
        data = read_data(path, max_bytes, max_aliases)
        try:
            cassette = convert.from_genai_replay(data) if convert.is_genai_replay(data) else codec.from_dict(data)
        except (codec.FormatError, RecursionError) as exc:
            raise CassetteError(f"{path}: {exc}") from None
    cassette.path = path
    return cassette


def render(cassette: Cassette, suffix: str, secrets: Iterable[str] = (), plain: bool = False) -> str:
    """The file's text after redaction; refuses if anything that looks like a credential is left."""
    scrubbed = cassette.model_copy(update={"interactions": [redact.scrub(i, secrets) for i in cassette.interactions]})
    data = convert.to_vcrpy(scrubbed) if plain else codec.to_dict(scrubbed)
    text = dumps(data, suffix)
    check(text)
    return text


def check(text: str) -> None:
    """The last line of defence on every write path: no key or token pattern reaches the disk."""
    if hits := redact.find_secrets(text):
        shown = ", ".join(sorted({h[:4] + "..." for h in hits}))
        raise CassetteError(
            f"refusing to write: {len(hits)} credential-like string(s) survived redaction ({shown}); "
            "pass them as secrets to redact, or remove them"
        )


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Exclusive across processes and threads alike, since each holder opens its own descriptor."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(f".{path.name}.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def write_atomic(path: Path, text: str) -> None:
    """Replaces ``path`` with ``text`` in one step; call under :func:`locked`."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def save(cassette: Cassette, path: Path, secrets: Iterable[str] = (), plain: bool = False) -> None:
    """Redacts, checks and writes; ``plain`` writes vcrpy's own shape (string bodies) instead of ours."""
    path = Path(path)
    text = render(cassette, path.suffix.lower(), secrets, plain)
    with locked(path):
        write_atomic(path, text)


def append(path: Path, interactions: list[Interaction], secrets: Iterable[str] = frozenset()) -> None:
    """Adds to the cassette under the lock, so concurrent recorders neither lose nor tear anything.

    A file that exists but cannot be read is an error rather than something to overwrite.
    """
    path = Path(path)
    with locked(path):
        cassette = load(path) if path.exists() else Cassette()
        cassette.interactions.extend(interactions)
        write_atomic(path, render(cassette, path.suffix.lower(), secrets))


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
