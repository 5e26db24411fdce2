"""The conformance checks through the real JS SDK (@google/genai from the npm registry, not mocked).

``js/conformance.mjs`` runs every check once against the suite's emulator and reports what the SDK
returned or raised; the tests below hold it to the same expectations as the Python SDK, and read
the emulator's journal to see what went over the wire. The first run installs the SDK with
``npm ci`` into ``sdk_tests/js/node_modules``; without node and npm, or when the registry cannot be
reached, these tests skip.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import harness
import pytest

pytestmark = pytest.mark.conformance("js_sdk")

JS = Path(__file__).parent / "js"
SDK = JS / "node_modules" / "@google" / "genai" / "package.json"


def _install() -> None:
    """``npm ci`` once per checkout, under a lock (pytest-xdist workers may arrive together)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed; the JS SDK checks need them")
    with open(JS / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if SDK.exists():
            return
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=JS, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0 or not SDK.exists():
            # The registry is outside this project: its outage skips these tests (visibly, in the
            # conformance summary) rather than failing every other change.
            pytest.skip(f"npm ci failed in {JS}: {done.stderr.strip()[-500:]}")


class Run:
    """What one run of the checks reported, and the journal of each check's credential, per flavour."""

    def __init__(self, url: str, prefix: str, results: dict[str, dict[str, Any]]) -> None:
        self.url, self.prefix, self.results = url, prefix, results

    def credential(self, check: str, flavour: str = "developer") -> str:
        return f"{'AQ.' if flavour == 'express' else ''}{self.prefix}-{flavour}-{check}"

    def value(self, check: str, flavour: str = "developer") -> Any:
        result = self.results[flavour][check]
        assert result["ok"], result
        return result["value"]

    def error(self, check: str, flavour: str = "developer") -> dict[str, Any]:
        result = self.results[flavour][check]
        assert not result["ok"], result
        return result

    def journal(self, check: str, flavour: str = "developer") -> list[dict[str, Any]]:
        return harness.journal(self.url, self.credential(check, flavour))


# Every check for each flavour: the Developer API (an API key), Vertex AI (project, location and an OAuth2
# client holding a token, so google-auth-library makes no network call) and Vertex AI express mode.
EVERY = pytest.mark.flavours("developer", "vertex", "express")
BOTH = pytest.mark.flavours("developer", "vertex")


@pytest.fixture(scope="module")
def run(emulator_url: str) -> Run:
    _install()
    prefix = f"{harness.module_of(__name__)}-{uuid.uuid4().hex}"  # each check's key: PREFIX-FLAVOUR-CHECK
    drop = (
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "GOOGLE_GENAI_USE_VERTEXAI",
        "GOOGLE_CLOUD_PROJECT",
        "GOOGLE_CLOUD_LOCATION",
    )
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        GOOGLE_GEMINI_BASE_URL=emulator_url,
        GOOGLE_VERTEX_BASE_URL=emulator_url,
        CONFORMANCE_KEY_PREFIX=prefix,
        CONFORMANCE_FLAVOURS=",".join(harness.FLAVOURS),
    )
    done = subprocess.run(["node", "conformance.mjs"], cwd=JS, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    found = Run(emulator_url, prefix, results)
    for flavour, checks in results.items():
        for check in checks:
            harness.register(__name__, found.credential(check, flavour))
    return found


@EVERY
def test_generate_content_with_consistent_usage(run: Run, flavour: str) -> None:
    value = run.value("generate", flavour)
    assert value["text"].startswith('You said: "Hello there".') and value["finish"] == "STOP"
    usage = value["usage"]
    assert usage["totalTokenCount"] == (
        usage["promptTokenCount"] + usage["candidatesTokenCount"] + usage.get("thoughtsTokenCount", 0)
    )
    (entry,) = run.journal("generate", flavour)
    assert entry["method"] == "generateContent"
    assert (entry["version"], entry["flavour"]) == (
        ("v1", "developer") if flavour == "developer" else ("v1beta1", "vertex")
    )
    if flavour == "vertex":
        assert (entry["project"], entry["location"]) == (harness.PROJECT, harness.LOCATION)


def test_v1beta_is_the_same_api(run: Run) -> None:
    """Developer API only (Vertex AI's JS default is v1beta1 already)."""
    assert run.value("generate_v1beta") == run.value("generate")["text"]
    (entry,) = run.journal("generate_v1beta")
    assert entry["version"] == "v1beta"


@EVERY
def test_stream_chunks_share_one_id_and_add_up_to_the_unary_text(run: Run, flavour: str) -> None:
    value = run.value("stream", flavour)
    assert value["chunks"] >= 2 and value["ids"] == 1
    assert value["text"] == value["unary"]
    assert value["finishes"][-1] == "STOP" and not any(value["finishes"][:-1])


@EVERY
def test_chat_sends_its_history_with_every_message(run: Run, flavour: str) -> None:
    value = run.value("chat", flavour)
    assert value["first"] == "Nice to meet you, Ada."  # the default model acknowledges the name it heard
    assert value["third"].startswith('You said: "Thanks."')
    # The streamed answer is kept as one model content per chunk, as the SDK does.
    roles = value["roles"]
    assert roles[:3] == ["user", "model", "user"] and roles[-2:] == ["user", "model"]
    assert set(roles[3:-2]) == {"model"} and value["curated"] == len(roles)
    sent = [entry["request"] for entry in run.journal("chat", flavour)]
    assert [len(r["contents"]) for r in sent] == [1, 3, len(roles) - 1]
    assert all(r["systemInstruction"]["parts"] == [{"text": "Be brief."}] for r in sent)
    methods = [e["method"] for e in run.journal("chat", flavour)]
    assert methods == ["generateContent", "streamGenerateContent", "generateContent"]


@BOTH
def test_chat_history_after_failed_turns(run: Run, flavour: str) -> None:
    value = run.value("chat_after_failures", flavour)
    kept = [["user", 1], ["model", 1]]
    # An HTTP error or a mid-stream error records nothing.
    assert value["error"] == {"status": 503, "history": kept}
    assert value["midstream"] == {"status": 503, "history": kept}
    # A blocked prompt, and a stream that ends without a finish reason, are kept with an empty model
    # turn in the comprehensive history and left out of the curated one.
    assert value["blocked"] == {"history": [*kept, ["user", 1], ["model", 0]], "curated": 2}
    assert value["truncated"] == {
        "history": [*kept, ["user", 1], ["model", 0], ["user", 1], ["model", 0]],
        "curated": 2,
    }
    assert value["next"].startswith('You said: "six"')
    # What went out: the curated history and the new message, each time.
    sent = [len(entry["request"]["contents"]) for entry in run.journal("chat_after_failures", flavour)]
    assert sent == [1, 3, 3, 3, 3, 3]


@EVERY
def test_count_tokens_agrees_with_the_prompt_count(run: Run, flavour: str) -> None:
    value = run.value("count_tokens", flavour)
    assert value["total"] == value["prompt"] > 0


def test_embeddings_are_unit_vectors_of_the_asked_size(run: Run) -> None:
    """Developer API only: batchEmbedContents (Vertex AI's :predict is checked in test_vertex_embeddings)."""
    value = run.value("embed")
    assert [v["size"] for v in value] == [16, 16]
    assert all(abs(v["norm"] - 1) < 1e-9 for v in value)
    (entry,) = run.journal("embed")
    assert entry["method"] == "batchEmbedContents"


def test_models_list_pages_through_the_catalogue_and_get_finds_one(run: Run, emulator_url: str) -> None:
    """Developer API only: ``models/...`` (Vertex AI's publisher models: test_vertex_models_list_and_get)."""
    value = run.value("models")
    with urllib.request.urlopen(
        urllib.request.Request(
            f"{emulator_url}/v1beta/models?pageSize=1000", headers={"x-goog-api-key": harness.key(__name__)}
        )
    ) as response:
        catalogue = [m["name"] for m in json.load(response)["models"]]
    assert value["names"] == catalogue
    assert value["get"] == {"name": "models/gemini-2.5-flash", "displayName": "Gemini 2.5 Flash",
                            "inputTokenLimit": 1048576}  # fmt: skip


@EVERY
def test_an_unknown_model_is_an_api_error_404(run: Run, flavour: str) -> None:
    unknown = run.error("unknown_model", flavour)
    assert (unknown["name"], unknown["status"]) == ("ApiError", 404)
    assert json.loads(unknown["error"])["error"]["status"] == "NOT_FOUND"


@BOTH
def test_errors_arrive_as_api_errors_with_the_real_status_and_body(run: Run, flavour: str) -> None:
    bad = run.error("bad_request", flavour)
    assert (bad["name"], bad["status"]) == ("ApiError", 400)
    assert json.loads(bad["error"])["error"]["message"] == "Please use a valid role: user, model."


def test_a_quota_error_has_the_developer_api_details(run: Run) -> None:
    """Developer API only: its 429 carries RetryInfo; Vertex AI's is terse."""
    quota = json.loads(run.error("quota_error")["error"])["error"]
    assert quota["status"] == "RESOURCE_EXHAUSTED"
    assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"} in quota["details"]


@BOTH
def test_retry_options_retry_exactly_the_injected_failures(run: Run, flavour: str) -> None:
    assert run.value("retries", flavour).startswith('You said: "fail twice, then answer"')
    assert len(run.journal("retries", flavour)) == 3


@BOTH
def test_a_mid_stream_failure_is_an_api_error_after_the_chunks_before_it(run: Run, flavour: str) -> None:
    value = run.value("midstream", flavour)
    assert value["chunks"] == 2
    assert (value["name"], value["status"]) == ("ApiError", 503)
    assert "The model is overloaded" in value["message"]


@BOTH
def test_a_blocked_prompt_has_feedback_and_no_text(run: Run, flavour: str) -> None:
    assert run.value("blocked", flavour) == {"block": "SAFETY", "text": None}


@BOTH
@pytest.mark.parametrize(("check", "ids"), [("function_calling", False), ("function_calling_gemini_3", True)])
def test_function_calling_round_trip(run: Run, flavour: str, check: str, ids: bool) -> None:
    """Calls carry an id where the model's family sends one (gemini 3, not gemini 2.5), and the
    response goes back with it."""
    value = run.value(check, flavour)
    (call,) = value["calls"]
    assert call["name"] == "get_weather" and isinstance(call["args"]["city"], str)
    assert 1 <= call["args"]["days"] <= 7
    assert bool(call.get("id")) is ids
    assert value["answer"] == 'Here is what the tools told me: get_weather returned {"forecast": "sunny"}.'
    second = run.journal(check, flavour)[-1]["request"]["contents"]
    assert [c["role"] for c in second] == ["user", "model", "user"]
    assert second[2]["parts"][0]["functionResponse"].get("id") == call.get("id")


@BOTH
def test_connection_faults_fail_the_call_not_the_server(run: Run, flavour: str) -> None:
    value = run.value("connection_faults", flavour)
    for kind in ("reset", "empty", "garbage", "malformed"):
        for where in (kind, f"{kind} in stream"):
            assert value[where]["raised"] and value[where]["name"] in ("TypeError", "SyntaxError"), (where, value)
    assert value["stall"]["name"] == "AbortError" and value["stall"]["seconds"] < 10
    # A truncated stream ends without an error and without a finish reason: the client must notice.
    assert value["truncate"] == {"chunks": 2, "finishes": [None, None]}
    assert value["after"].startswith('You said: "still serving"')


@BOTH
def test_structured_output_matches_the_schema(run: Run, flavour: str) -> None:
    value = run.value("structured", flavour)
    assert isinstance(value["name"], str) and all(isinstance(t, str) for t in value["tags"])


@pytest.mark.flavours("vertex", "express")
def test_compute_tokens_lists_the_tokens_count_tokens_counts(run: Run, flavour: str) -> None:
    """Vertex AI only (the Developer API has no computeTokens)."""
    value = run.value("compute_tokens", flavour)
    assert value["roles"] == ["user"] and value["tokens"] == value["ids"] and sum(value["tokens"]) == value["counted"]
    assert [e["method"] for e in run.journal("compute_tokens", flavour)] == ["computeTokens", "countTokens"]


def test_vertex_embeddings_go_by_predict(run: Run) -> None:
    """Vertex AI only: the JS SDK sends text-embedding models and gemini-embedding-001 to ``:predict``,
    whose answer carries each text's token count."""
    value = run.value("vertex_embed", "vertex")
    for model in ("text-embedding-005", "gemini-embedding-001"):
        assert [(v["size"], v["tokens"]) for v in value[model]] == [(32, 1), (32, 2)]
        assert all(abs(v["norm"] - 1) < 1e-9 for v in value[model])
    methods = [(e["model"], e["method"]) for e in run.journal("vertex_embed", "vertex")]
    assert methods == [("text-embedding-005", "predict"), ("gemini-embedding-001", "predict")]


@pytest.mark.flavours("vertex", "express")
def test_vertex_models_list_and_get(run: Run, flavour: str, emulator_url: str) -> None:
    """Vertex AI only: the publisher models, paged, and one of them got (the catalogue calls of both
    modes take no project path)."""
    value = run.value("vertex_models", flavour)
    key = run.credential("vertex_models", flavour)
    request = urllib.request.Request(
        f"{emulator_url}/v1beta1/publishers/google/models?pageSize=1000", headers={"Authorization": f"Bearer {key}"}
    )
    with urllib.request.urlopen(request) as response:
        catalogue = [m["name"] for m in json.load(response)["publisherModels"]]
    assert value["names"] == catalogue
    assert value["get"]["name"] == "publishers/google/models/gemini-2.5-flash" and value["get"]["version"]


def test_vertex_refuses_empty_text(run: Run) -> None:
    """Vertex AI only: ``{"text": ""}``, which the Developer API takes, is a 400 of its own."""
    error = run.error("empty_text", "vertex")
    assert (error["name"], error["status"]) == ("ApiError", 400)
    message = json.loads(error["error"])["error"]["message"]
    assert message.startswith("Unable to submit request because it has an empty text parameter.")
    assert run.journal("empty_text", "vertex") == []


@pytest.mark.parametrize(
    ("index", "start"), [(0, "Why is the sky blue?"), (1, "Hello, Vertex AI")], ids=["developer", "vertex"]
)
def test_the_readme_javascript_examples_run(emulator_url: str, index: int, start: str) -> None:
    """Both README examples as they are: the Developer API's reads the two exported variables, Vertex
    AI's an OAuth2 client's token and the base URL (here with a suite key as its token)."""
    _install()
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    examples = re.findall(r"```js\n(.*?)```", readme, flags=re.S)
    assert len(examples) == 2
    key = harness.key(__name__)
    example = examples[index].replace("'any-token'", repr(key))
    assert index == 0 or key in example  # the Vertex example's journal is this key's
    drop = (
        "GOOGLE_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_GENAI_USE_VERTEXAI",
        "GOOGLE_CLOUD_PROJECT",
        "GOOGLE_CLOUD_LOCATION",
    )
    env = {k: v for k, v in os.environ.items() if k not in drop}
    # (with GEMINI_API_KEY set as well, the Vertex AI client prints that its project wins over the key)
    env.update(GOOGLE_GEMINI_BASE_URL=emulator_url, **({"GEMINI_API_KEY": key} if index == 0 else {}))
    done = subprocess.run(
        ["node", "--input-type=module", "-e", example], cwd=JS, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith(f'You said: "{start}".')
    (entry,) = harness.journal(emulator_url, key)
    assert entry["flavour"] == ("developer" if index == 0 else "vertex")
