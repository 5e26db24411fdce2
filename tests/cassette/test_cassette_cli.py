"""The ``cassette`` sub-app, driven through typer's CliRunner as the main CLI will mount it."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from cassette_samples import sample, streamed, unary
from test_cassette_convert import genai_file
from typer.testing import CliRunner

from emulator.cassette import FORMAT, Cassette, load, save
from emulator.cassette.cli import app
from emulator.cassette.convert import to_vcrpy

runner = CliRunner()
KEY = "AIza" + "Sy" + "C4n4ry" * 5 + "abc"


def invoke(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def test_ls_lists_counts_models_and_streams(tmp_path: Path) -> None:
    save(sample(), tmp_path / "chat.yaml")
    (tmp_path / "sub").mkdir()
    save(Cassette(interactions=[streamed("x"), streamed("y")]), tmp_path / "sub" / "s.json")
    vertex = "https://us-central1-aiplatform.googleapis.com/v1beta1/projects/p/locations/us-central1/publishers/google"
    calls = [unary("a", "b"), unary("c", "d", uri=vertex + "/models/gemini-2.0-flash-001:generateContent")]
    save(Cassette(interactions=calls), tmp_path / "two.yaml")
    (tmp_path / "broken.yaml").write_text("")
    (tmp_path / "notes.txt").write_text("ignored")
    code, out = invoke("ls", tmp_path)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("broken.yaml  unreadable:")
    assert lines[1] == "chat.yaml  4 interactions  Developer API  models: gemini-2.5-flash  streamed: 1"
    assert lines[2] == "sub/s.json  2 interactions  Developer API  models: gemini-2.5-flash  streamed: 2"
    assert lines[3] == (
        "two.yaml  2 interactions  Developer API, Vertex AI  "
        "models: gemini-2.0-flash-001, gemini-2.5-flash  streamed: 0"
    )
    assert len(lines) == 4


def test_show_one_interaction_and_all(tmp_path: Path) -> None:
    path = tmp_path / "chat.yaml"
    save(sample(), path)
    code, out = invoke("show", path, "--index", "1")
    assert code == 0
    assert out.splitlines() == [
        "#1 POST models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        "  user: 'Count'",
        "  -> 200 OK",
        "  [0] +0.100s 'To '",
        "  [1] +0.200s 'find' [STOP]",
    ]
    code, out = invoke("show", path)
    assert code == 0 and "#0 POST" in out and "'4' [STOP]" in out
    assert "error 429 RESOURCE_EXHAUSTED: Resource has been exhausted." in out
    assert "raw: 'not json\\n'" in out
    code, out = invoke("show", path, "--index", "9")
    assert code == 2 and "no #9" in out


def test_lint_clean_file_passes(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    save(Cassette(interactions=[unary("a"), streamed("b")]), path)
    code, out = invoke("lint", path)
    assert code == 0, out


def test_lint_reports_every_kind_of_finding(tmp_path: Path) -> None:
    cut = streamed("cut", complete=False)
    no_finish = streamed("nofinish", chunks=("a",))
    assert no_finish.response.events is not None
    no_finish.response.events[0].data["candidates"][0].pop("finishReason")
    leaky = unary("leak")
    leaky.request.headers = {"x-goog-api-key": ["live"]}
    leaky.request.uri += "?key=live"
    plain = to_vcrpy(Cassette(interactions=[unary("a"), unary("a"), cut, no_finish, leaky]))
    plain["interactions"][0]["response"]["body"]["string"] = '{"candidates": [}'
    plain["interactions"][4]["request"]["body"] = json.dumps({"text": KEY})
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(plain))
    code, out = invoke("lint", path)
    assert code == 1
    assert f"{path}: credential-like string AIza..." in out
    assert "no format version" in out
    assert f"{path} #0: response body is not valid JSON" in out
    assert f"{path} #2: stream cut before its final chunk (complete: false)" not in out  # vcrpy has no such flag
    assert f"{path} #3: stream ends without a finishReason" in out
    assert f"{path} #4: request header x-goog-api-key is not redacted" in out
    assert f"{path} #4: ?key= in the request URI is not redacted" in out
    ours = tmp_path / "ours.yaml"
    save(Cassette(interactions=[unary("a"), unary("a"), cut]), ours)
    code, out = invoke("lint", ours)
    assert code == 1
    assert out.splitlines()[:2] == [
        f"{ours} #1: duplicate of #0",
        f"{ours} #2: stream cut before its final chunk (complete: false)",
    ]


def test_lint_catches_hand_edits_vcrpy_could_not_load(tmp_path: Path) -> None:
    path = tmp_path / "edited.yaml"
    save(Cassette(interactions=[unary("a"), unary("b")]), path)
    data = yaml.safe_load(path.read_text())
    del data["interactions"][1]["request"]["headers"]
    path.write_text(yaml.safe_dump(data))
    code, out = invoke("lint", path)
    assert code == 1 and f"{path} #1: vcrpy cannot load this: the request has no headers" in out


def test_lint_format_versions_and_unreadable_files(tmp_path: Path) -> None:
    future = tmp_path / "future.yaml"
    save(sample(), future)
    future.write_text(future.read_text().replace(FORMAT, "gemini-emulator/9"))
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    code, out = invoke("lint", future, empty)
    assert code == 1
    assert "unknown format version 'gemini-emulator/9'" in out
    assert f"{empty}: {empty} is empty" in out


def test_redact_in_place_is_idempotent_and_keeps_the_shape(tmp_path: Path) -> None:
    leaky = unary("my token is s3cret-value")
    leaky.request.headers = {"x-goog-api-key": [KEY]}
    leaky.request.body = {"contents": [{"role": "user", "parts": [{"text": f"s3cret-value and {KEY}"}]}]}
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump(to_vcrpy(Cassette(interactions=[leaky]))))
    code, out = invoke("redact", plain, "--secret", "s3cret-value")
    assert code == 0 and out.splitlines() == [f"{plain}: redacted", "redacted 1 file: 1 changed, 0 unchanged"]
    text = plain.read_text()
    assert "s3cret-value" not in text and KEY not in text
    assert "format" not in text and "string:" in text  # still a plain vcrpy cassette
    code, out = invoke("redact", plain, "--secret", "s3cret-value")
    assert code == 0 and out.splitlines()[0] == f"{plain}: unchanged"
    assert plain.read_text() == text
    code, out = invoke("lint", plain)
    assert "redacted" not in out and "credential" not in out


def test_convert_between_all_three(tmp_path: Path) -> None:
    source = tmp_path / "chat.yaml"
    save(sample(), source)
    code, out = invoke("convert", source, tmp_path / "plain.json", "--to", "vcrpy")
    assert code == 0 and "(vcrpy, 4 interactions)" in out
    assert "string" in json.loads((tmp_path / "plain.json").read_text())["interactions"][0]["response"]["body"]
    code, _ = invoke("convert", tmp_path / "plain.json", tmp_path / "back.yaml")
    assert code == 0
    assert load(tmp_path / "back.yaml").interactions[0] == sample().interactions[0]
    code, _ = invoke("convert", source, tmp_path / "replay.json", "--to", "genai-replay")
    assert code == 0
    replay = json.loads((tmp_path / "replay.json").read_text())
    assert replay["replay_id"] == "chat" and len(replay["interactions"]) == 4
    genai = tmp_path / "genai.json"
    genai.write_text(json.dumps(genai_file()))
    code, _ = invoke("convert", genai, tmp_path / "from_genai.yaml")
    assert code == 0 and len(load(tmp_path / "from_genai.yaml").interactions) == 3
    code, out = invoke("convert", source, tmp_path / "x.yaml", "--to", "nonsense")
    assert code == 2 and "--to must be one of" in out
    code, out = invoke("convert", tmp_path / "missing.yaml", tmp_path / "x.yaml")
    assert code == 2 and "cannot read" in out


def test_lint_and_redact_over_many_files_end_with_a_one_line_summary(tmp_path: Path) -> None:
    paths = [tmp_path / f"c{n}.yaml" for n in range(12)]
    for path in paths:
        save(sample(), path)
    leaky = unary("x")
    leaky.request.headers = {"x-goog-api-key": [KEY]}
    paths[3].write_text(yaml.safe_dump(to_vcrpy(Cassette(interactions=[leaky]))))
    code, out = invoke("lint", *paths)
    assert code == 1
    findings = [line for line in out.splitlines() if line.startswith(str(paths[3]))]
    assert out.splitlines()[-1] == f"linted 12 files: {len(findings)} findings"
    code, out = invoke("redact", *paths)
    assert code == 0 and out.splitlines()[-1] == "redacted 12 files: 1 changed, 11 unchanged"


def test_a_terminal_sees_a_progress_bar_and_a_pipe_does_not(tmp_path: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    paths = [tmp_path / f"c{n}.yaml" for n in range(5)]
    for path in paths:
        save(sample(), path)
    command = [sys.executable, "-m", "emulator", "cassette", "lint", *map(str, paths)]
    piped = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert piped.stdout == "" and piped.stderr == "linted 5 files: 0 findings\n"
    main, child = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    process = subprocess.Popen(command, stdout=child, stderr=child, env=env)
    os.close(child)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    process.wait(timeout=60)
    os.close(main)
    text = seen.decode("utf-8", "replace")
    assert "linting" in text and "5/5" in text  # rich's bar, transient: it is gone once done
    assert text.rstrip().endswith("linted 5 files: 0 findings")
