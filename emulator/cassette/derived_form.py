"""The forms a replayer reads a cassette in without parsing it: the derived file, the keys file and
the index file beside a cassette (:mod:`.derived` says what each holds, and where it is kept), and
the fingerprints of the code that made them.

Nothing here reads a cassette: :mod:`.store` writes index files through it when it writes a
cassette, and :mod:`.derived` reads all three when replaying.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
import threading
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from ..offload import no_collection
from ..wire.flavour import Flavour
from . import codec, files
from .files import MAX_BYTES, index_path
from .matching import Index, Matcher
from .model import FORMAT, Cassette, CassetteError, Interaction

__all__ = [
    "INDEX_MIN_BYTES", "Derived", "derive", "fingerprint", "index_blob", "index_due", "key_fingerprint", "keys_data",
    "keys_stamp", "open_derived", "place_index", "read_index", "read_keys",
]  # fmt: skip

VERSION = 1
TAG = "gemini-emulator-derived"
INDEX_MIN_BYTES = 512 * 1024
"""Writers put an index beside cassettes from this size on (a full read of less takes about a tenth
of a second), or beside any cassette that has one already; small fixtures get no companion file."""
INDEX_TAG = "gemini-emulator-index"
INDEX_VERSION = 1


@cache
def fingerprint() -> bytes:
    """The decoding code itself: a derived file written by other code is never read as this code's.
    Read from the files, not from the modules loaded, so a writer that never replays (a recorder)
    stamps its index files as a replayer checks them."""
    h = hashlib.sha256(f"{TAG}/{VERSION}/{sys.version_info[:2]}".encode())
    here = Path(__file__).resolve().parent
    for module in ("codec", "convert", "sse", "model", "store", "derived", "derived_form"):
        with contextlib.suppress(OSError):
            h.update(module.encode() + b"\0" + (here / f"{module}.py").read_bytes())
    with contextlib.suppress(OSError):
        h.update(b"safe_yaml\0" + (here.parent / "safe_yaml.py").read_bytes())
    return h.digest()


@cache
def key_fingerprint() -> bytes:
    """The code that turns a request into its match key (this package's matching and the wire layer's
    canonical decoding, with the schemas it reads): keys computed by other code are computed again."""
    h = hashlib.sha256(fingerprint())
    root = Path(__file__).resolve().parent.parent
    with contextlib.suppress(OSError):
        for where in sorted([*root.glob("wire/*.py"), *root.glob("data/*"), root / "cassette" / "matching.py"]):
            if where.is_file():
                h.update(where.name.encode() + b"\0" + where.read_bytes())
    return h.digest()


def keys_stamp(matcher: Matcher) -> str:
    h = hashlib.sha256(key_fingerprint())
    h.update(repr(matcher).encode())
    return h.hexdigest()[:32]


def read_keys(data: bytes | None, count: int) -> tuple[list[bytes], list[Flavour]] | None:
    """The digests and flavours of a keys file: 16 bytes and one letter per interaction."""
    if data is None or len(data) != 17 * count + 32 or hashlib.sha256(data[32:]).digest() != data[:32]:
        return None
    digests = [data[at : at + 16] for at in range(32, 32 + 16 * count, 16)]
    letters = data[32 + 16 * count :].decode("ascii", "replace")
    flavours = [Flavour.VERTEX if c == "v" else Flavour.DEVELOPER for c in letters]
    return digests, flavours


def keys_data(index: Index) -> bytes:
    body = b"".join(index.digests) + "".join(f.value[0] for f in index._flavours).encode()
    return hashlib.sha256(body).digest() + body


class Derived:
    """A cassette's interactions read from its derived file: requests on demand, each interaction
    decoded once, when first asked for (:class:`.matching.Interactions`)."""

    def __init__(self, data: bytes, offsets: list[int], count: int) -> None:
        self._data = data
        self._offsets = offsets  # line n spans offsets[n] .. offsets[n + 1] - 1 (its newline)
        self._count = count
        self._decoded: dict[int, Interaction] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._count

    def _line(self, n: int) -> Any:
        return orjson.loads(memoryview(self._data)[self._offsets[n] : self._offsets[n + 1] - 1])

    def request(self, n: int) -> tuple[str, str, Any]:
        method, uri, body = self._line(1 + n)
        return method, uri, body

    def __getitem__(self, n: int) -> Interaction:
        if not 0 <= n < self._count:
            raise IndexError(n)
        found = self._decoded.get(n)
        if found is not None:
            return found
        with self._lock:
            found = self._decoded.get(n)
            if found is None:
                item = self._line(1 + self._count + n)
                item["request"]["body"] = self._line(1 + n)[2]
                found = _decode(item)
                self._decoded[n] = found
            return found


def _decode(item: dict[str, Any]) -> Interaction:
    return codec.from_dict({"metadata": {"format": FORMAT}, "interactions": [item]}).interactions[0]


def derive(cassette: Cassette) -> bytes | None:
    """The derived file, or None when some interaction would not come back from it unchanged."""
    lines: list[bytes] = []
    rest: list[bytes] = []
    try:
        for interaction in cassette.interactions:
            req = interaction.request
            request = orjson.dumps([req.method, req.uri, req.body], option=orjson.OPT_APPEND_NEWLINE)
            item = codec.interaction_to_dict(interaction)
            item["request"] = {k: v for k, v in item["request"].items() if k != "body"}
            line = orjson.dumps(item, option=orjson.OPT_APPEND_NEWLINE)
            back = orjson.loads(line)
            back["request"]["body"] = orjson.loads(request)[2]
            if _decode(back) != interaction:
                return None
            lines.append(request)
            rest.append(line)
        lines += rest
        del rest
        check = hashlib.sha256()
        for line in lines:
            check.update(line)
        header = {TAG: VERSION, "count": len(cassette.interactions), "check": check.hexdigest()}
        lines.insert(0, orjson.dumps({**header, "metadata": cassette.metadata}, option=orjson.OPT_APPEND_NEWLINE))
    except (TypeError, ValueError, orjson.JSONEncodeError, CassetteError, codec.FormatError):
        return None
    return b"".join(lines)


def open_derived(data: bytes) -> tuple[Derived, dict[str, Any]] | None:
    """The derived file's interactions and cassette metadata; None when it is not whole and sound."""
    first = data.find(b"\n")
    try:
        header = orjson.loads(data[:first]) if first > 0 else None
    except orjson.JSONDecodeError:
        return None
    if not isinstance(header, dict) or header.get(TAG) != VERSION or not isinstance(header.get("count"), int):
        return None
    body = memoryview(data)[first + 1 :]
    if hashlib.sha256(body).hexdigest() != header.get("check") or not isinstance(header.get("metadata"), dict):
        return None
    count: int = header["count"]
    offsets = [0, first + 1]
    find, at = data.find, first + 1
    for _ in range(2 * count):
        at = find(b"\n", at) + 1
        if at == 0:
            return None
        offsets.append(at)
    if at != len(data):
        return None
    return Derived(data, offsets, count), header["metadata"]


