"""The conformance suite drives the real google-genai SDK against an emulator.

Point it at a running emulator with ``GEMINI_EMULATOR_URL``; otherwise it starts one in-process. Tests
talk to it over HTTP only (the API and ``/_emulator/``); this file is the only one that imports
``emulator``, and only to start that in-process one.

Each test belongs to an *area*: the argument of its ``@pytest.mark.conformance("area")`` marker, else
its module's name without ``test_``. At the end of a run that included this suite, the terminal
summary lists the areas with their pass/fail counts, taken from the run's own reports.

A test marked ``@pytest.mark.flavours(...)`` runs once per API flavour it names, ``[developer]``,
``[vertex]`` and ``[express]`` (no names: the first two), and its ``client`` speaks that flavour: the
Developer API with an API key, Vertex AI with project, location and an OAuth token (a credentials object
that is never refreshed, so no network), or Vertex AI express mode with an ``AQ.`` key. Unmarked tests
run once, on the Developer API.

Every key the tests use comes from ``harness.key`` and is named after its module (a Vertex AI client
sends it as its bearer token, an express client with the ``AQ.`` prefix; the emulator derives the same
context from the token as from the key, so ``api_key`` reads that client's journal either way). Before the emulator
goes, the session asks its journal how many requests each module's keys made, and prints one line,
``conformance journal: test_chats 12 requests, ...``; a module that passed tests but made no journaled
request fails the session (its clients did not go to this emulator, or not with the suite's keys).
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import harness
import pytest
from google import genai

AREA = "conformance_area"  # the user property that carries a test's area into its reports (xdist too)
MODULE = "conformance_module"  # and the one that carries its module, for the journal's tally
JOURNALED: dict[str, int] = {}  # module -> requests the emulator journaled for its keys (summed over workers)
PROBLEMS: list[str] = []  # why the journal could not be read
PASSED: set[str] = set()  # modules with at least one passed test


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance(area): the conformance-suite area a test covers")
    config.addinivalue_line(
        "markers", "flavours(*names): run once per API flavour (developer, vertex, express), default the first two"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked ``flavours`` gets one case per flavour, its id the flavour's name."""
    marker = metafunc.definition.get_closest_marker("flavours")
    if marker is None or "flavour" not in metafunc.fixturenames:
        return
    names = marker.args or harness.FLAVOURS[:2]
    unknown = set(names) - set(harness.FLAVOURS)
    if unknown:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: unknown flavours {sorted(unknown)}")
    metafunc.parametrize("flavour", names, ids=names)


def area_of(item: pytest.Item) -> str:
    marker = item.get_closest_marker("conformance")
    if marker is not None and marker.args:
        return str(marker.args[0])
    module = getattr(item, "module", None)
    name = module.__name__.rsplit(".", 1)[-1] if module is not None else item.nodeid.split("::")[0]
    return name.removeprefix("test_").removesuffix(".py")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if AREA not in dict(item.user_properties):
        item.user_properties.append((AREA, area_of(item)))
    if MODULE not in dict(item.user_properties):
        module = getattr(item, "module", None)
        name = module.__name__ if module is not None else item.nodeid.split("::")[0].removesuffix(".py")
        item.user_properties.append((MODULE, harness.module_of(name.replace("/", "."))))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    module = dict(report.user_properties).get(MODULE)
    if module is not None and report.when == "call" and report.passed:
        PASSED.add(str(module))


def _outcome(report: pytest.TestReport) -> str | None:
    """One word per test: failures and errors of any phase, else the call's outcome."""
    if report.failed:
        return "failed" if report.when == "call" else "error"
    if report.skipped:
        return "xfailed" if hasattr(report, "wasxfail") else "skipped"
    if report.when == "call":
        return "xpassed" if hasattr(report, "wasxfail") else "passed"
    return None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """``conformance suite covered:`` then one line per area, e.g. ``chats  5 passed, 1 failed``."""
    outcomes: dict[str, dict[str, str]] = defaultdict(dict)  # area -> nodeid -> worst outcome so far
    rank = ["passed", "xfailed", "xpassed", "skipped", "error", "failed"]
    for reports in terminalreporter.stats.values():
        for report in reports:
            if not isinstance(report, pytest.TestReport):
                continue
            area = dict(report.user_properties).get(AREA)
            word = _outcome(report)
            if area is None or word is None:
                continue
            seen = outcomes[str(area)].get(report.nodeid)
            if seen is None or rank.index(word) > rank.index(seen):
                outcomes[str(area)][report.nodeid] = word
    if outcomes:
        terminalreporter.write_sep("-", "conformance suite covered:")
        width = max(len(area) for area in outcomes)
        for area in sorted(outcomes):
            counts = Counter(outcomes[area].values())
            text = ", ".join(f"{counts[w]} {w}" for w in rank if counts[w])
            terminalreporter.write_line(f"  {area:<{width}}  {text}")
    _journal_summary(terminalreporter)


