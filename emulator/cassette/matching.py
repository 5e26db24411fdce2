"""Which recorded interaction answers a request: normalised keys, looked up in a dict.

Two requests match when they mean the same call, however the client spelt it: the API version and
any base-URL prefix do not matter, nor the ``key`` parameter, nor headers; model-call bodies are
compared in canonical form (``wire.validate.decode``: camelCase or snake_case keys, enum numbers or
names, either base64 alphabet). ``alt`` stays, since an SSE answer cannot stand in for an array.

A request is the Developer API's or Vertex AI's (:func:`flavour_of`), and only requests of one
flavour match each other. A Vertex AI recording answers the same call made from any project and
location (whoever replays a cassette seldom has the recorder's project), and on any endpoint host,
unless the matcher is told to hold the location (``Matcher(location=True)``).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from ..wire.call import ALL_VERSIONS, model_call
from ..wire.flavour import Flavour
from .diff import Parts, distance, first_difference
from .model import Cassette, Interaction

_PATH_SAFE = "/:@!$&'()*+,;=-._~"
AFTER_LAST = ("repeat", "miss")
IGNORED_QUERY = frozenset({"key", "access_token"})
"""Credentials, which redaction replaced in what was recorded."""
VERTEX_GLOBAL = "https://aiplatform.googleapis.com"
MULTI_REGIONS = frozenset({"us", "eu"})
"""Locations served from ``aiplatform.{location}.rep.googleapis.com``, as the SDKs address them."""
_LOCATION = re.compile(r"[a-z][a-z0-9-]{0,62}")
_VERTEX_PREFIX = re.compile(r"^projects/[^/]+/locations/(?P<location>[^/]+)/")


def api_path(uri: str) -> str:
    """The path after the version segment (``models/m:generateContent``), or the whole path if it has none."""
    segments = quote(unquote(urlsplit(uri).path), safe=_PATH_SAFE).strip("/").split("/")
    for i, segment in enumerate(segments):
        if segment in ALL_VERSIONS:
            return "/".join(segments[i + 1 :])
    return "/".join(segments)


def flavour_of(uri: str, path: str | None = None) -> Flavour:
    """Which API a recorded URI reached: Vertex AI when its path is Vertex-shaped (under
    ``projects/{p}/locations/{l}/`` or, in express mode, ``publishers/``), or when its host is an
    ``aiplatform`` endpoint; else the Developer API. The path decides first because a recording made
    through a proxy or from an emulator upstream carries a loopback host. ``path``: ``api_path(uri)``
    when the caller has it already."""
    if (api_path(uri) if path is None else path).startswith(("projects/", "publishers/")):
        return Flavour.VERTEX
    host = (urlsplit(uri).hostname or "").lower()
    regional = host.startswith("aiplatform.") and host.endswith(".googleapis.com")  # aiplatform.eu.rep...
    return Flavour.VERTEX if host.endswith("aiplatform.googleapis.com") or regional else Flavour.DEVELOPER


def vertex_endpoint(location: str | None) -> str:
    """The real service a Vertex AI call of ``location`` goes to, chosen as the SDKs choose it (express
    mode, without a location, uses the global one). A location that is no location name is refused
    rather than spliced into a host name."""
    if location is None or location == "global":
        return VERTEX_GLOBAL
    if not _LOCATION.fullmatch(location):
        raise ValueError(f"{location!r} is not a Vertex AI location")
    if location in MULTI_REGIONS:
        return f"https://aiplatform.{location}.rep.googleapis.com"
    return f"https://{location}-aiplatform.googleapis.com"


def vertex_path(path: str, location: bool = False) -> str:
    """A Vertex AI path without its project, and without its location unless ``location``; express
    mode's path, which has neither, is at the global endpoint."""
    found = _VERTEX_PREFIX.match(path)
    rest = path[found.end() :] if found else path
    if not location:
        return rest
    return f"locations/{found['location'] if found else 'global'}/{rest}"


def canonical_body(path: str, body: Any, flavour: Flavour = Flavour.DEVELOPER) -> Any:
    """The body as the front end understands it, so spelling differences do not cause misses."""
    if isinstance(body, str | bytes):
        try:
            body = json.loads(body) if body else None
        except ValueError:
            return body if isinstance(body, str) else body.decode(errors="replace")
    call = model_call(path)
    if call is None or not isinstance(body, dict):
        return body
    from ..wire import validate  # imported late: the schema tables cost half a second to build

    try:
        return _pruned(validate.decode(call[1], body, strict=False, flavour=flavour))
    except Exception:  # an unknown method or a body the schema rejects: compare it as sent
        return body