def index_blob(path: Path, data: bytes, cassette: Cassette) -> bytes | None:
    """The index file of the cassette whose bytes are ``data`` and which reads as ``cassette``; None
    when some interaction would not come back from it unchanged."""
    with no_collection():
        derived = derive(cassette)
        if derived is None:
            return None
        opened = open_derived(derived)
        assert opened is not None
        matcher = Matcher()
        keys = keys_data(Index(matcher=matcher, source=opened[0]))
        header = {
            INDEX_TAG: INDEX_VERSION,
            "cassette": path.name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "code": fingerprint().hex(),
            "keys": keys_stamp(matcher),
            "digests": keys.hex(),
        }
        return orjson.dumps(header, option=orjson.OPT_APPEND_NEWLINE) + derived


def index_due(path: Path, size: int) -> bool:
    """Whether a writer of a cassette of ``size`` bytes at ``path`` writes its index beside it."""
    return size >= INDEX_MIN_BYTES or index_path(path).exists()


def place_index(path: Path, blob: bytes | None) -> None:
    """Writes the index beside the cassette just written (call under its lock), or removes the one
    there, which no longer matches it. An index that cannot be written is no error, only slower."""
    where = index_path(path)
    try:
        if blob is not None:
            files.write_atomic(where, blob)
        elif where.exists():
            where.unlink()
    except OSError:
        with contextlib.suppress(OSError):
            where.unlink()


def read_index(where: Path) -> tuple[dict[str, Any], bytes] | None:
    try:
        with where.open("rb") as f:
            head = f.readline(4 * MAX_BYTES)
            body = f.read(4 * MAX_BYTES)
    except OSError:
        return None
    try:
        header = orjson.loads(head)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(header, dict) or header.get(INDEX_TAG) != INDEX_VERSION:
        return None
    return header, body
