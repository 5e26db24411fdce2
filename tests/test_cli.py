"""The ``gemini-emulator`` command as a new user meets it: one-line errors with exit codes, help that shows
defaults and variables, what recording does and what it wrote."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emulator import EmulatorThread
from emulator.cli import app

BIN = Path(sys.executable).parent
SCRIPT = BIN / "gemini-emulator"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "emulator"]
runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_a_busy_port_is_one_line_and_a_non_zero_exit() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([*COMMAND, "serve", "--port", str(port)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr == f"gemini-emulator: port {port} is in use; pass --port 0 for a free one\n"
    assert result.stdout == ""


def test_port_0_prints_the_url_it_chose() -> None:
    process = subprocess.Popen([*COMMAND, "serve", "--port", "0", "--quiet"], stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline().strip()  # type: ignore[union-attr]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    found = re.fullmatch(r"export GOOGLE_GEMINI_BASE_URL=http://127\.0\.0\.1:(\d+)", line)
    assert found is not None and int(found[1]) != 0


def test_serve_help_shows_defaults_and_variables_and_no_type_labels() -> None:
    code, text = run("serve", "--help")
    assert code == 0
    flat = " ".join(text.split())
    assert "--port PORT" in flat
    assert "[env var: GEMINI_EMULATOR_PORT; default: (8765)]" in flat
    assert "[env var: GEMINI_EMULATOR_HOST; default: (127.0.0.1)]" in flat
    assert "[env var: GEMINI_EMULATOR_RECORD_MODE; default: (none)]" in flat
    assert "--record-mode [none|once|new_episodes|all]" in flat
    assert "[env var: GEMINI_EMULATOR_MATCH_IGNORE, a JSON list]" in flat
    assert not re.search(r"<(bool|str|int|float|path|list\[[^]]*\])>", text)


def test_the_options_read_the_settings_variables() -> None:
    from emulator import cli

    seen = {}

    def capture(settings: object, **_: object) -> None:
        seen["settings"] = settings

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("emulator.server.runner.serve", capture)
        code, text = run("serve", env={"GEMINI_EMULATOR_PORT": "0", "GEMINI_EMULATOR_SEED": "7"})
    assert code == 0, text
    settings = seen["settings"]
    assert (settings.port, settings.seed) == (0, 7)  # type: ignore[attr-defined]
    assert cli.ENV_PREFIX == "GEMINI_EMULATOR_"


def test_version() -> None:
    code, text = run("--version")
    assert code == 0
    assert re.fullmatch(r"gemini-emulator \S+\n", text)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--record", "a.yaml", "--cassette", "b.yaml"],
            "--record and --cassette both name the cassette: --record FILE records into FILE (and replays what it "
            "holds), --cassette FILE replays it; pass one of them",
        ),
        (
            ["--record", "a.yaml", "--scenario", "s.yaml"],
            "--scenario answers every model, so --record would record nothing: pass one of them",
        ),
        (
            ["--cassette", "a.yaml", "--scenario", "s.yaml"],
            "--scenario answers every model, so --cassette would never be replayed: pass one of them",
        ),
        (
            ["--record", "a.yaml", "--backend", "*=default"],
            "--backend '*=default' answers every model, so --record would record nothing: pass one of them",
        ),
        (
            ["--record", "a.yaml", "--record-mode", "none"],
            "--record records, --record-mode none only replays: pass --cassette FILE to replay, or another mode",
        ),
        (
            ["--record-mode", "once"],
            "--record-mode applies to a cassette: pass --record FILE (or --cassette FILE or DIR) with it",
        ),
        (["--upstream", "http://x"], "--upstream is used only when recording: pass --record FILE with it"),
        (
            ["--cassette", "a.yaml", "--record-errors"],
            "--record-errors is used only when recording: pass --record FILE with it",
        ),
    ],
)
def test_conflicting_flags_are_refused_with_a_sentence(args: list[str], message: str) -> None:
    code, text = run("serve", *args)
    assert (code, text) == (2, f"gemini-emulator: {message}\n")


def test_a_bad_record_mode_names_the_allowed_values() -> None:
    code, text = run("serve", "--record", "a.yaml", "--record-mode", "sometimes")
    assert (code, text) == (
        2,
        "gemini-emulator: --record-mode must be one of none, once, new_episodes, all (not 'sometimes')\n",
    )
    code, text = run("serve", env={"GEMINI_EMULATOR_RECORD_MODE": "always"})
    assert code == 2 and "must be one of none, once, new_episodes, all" in text
    code, text = run("serve", "--port", "70000")
    assert (code, text) == (
        2,
        "gemini-emulator: --port (GEMINI_EMULATOR_PORT) should be less than or equal to 65535 (not 70000)\n",
    )
    assert "pydantic" not in text and "http" not in text


def test_recording_says_what_it_does_and_what_it_wrote(tmp_path: Path) -> None:
    from google import genai

    cassette = tmp_path / "cassettes" / "chat.yaml"
    with EmulatorThread() as upstream:
        process = subprocess.Popen(
            [*COMMAND, "serve", "--record", str(cassette), "--upstream", upstream.url, "--port", "0", "--quiet"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            first = process.stdout.readline().strip()  # type: ignore[union-attr]
            url = first.split("=", 1)[1]
            client = genai.Client(
                api_key="AIza" + "CliCanaryCliCanaryCliCanaryCliCan12", http_options={"base_url": url}
            )
            client.models.generate_content(model="gemini-2.5-flash", contents="one")
            client.models.generate_content(model="gemini-2.5-flash", contents="two")
            assert "".join(
                c.text or "" for c in client.models.generate_content_stream(model="gemini-2.5-flash", contents="three")
            )
        finally:
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=30)
    assert first.startswith("export GOOGLE_GEMINI_BASE_URL=")
    assert "GEMINI_API_KEY" not in first + out  # the user's own key must pass through
    assert f"# recording to {cassette} from {upstream.url}; your key is forwarded and never written\n" in err
    assert "in record mode new_episodes" in err
    assert err.endswith(f"gemini-emulator: wrote 3 interactions, 1 stream, 0 secrets to {cassette}\n")
    assert "CliCanary" not in cassette.read_text()
    assert sorted(p.name for p in cassette.parent.iterdir()) == ["chat.yaml"]


def test_on_a_terminal_recording_shows_what_it_has_written_so_far(tmp_path: Path) -> None:
    import os
    import pty
    import threading
    import time

    from google import genai

    cassette = tmp_path / "chat.yaml"
    main, child = pty.openpty()
    seen: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:
                return
            if not chunk:
                return
            seen.append(chunk)

    with EmulatorThread() as upstream:
        env = {**os.environ, "COLUMNS": "160", "TERM": "xterm"}
        command = [*COMMAND, "serve", "--record", str(cassette), "--upstream", upstream.url, "--port", "0"]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=child, env=env, text=True)
        os.close(child)
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            url = process.stdout.readline().strip().split("=", 1)[1]  # type: ignore[union-attr]
            client = genai.Client(api_key="k" * 12, http_options={"base_url": url})
            for text in ("one", "two"):
                client.models.generate_content(model="gemini-2.5-flash", contents=text)
            deadline = time.monotonic() + 10
            while b"recording: 2 interactions" not in b"".join(seen) and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=30)
            reader.join(timeout=5)
            os.close(main)
    text = b"".join(seen).decode("utf-8", "replace")
    assert f"recording: 2 interactions, 0 streams to {cassette}" in text
    assert "POST /v1/models/gemini-2.5-flash:generateContent 200" in text  # the access log, above the line
    assert text.rstrip().endswith(f"gemini-emulator: wrote 2 interactions, 0 streams, 0 secrets to {cassette}")
