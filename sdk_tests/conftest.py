"""The conformance suite drives the real google-genai SDK against an emulator.

Point it at a running emulator with ``GEMINI_EMULATOR_URL``; otherwise it starts one in-process.

Each test belongs to an *area*: the argument of its ``@pytest.mark.conformance("area")`` marker, else
its module's name without ``test_``. At the end of a run that included this suite, the terminal
summary lists the areas with their pass/fail counts, taken from the run's own reports.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Iterator

import pytest
from google import genai

KEY = "conformance-key"
AREA = "conformance_area"  # the user property that carries a test's area into its reports (xdist too)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance(area): the conformance-suite area a test covers")


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
    if not outcomes:
        return
    terminalreporter.write_sep("-", "conformance suite covered:")
    width = max(len(area) for area in outcomes)
    for area in sorted(outcomes):
        counts = Counter(outcomes[area].values())
        text = ", ".join(f"{counts[w]} {w}" for w in rank if counts[w])
        terminalreporter.write_line(f"  {area:<{width}}  {text}")


@pytest.fixture(scope="session")
def emulator_url() -> Iterator[str]:
    external = os.environ.get("GEMINI_EMULATOR_URL")
    if external:
        yield external.rstrip("/")
        return
    from emulator import EmulatorThread

    with EmulatorThread() as emu:
        yield emu.url


@pytest.fixture
def client(emulator_url: str) -> genai.Client:
    return genai.Client(api_key=KEY, http_options={"base_url": emulator_url})


@pytest.fixture
def beta_client(emulator_url: str) -> genai.Client:
    """The JS SDK's default API version, through the Python SDK."""
    return genai.Client(api_key=KEY, http_options={"base_url": emulator_url, "api_version": "v1beta"})