def _pruned(value: Any) -> Any:
    """Without the fields whose value is an empty object: to the real front end (a protobuf message)
    ``generationConfig: {}`` and no ``generationConfig`` are the same request."""
    if isinstance(value, dict):
        return {k: v for k, v in ((k, _pruned(v)) for k, v in value.items()) if v != {}}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _without(value: Any, field: list[str]) -> Any:
    if isinstance(value, list):
        return [_without(v, field) for v in value]
    if not isinstance(value, dict) or not field:
        return value
    name, rest = field[0], field[1:]
    out = dict(value)
    for key in {name, _camel(name)}:
        if key in out:
            if rest:
                out[key] = _without(out[key], rest)
            else:
                del out[key]
    return out


@dataclass(frozen=True)
class Matcher:
    """Which parts of a request must be equal; ``ignore_fields`` are dotted body paths (``generationConfig.seed``).
    ``location``: a Vertex AI recording answers only calls to the location it was recorded at."""

    method: bool = True
    path: bool = True
    query: bool = True
    body: bool = True
    ignore_fields: tuple[str, ...] = ()
    location: bool = False

    def parts(self, method: str, uri: str, body: Any) -> Parts:
        path = api_path(uri)
        flavour = flavour_of(uri, path)
        query = None
        if self.query:
            pairs = parse_qsl(urlsplit(uri).query, keep_blank_values=True)
            query = urlencode(sorted((k, v) for k, v in pairs if k not in IGNORED_QUERY))
        canonical = None
        if self.body:
            canonical = canonical_body(path, body, flavour)
            for field in self.ignore_fields:
                canonical = _without(canonical, field.split("."))
        if flavour is Flavour.VERTEX:
            path = vertex_path(path, self.location)
        return Parts(method.upper() if self.method else None, path if self.path else None, query, canonical, flavour)

    @staticmethod
    def key_of(parts: Parts) -> str:
        body = json.dumps(parts.body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        key = f"{parts.method} {parts.path}?{parts.query}\n{body}"
        return key if parts.flavour is Flavour.DEVELOPER else f"{parts.flavour.value}|{key}"

    def key(self, method: str, uri: str, body: Any) -> str:
        return self.key_of(self.parts(method, uri, body))


def normalise(method: str, uri: str, body: Any) -> str:
    """The default match key of a request."""
    return Matcher().key(method, uri, body)


class Interactions(Protocol):
    """What an :class:`Index` reads a cassette through: how many interactions it holds, each one's
    request as matching needs it, and each whole interaction, which may be decoded only when asked."""

    def __len__(self) -> int: ...

    def request(self, n: int) -> tuple[str, str, Any]:
        """Method, URI and body of interaction ``n``."""
        ...

    def __getitem__(self, n: int) -> Interaction: ...


class _Held:
    """A cassette already in memory, as :class:`Interactions`."""

    def __init__(self, interactions: list[Interaction]) -> None:
        self._items = list(interactions)  # what was indexed, whatever later becomes of the cassette's list

    def __len__(self) -> int:
        return len(self._items)

    def request(self, n: int) -> tuple[str, str, Any]:
        req = self._items[n].request
        return req.method, req.uri, req.body

    def __getitem__(self, n: int) -> Interaction:
        return self._items[n]


def digest(key: str) -> bytes:
    """A match key as the index holds it: keys carry whole canonical bodies, 16 bytes stand for them."""
    return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class Index:
    """Recorded interactions by match key: one dict lookup per request, however long the cassette.

    Identical requests get their recorded answers in recorded order; past the last one they get it
    again (``after_last="repeat"``) or miss. :meth:`fork` gives a fresh replay state (one per test
    context) over the same table without normalising the cassette again.

    The table holds a digest of each key and where the interaction sits, nothing of its answer: a
    source that decodes interactions on demand (:mod:`.derived`) stays undecoded until replayed. The
    parsed parts that explain a miss are worked out at the first miss of a lazily read cassette.
    """

    def __init__(
        self,
        cassette: Cassette | None = None,
        matcher: Matcher | None = None,
        after_last: str = "repeat",
        *,
        source: Interactions | None = None,
        keys: tuple[list[bytes], list[Flavour]] | None = None,
    ) -> None:
        if after_last not in AFTER_LAST:
            raise ValueError(f"after_last must be 'repeat' or 'miss', not {after_last!r}")
        if source is None:
            if cassette is None:
                raise TypeError("an Index needs a cassette or a source")
            source = _Held(cassette.interactions)
        self.cassette = cassette
        self.source = source
        self.matcher = matcher or Matcher()
        self.after_last = after_last
        self._by_key: dict[bytes, list[int]] = {}
        eager = isinstance(source, _Held)
        parts_list: list[Parts] = []
        if keys is None or len(keys[0]) != len(source) or len(keys[1]) != len(source):
            digests, self._flavours = [], []
            for n in range(len(source)):
                parts = self.matcher.parts(*source.request(n))
                digests.append(digest(self.matcher.key_of(parts)))
                self._flavours.append(parts.flavour)
                if eager:
                    parts_list.append(parts)
        else:
            digests, self._flavours = keys[0], keys[1]
            eager = False
        self.digests = digests
        """Each interaction's key digest, in cassette order (what :mod:`.derived` keeps in its keys file)."""
        for n, key in enumerate(digests):
            self._by_key.setdefault(key, []).append(n)
        self._parts: list[Parts] | None = parts_list if eager else None
        self._ordinals: dict[int, int] = {}
        self._decode_lock = threading.Lock()
        if isinstance(source, _Held):
            self._ordinals = {id(source[n]): n for n in range(len(source))}
        self.flavours = Counter(self._flavours)
        """How many interactions of each flavour the cassette holds, to say which one a miss searched."""
        self._taken: dict[bytes, int] = {}
        self._lock = threading.Lock()

    def _item(self, n: int) -> Interaction:
        with self._decode_lock:
            item = self.source[n]
            self._ordinals.setdefault(id(item), n)
            return item

    def _all_parts(self) -> list[Parts]:
        with self._decode_lock:
            if self._parts is None:
                self._parts = [self.matcher.parts(*self.source.request(n)) for n in range(len(self.source))]
            return self._parts

    def ordinal(self, interaction: Interaction) -> int:
        """Where an interaction this index returned sits in the cassette (``#N`` in messages), by identity."""
        return self._ordinals[id(interaction)]

    def __len__(self) -> int:
        return len(self._flavours)

    def fork(self, after_last: str | None = None) -> Index:
        other = object.__new__(Index)
        other.__dict__.update(self.__dict__)
        other.after_last = after_last or self.after_last
        other._taken = {}
        other._lock = threading.Lock()
        return other

    def reset(self) -> None:
        with self._lock:
            self._taken.clear()

    def take(self, method: str, uri: str, body: Any) -> Interaction | None:
        """The next recorded answer to this request, consumed; ``None`` is a miss."""
        key = digest(self.matcher.key(method, uri, body))
        with self._lock:
            positions = self._by_key.get(key)
            if positions is None:
                return None
            taken = self._taken.get(key, 0)
            if taken >= len(positions) and self.after_last == "miss":
                return None
            self._taken[key] = taken + 1
            position = positions[min(taken, len(positions) - 1)]
        return self._item(position)

    def nearest(self, method: str, uri: str, body: Any) -> tuple[Interaction | None, str]:
        """For a loud miss: the closest recorded interaction and the first field in which it differs."""
        if not self._flavours:
            return None, "the cassette has no interactions"
        wanted = self.matcher.parts(method, uri, body)
        every = self._all_parts()
        same = [n for n, parts in enumerate(every) if parts.flavour is wanted.flavour]
        if not same:
            held = ", ".join(f"{n} {f.api_name}" for f, n in sorted(self.flavours.items()))
            return None, f"it holds no {wanted.flavour.api_name} interaction, only {held} one(s)"
        position = min(same, key=lambda n: distance(wanted, every[n]))
        parts, interaction = every[position], self._item(position)
        if (difference := first_difference(wanted, parts)) is not None:
            return interaction, difference
        count = len(self._by_key[digest(self.matcher.key_of(parts))])
        return interaction, f"an identical request was recorded {count} time(s) and every answer was used"

    def unused(self) -> list[Interaction]:
        """Recorded interactions no request has taken yet, in cassette order."""
        with self._lock:
            left = [i for key, pos in self._by_key.items() for i in pos[self._taken.get(key, 0) :]]
        return [self._item(i) for i in sorted(left)]

    def with_matcher(self, **changes: Any) -> Index:
        """The same cassette indexed under a matcher with ``changes`` (``Matcher`` fields)."""
        return Index(self.cassette, replace(self.matcher, **changes), self.after_last, source=self.source)
