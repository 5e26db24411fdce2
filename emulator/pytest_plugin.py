"""pytest fixtures and markers for code built on the Gemini SDK; every name starts with ``gemini``.

Importing this module costs almost nothing: the emulator, aiohttp and google-genai are imported
when a fixture is first used. One emulator serves the whole session (in a background thread, or
an external one named by ``--gemini-emulator-url`` / ``GEMINI_EMULATOR_URL``); each test gets a
context of its own through an API key of its own, so scenarios, counters and the journal never
leak between tests, also under pytest-xdist.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from google import genai

    from .journal import Entry

URL_ENV = "GEMINI_EMULATOR_URL"
MARKERS = (
    "gemini_cassette(name=None): replay (or record, per --gemini-record-mode) this test's cassette",
    "gemini_scenario(source): answer this test from a scenario: a file path, or the rules as a dict",
    "gemini_model(function=f): answer this test with a Python callable model (in-process emulator only)",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gemini", "gemini-emulator")
    group.addoption(
        "--gemini-emulator-url",
        default=None,
        help=f"use a running emulator at this URL (else ${URL_ENV}, else start one)",
    )
    group.addoption(
        "--gemini-record-mode",
        default="none",
        choices=("none", "once", "new_episodes", "all"),
        help="for gemini_cassette tests: none replays only (default); once, new_episodes and all record",
    )
    group.addoption(
        "--gemini-upstream",
        default="https://generativelanguage.googleapis.com",
        help="where recording forwards calls (with the key the code under test uses)",
    )
    group.addoption(
        "--gemini-strict-cassettes",
        action="store_true",
        help="fail a gemini_cassette test that missed or left recorded interactions unused",
    )


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)


class _External:
    """An emulator this session did not start."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")


@pytest.fixture(scope="session")
def gemini_emulator(pytestconfig: pytest.Config) -> Iterator[Any]:
    """The session's emulator (``.url``): external when configured, else one on a free loopback port."""
    url = pytestconfig.getoption("--gemini-emulator-url") or os.environ.get(URL_ENV)
    if url:
        yield _External(url)
        return
    from .server.runner import EmulatorThread
    from .settings import Settings

    settings = Settings(
        port=0,
        cassette=pytestconfig.rootpath,  # cassettes are chosen per test, by their path under the rootdir
        record_mode=pytestconfig.getoption("--gemini-record-mode"),
        upstream=pytestconfig.getoption("--gemini-upstream"),
    )
    with EmulatorThread(settings) as emu:
        yield emu