# --------------------------------------------------------------------------------------------------
# The journal's tally: every module's keys, read back from the emulator before it goes.


def _tally(url: str) -> None:
    try:
        counts = harness.journaled(url)
    except OSError as exc:  # urllib's errors, the emulator gone
        PROBLEMS.append(f"the journal of {url} could not be read: {exc}")
        return
    for module, count in counts.items():
        JOURNALED[module] = JOURNALED.get(module, 0) + count


def _silent() -> list[str]:
    """Modules that passed tests yet made no request the emulator journaled."""
    return sorted(module for module in PASSED if not JOURNALED.get(module))


def _journal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    modules = sorted(PASSED | set(JOURNALED))
    if not modules and not PROBLEMS:
        return
    counts = ", ".join(f"{m} {JOURNALED.get(m, 0)} requests" for m in modules)
    terminalreporter.write_line(f"conformance journal: {counts}")
    for problem in PROBLEMS:
        terminalreporter.write_line(f"conformance journal: {problem}", red=True)
    if _silent():
        terminalreporter.write_line(
            f"conformance journal: FAILED, no request journaled for {', '.join(_silent())}: its clients must use "
            "harness.key() keys and the emulator the suite was pointed at",
            red=True,
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the tally to the controller
        workeroutput["conformance_journal"] = dict(JOURNALED)
        workeroutput["conformance_journal_problems"] = list(PROBLEMS)
        return
    if (_silent() or PROBLEMS) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist: a worker's tally (its own keys, its own emulator or the shared one) joins the controller's."""
    output = getattr(node, "workeroutput", {})
    for module, count in output.get("conformance_journal", {}).items():
        JOURNALED[module] = JOURNALED.get(module, 0) + count
    PROBLEMS.extend(output.get("conformance_journal_problems", ()))


# --------------------------------------------------------------------------------------------------
# Fixtures.


@pytest.fixture(scope="session")
def emulator_url() -> Iterator[str]:
    """The emulator under test: ``GEMINI_EMULATOR_URL``, or one started here. Its journal is tallied at
    the end, while it still runs."""
    external = os.environ.get("GEMINI_EMULATOR_URL")
    if external:
        url = external.rstrip("/")
        yield url
        _tally(url)
        return
    from emulator import EmulatorThread

    with EmulatorThread() as emu:
        yield emu.url
        _tally(emu.url)


@pytest.fixture
def flavour() -> str:
    """The API the test's ``client`` speaks: ``developer``, unless the test is marked ``flavours``."""
    return "developer"


@pytest.fixture
def api_key(request: pytest.FixtureRequest, flavour: str) -> str:
    """The credential of the test's own (its own context), named after its module: an API key, the
    bearer token of a Vertex AI client, or an express-mode key (``AQ.``). Control calls send it as
    ``x-goog-api-key`` and reach the same context."""
    return harness.key(request.module.__name__, prefix="AQ." if flavour == "express" else "")


@pytest.fixture
def client(emulator_url: str, api_key: str, flavour: str) -> genai.Client:
    return harness.client(emulator_url, flavour, api_key)


@pytest.fixture
def beta_client(emulator_url: str, api_key: str, flavour: str) -> genai.Client:
    """The API version the SDK does not default to, on the test's credential as ``client``: v1beta on the
    Developer API (the JS SDK's default), v1 on Vertex AI (the Python SDK defaults to v1beta1)."""
    return harness.client(emulator_url, flavour, api_key, api_version="v1beta" if flavour == "developer" else "v1")
