"""The pytest plugin as a user meets it: a fresh project, run by pytester in a subprocess."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_the_readme_example_passes_in_a_new_project(pytester: pytest.Pytester) -> None:
    (example,) = re.findall(r"```py\n(.*?)```", README, flags=re.S)
    pytester.makepyfile(test_my_app=example)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


CALLABLE_TESTS = """
import pytest
from google import genai


def upper(request, context):
    return request.last_user_text.upper()


@pytest.mark.gemini_model(function=upper)
def test_marker_model(genai_client):
    assert genai_client.models.generate_content(model="gemini-2.5-flash", contents="shout").text == "SHOUT"


@pytest.mark.parametrize("n", range(6))
def test_contexts_are_apart(gemini, genai_client, n):
    gemini.use_model(lambda request, context: f"only {n}")
    assert genai_client.models.generate_content(model="gemini-2.5-flash", contents="x").text == f"only {n}"
    assert [e.reply.text for e in gemini.requests] == [f"only {n}"]


def test_faults_and_attempts(gemini, genai_client):
    from google.genai import types

    gemini.use_faults({"kind": "error", "code": 503, "times": 1})
    retry = types.HttpRetryOptions(attempts=2, initial_delay=0.01)
    client = gemini.client(retry_options=retry)
    assert client.models.generate_content(model="gemini-2.5-flash", contents="x").text
    assert gemini.attempts() == 2


def where(request, context):
    return f"{context.flavour} {context.project} {context.location}"


@pytest.mark.gemini_model(function=where)
def test_vertex_client_in_the_same_context(gemini):
    client = gemini.vertex_client(project="p1", location="europe-west4")
    assert client.models.generate_content(model="gemini-2.5-flash", contents="x").text == "vertex p1 europe-west4"
    assert gemini.attempts() == 1


def test_default_model_and_async_client(genai_async_client, gemini):
    import asyncio

    async def run():
        return await genai_async_client.models.generate_content(model="gemini-2.5-flash", contents="async")

    assert "async" in asyncio.run(run()).text
    assert gemini.attempts("gemini-2.5-*") == 1 and gemini.declared_tools() == []
"""


@pytest.mark.parametrize("workers", [None, "2"])
def test_markers_fixtures_and_isolation_also_under_xdist(pytester: pytest.Pytester, workers: str | None) -> None:
    pytester.makepyfile(test_plugin_use=CALLABLE_TESTS)
    args = ["-p", "no:cacheprovider", *(["-n", workers] if workers else [])]
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(passed=10)


def test_importing_the_plugin_imports_neither_aiohttp_nor_the_sdk() -> None:
    code = (
        "import sys, emulator.pytest_plugin; print(sorted(m for m in ('aiohttp', 'google.genai') if m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"


CASSETTE_TEST = """
import pytest


@pytest.mark.gemini_cassette
def test_recorded(genai_client):
    chat = genai_client.chats.create(model="gemini-2.5-flash")
    assert "first" in chat.send_message("first message").text
    assert "".join(c.text for c in chat.send_message_stream("second message"))
"""


def test_cassette_marker_records_once_then_replays_offline(pytester: pytest.Pytester) -> None:
    from emulator import EmulatorThread

    pytester.makepyfile(test_cassettes=CASSETTE_TEST)
    with EmulatorThread() as upstream:
        recorded = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--gemini-record-mode=once", f"--gemini-upstream={upstream.url}"
        )
    recorded.assert_outcomes(passed=1)
    cassette = pytester.path / "cassettes" / "test_cassettes" / "test_recorded.yaml"
    assert cassette.is_file() and "gemini-test-" not in cassette.read_text()  # the per-test key is redacted
    replayed = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--gemini-strict-cassettes")
    replayed.assert_outcomes(passed=1)
    pytester.makepyfile(test_cassettes=CASSETTE_TEST.replace("second message", "another message"))
    missed = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--gemini-strict-cassettes")
    missed.assert_outcomes(failed=1, errors=1)  # the miss fails the test; strict mode adds the unused recording
    missed.stdout.fnmatch_lines(["*unused: POST*streamGenerateContent*"])
    missed.stdout.fnmatch_lines(["*differs at contents[[]2].parts[[]0].text: 'another message' != 'second message'*"])


ERROR_TESTS = """
import pytest


@pytest.mark.gemini_cassette
def test_never_recorded(genai_client):
    genai_client.models.generate_content(model="gemini-2.5-flash", contents="hi")


@pytest.mark.gemini_scenario({"rules": [{"reply": {"text": "scripted"}}]})
def test_inline_scenario_without_a_name(genai_client):
    assert genai_client.models.generate_content(model="gemini-2.5-flash", contents="hi").text == "scripted"


def test_a_bad_scenario(gemini):
    gemini.use_scenario({"name": "mine", "rules": [{"reply": 3}]})


def test_no_call_made(gemini):
    gemini.last_request
"""


def test_plugin_errors_are_clean_failures_that_say_what_to_do(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_errors=ERROR_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "gemini-emulator: no cassette cassettes/test_errors/test_never_recorded.yaml for this test; record it "
            "once with `pytest --gemini-record-mode once` (calls go to --gemini-upstream with the key your code "
            "uses), then replay it offline",
            "gemini-emulator: the scenario was refused: inline scenario: rules[[]0]: reply: *",
            "gemini-emulator: the code under test made no model call in this test (gemini.requests is empty)",
        ]
    )
    output = result.stdout.str()
    assert "AssertionError" not in output and "pytest_plugin.py" not in output  # no internals in the report
