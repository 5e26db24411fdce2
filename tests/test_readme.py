"""Every example in the README runs (the JavaScript ones in sdk_tests/test_js_sdk.py, beside the JS SDK), and CI
runs exactly the README's test command."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    install_and_serve, exports, test_command = blocks("console")[:3]
    assert install_and_serve.strip() == "pip install -e . && gemini-emulator serve"
    assert test_command.strip() in (ROOT / ".ci" / "run").read_text().splitlines()


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, str]]:
    """``gemini-emulator serve`` as a user runs it, on a free port; the exports it printed."""
    script = BIN / "gemini-emulator"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "emulator"]
    process = subprocess.Popen(
        [*command, "serve", "--port", "0", "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        lines = [process.stdout.readline().strip() for _ in range(2)]  # type: ignore[union-attr]
        exports = dict(re.fullmatch(r"export (\w+)=(\S+)", line).groups() for line in lines)  # type: ignore[union-attr]
        yield exports
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_prints_the_two_export_lines(served: dict[str, str]) -> None:
    assert set(served) == {"GOOGLE_GEMINI_BASE_URL", "GEMINI_API_KEY"}
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", served["GOOGLE_GEMINI_BASE_URL"])
    documented = dict(re.findall(r"export (\w+)=(\S+)", blocks("console")[1]))
    assert set(documented) == set(served)


EXPECTED = {
    2: ('You said: "Hello, Vertex AI"', "4 tokens"),
    3: ("gemini-2.5-flash heard: HELLO",),
    4: ('What did I send? -> You said: "What did I send?"',),
    5: ("key on disk: False",),
    6: ('You said: "Hi".',),
}


@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_python_examples_run(served: dict[str, str], index: int) -> None:
    drop = ("GOOGLE_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(served)
    result = subprocess.run(
        [sys.executable, "-c", blocks("python")[index]], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    for expected in EXPECTED.get(index, ()):
        assert expected in result.stdout
    if index == 0:  # the 30-second example prints, word for word, what the README says it prints
        assert result.stdout == blocks("text")[0]


def test_models_file_example(tmp_path: Path) -> None:
    from google import genai

    from emulator import EmulatorThread, Settings

    path = tmp_path / "models.json"
    path.write_text(blocks("json")[0])
    with EmulatorThread(Settings(port=0, models_file=path)) as emu:
        client = genai.Client(api_key="k", http_options={"base_url": emu.url})
        model = client.models.get(model="my-tuned-flash")
        assert model.display_name == "My Flash"
        assert client.models.generate_content(model="my-tuned-flash", contents="hi").text
        assert json.loads(path.read_text())["models"][0]["emulator"]["max_candidate_count"] == 1


def test_the_scenario_example_is_the_tested_fixture() -> None:
    example = blocks("yaml")[0]
    fixture = (ROOT / "fixtures" / "scenarios" / "reference.yaml").read_text(encoding="utf-8")
    assert example.strip() in fixture


def test_the_cassette_example_loads_here_and_in_vcrpy(tmp_path: Path) -> None:
    from vcr.serialize import deserialize
    from vcr.serializers import yamlserializer

    from emulator.cassette import load
    from emulator.cassette.lint import lint

    example = blocks("yaml")[1]
    path = tmp_path / "example.yaml"
    path.write_text(example)
    cassette = load(path)
    assert [i.response.streamed for i in cassette.interactions] == [True]
    assert lint(path) == []
    requests, responses = deserialize(example, yamlserializer)[:2]
    assert len(requests) == len(responses) == 1


def test_the_record_and_replay_commands(tmp_path: Path) -> None:
    from google import genai

    from emulator import EmulatorThread

    record, replay = blocks("console")[3].strip().splitlines()
    script = BIN / "gemini-emulator"
    prefix = [str(script)] if script.exists() else [sys.executable, "-m", "emulator"]

    def serve(line: str, upstream: str) -> subprocess.Popen[str]:
        args = line.replace("https://generativelanguage.googleapis.com", upstream).split()[1:]
        return subprocess.Popen(
            [*prefix, *args, "--port", "0", "--quiet"], cwd=tmp_path, stdout=subprocess.PIPE, text=True
        )

    def ask(process: subprocess.Popen[str]) -> str:
        try:
            url = process.stdout.readline().strip().split("=", 1)[1]  # type: ignore[union-attr]
            client = genai.Client(
                api_key="AIza" + "ReadmeCanaryReadmeCanaryReadmeCan12", http_options={"base_url": url}
            )
            return client.models.generate_content(model="gemini-2.5-flash", contents="recorded once").text or ""
        finally:
            process.terminate()
            process.wait(timeout=10)

    with EmulatorThread() as upstream:
        recorded = ask(serve(record, upstream.url))
    assert "ReadmeCanary" not in (tmp_path / "cassettes" / "chat.yaml").read_text()
    assert ask(serve(replay, "unused")) == recorded


def test_the_serve_table_names_every_option_and_its_real_variable() -> None:
    """The README's ``serve`` table against the command itself: every option is listed, and every
    environment variable it names is a setting."""
    import typer.main

    from emulator.cli import app
    from emulator.settings import Settings

    table = README.split("### `gemini-emulator serve`", 1)[1].split("\n### ", 1)[0]
    rows = [[cell.strip(" `") for cell in line.strip("|").split("|")] for line in table.splitlines()[4:]]
    rows = [row for row in rows if len(row) == 4]
    serve = typer.main.get_command(app).commands["serve"]  # type: ignore[attr-defined]
    options = {name for param in serve.params for name in param.opts if name.startswith("--")}
    assert options - {"--help"} == {row[0] for row in rows if row[0]}
    for row in rows:
        variable = row[1].split(" ")[0].strip("`")
        if variable:
            assert variable.removeprefix("GEMINI_EMULATOR_").lower() in Settings.model_fields, variable