class GeminiContext:
    """One test's view of the emulator: its key, its clients, its journal and its backends."""

    def __init__(self, emulator: Any, key: str, test: str = "") -> None:
        self.emulator = emulator
        self.url: str = emulator.url
        self.key = key
        self.test = test
        """The test's name: an inline scenario's name when it gives none."""

    def _control(self, method: str, name: str, body: bytes | None = None, what: str = "") -> Any:
        """A control-plane call; a refusal fails the test with the emulator's sentence, not a traceback."""
        import urllib.error  # here, not at the top: http.client and email cost every pytest run ~10 ms
        import urllib.request

        headers = {"x-goog-api-key": self.key, "content-type": "application/json"}
        if body is not None and not body.lstrip().startswith((b"{", b"[")):
            headers["content-type"] = "application/yaml"
        request = urllib.request.Request(f"{self.url}/_emulator/{name}", data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            try:
                message = json.load(exc).get("error", {}).get("message", exc.reason)
            except ValueError:
                message = f"{exc.code} {exc.reason}"
        except OSError as exc:
            message = f"cannot reach the emulator at {self.url} ({exc}); is it running?"
        _fail(f"gemini-emulator: {what or name.split('?')[0]}: {message}")

    def client(self, **http_options: Any) -> genai.Client:
        from google import genai
        from google.genai import types

        return genai.Client(api_key=self.key, http_options=types.HttpOptions(base_url=self.url, **http_options))

    def vertex_client(
        self, project: str = "test-project", location: str = "us-central1", **http_options: Any
    ) -> genai.Client:
        """A Vertex AI client in this test's context: its bearer token is the test's key, held by
        credentials that never refresh, so nothing reaches for Google's token service."""
        from google import genai
        from google.genai import types
        from google.oauth2.credentials import Credentials

        return genai.Client(
            vertexai=True,
            project=project,
            location=location,
            credentials=Credentials(token=self.key),  # type: ignore[no-untyped-call]
            http_options=types.HttpOptions(base_url=self.url, **http_options),
        )

    def use_scenario(self, source: str | Path | dict[str, Any]) -> None:
        """Answers this test from a scenario: a YAML or JSON file, or the document itself."""
        if isinstance(source, dict):
            if "name" not in source:  # a file names its scenario; inline, the test's name does
                source = {"name": self.test or "inline scenario", **source}
            name, body = "inline scenario", json.dumps(source).encode()
        else:
            path = Path(source)
            if not path.is_file():
                _fail(f"gemini-emulator: no scenario file at {path} (a path relative to where pytest runs, or a dict)")
            name, body = path.name, path.read_bytes()
        self._control("PUT", f"scenario?name={urllib.parse.quote(name)}", body, "the scenario was refused")

    def use_faults(self, *faults: dict[str, Any]) -> None:
        """Makes this test's calls misbehave (see the README's fault kinds); none clears them."""
        self._control("PUT", "faults", json.dumps(list(faults)).encode())

    def use_model(self, function: Callable[..., Any]) -> None:
        """Answers this test with a Python callable model (needs the in-process emulator)."""
        from .backends.function import FunctionBackend
        from .journal import context_id

        router = getattr(self.emulator, "router", None)
        if router is None:
            _fail(
                "gemini-emulator: gemini_model and use_model need the in-process emulator: run without "
                f"--gemini-emulator-url and {URL_ENV}"
            )
        router.use(context_id({}, self.key), lambda fallback: FunctionBackend(function, fallback), function.__name__)

    def use_cassette(self, name: str, record_mode: str | None = None) -> None:
        """Answers this test from a cassette, NAME relative to the emulator's cassette root."""
        self._control(
            "PUT", "cassette", json.dumps({"name": name, "record_mode": record_mode}).encode(), "the cassette"
        )

    def cassette_report(self) -> dict[str, Any]:
        """The test's cassette with its misses and unused interactions."""
        report: dict[str, Any] = self._control("GET", "cassette")
        return report

    def reset(self) -> None:
        self._control("POST", "reset")

    @property
    def requests(self) -> list[Entry]:
        """Every model call this test made, oldest first."""
        from .journal import Entry

        return [Entry.model_validate(e) for e in self._control("GET", "requests")["requests"]]

    @property
    def last_request(self) -> Entry:
        found = self.requests
        if not found:
            _fail("gemini-emulator: the code under test made no model call in this test (gemini.requests is empty)")
        return found[-1]

    def attempts(self, model: str = "*") -> int:
        """How many calls reached the model (retries included)."""
        from fnmatch import fnmatchcase

        return sum(fnmatchcase(e.model, model) for e in self.requests)

    def declared_tools(self, entry: Entry | None = None) -> list[str]:
        """Names of the functions a request declared (the last request by default)."""
        body = (entry or self.last_request).request
        return [d["name"] for t in body.get("tools", ()) for d in t.get("functionDeclarations", ())]


def cassette_name(request: pytest.FixtureRequest, marker: pytest.Mark) -> str:
    """``cassettes/<module>/<test>.yaml`` beside the test file, or the name the marker gives, under the rootdir."""
    folder = request.path.parent / "cassettes"
    given = marker.args[0] if marker.args else marker.kwargs.get("name")
    path = folder / given if given else folder / request.path.stem / f"{request.node.name}.yaml"
    return str(path.relative_to(request.config.rootpath))


@pytest.fixture
def gemini(
    gemini_emulator: Any, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[GeminiContext]:
    """This test's context; also points ``genai.Client()`` built by the code under test at the emulator."""
    context = GeminiContext(gemini_emulator, f"gemini-test-{uuid.uuid4().hex}", request.node.name)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", context.url)
    monkeypatch.setenv("GEMINI_API_KEY", context.key)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)  # the SDK would prefer it over GEMINI_API_KEY
    monkeypatch.delenv("GOOGLE_GENAI_USE_VERTEXAI", raising=False)
    for marker in request.node.iter_markers("gemini_scenario"):
        context.use_scenario(marker.args[0] if marker.args else marker.kwargs)
    for marker in request.node.iter_markers("gemini_model"):
        context.use_model(marker.kwargs.get("function") or marker.args[0])
    cassette = request.node.get_closest_marker("gemini_cassette")
    if cassette is not None:
        name = cassette_name(request, cassette)
        replay_only = request.config.getoption("--gemini-record-mode") == "none"
        if replay_only and not isinstance(gemini_emulator, _External) and not _recorded(request.config.rootpath / name):
            _fail(
                f"gemini-emulator: no cassette {name} for this test; record it once with "
                "`pytest --gemini-record-mode once` (calls go to --gemini-upstream with the key your code uses), "
                "then replay it offline"
            )
        context.use_cassette(name)
    yield context
    if cassette is not None and request.config.getoption("--gemini-strict-cassettes"):
        report = context.cassette_report()
        if report["misses"] or report["unused"]:
            unused = "".join(f"\n  unused: {u}" for u in report["unused"])
            pytest.fail(f"{report['cassette']}: {report['misses']} miss(es){unused}", pytrace=False)


def _fail(message: str) -> NoReturn:
    """A clean failure: the sentence, no traceback through the plugin."""
    pytest.fail(message, pytrace=False)


def _recorded(path: Path) -> bool:
    """A cassette, or the journal a recorder killed before folding left of it."""
    return path.exists() or path.with_name(f".{path.name}.pending.jsonl").exists()


@pytest.fixture
def genai_client(gemini: GeminiContext) -> genai.Client:
    """A google-genai client on this test's context."""
    return gemini.client()


@pytest.fixture
def genai_async_client(genai_client: genai.Client) -> Any:
    """The async face (``client.aio``) of :func:`genai_client`."""
    return genai_client.aio
