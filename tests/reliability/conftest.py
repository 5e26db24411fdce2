"""The reliability suite's collector: every test adds its real counts, and the run ends with one
headline line of them (``pytest_terminal_summary``).

The figures are gathered in one session-wide :class:`Figures` object (the ``figures`` fixture).
Under pytest-xdist each worker ships its figures to the controller, which merges them, when this
conftest is loaded there (i.e. when ``tests/reliability`` is named on the command line).
"""

from __future__ import annotations

from typing import Any

import pytest
from reliability_support import Figures

HERE = "tests/reliability/"


_FIGURES = Figures()
_WORKER = [False]


def pytest_configure(config: pytest.Config) -> None:
    _WORKER[0] = hasattr(config, "workerinput")


@pytest.fixture(scope="session")
def figures() -> Figures:
    return _FIGURES


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Known bugs are counted where the reports end up: the controller, or the only process."""
    if _WORKER[0]:
        return
    if report.nodeid.startswith(HERE) and report.when == "call" and hasattr(report, "wasxfail"):
        _FIGURES.add("known_bugs")


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["reliability_figures"] = _FIGURES.dump()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    data = getattr(node, "workeroutput", {}).get("reliability_figures")
    if data:
        _FIGURES.merge(data)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    line = _FIGURES.headline()
    if line:
        terminalreporter.write_sep("=", "reliability headline figures")
        terminalreporter.write_line(line)
