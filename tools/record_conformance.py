#!/usr/bin/env python3
"""Records the conformance cassettes against the real Gemini API. Maintainers only; never in CI.

For each scenario it starts ``gemini-emulator serve --record DIR/NAME.yaml --record-mode all
--upstream https://generativelanguage.googleapis.com`` on a free loopback port, points google-genai
at it with the real key (the recorder forwards the key and redacts it before writing), runs a few
SDK calls, stops the server and lints the cassette. Without ``GEMINI_API_KEY``, or with
``--dry-run``, it prints what it would do and exits 0.

    GEMINI_API_KEY=... python tools/record_conformance.py [--out fixtures/cassettes] [--only stream]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM = "https://generativelanguage.googleapis.com"
MODEL = "gemini-2.5-flash"
WEATHER = {
    "name": "get_weather",
    "description": "The current weather in a city.",
    "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]},
}


def _chat(client: Any) -> None:
    chat = client.chats.create(model=MODEL)
    chat.send_message("My name is Ada. Reply in five words.")
    chat.send_message("What is my name?")


SCENARIOS: dict[str, Callable[[Any], Any]] = {
    "generate": lambda c: c.models.generate_content(model=MODEL, contents="Say hello in exactly five words."),
    "stream": lambda c: list(c.models.generate_content_stream(model=MODEL, contents="Count from one to twenty.")),
    "chat": _chat,
    "count_tokens": lambda c: c.models.count_tokens(model=MODEL, contents="How many tokens is this?"),
    "embed": lambda c: c.models.embed_content(model="gemini-embedding-001", contents="An embedding, please."),
    "function_call": lambda c: c.models.generate_content(
        model=MODEL,
        contents="What is the weather in Paris?",
        config={"tools": [{"function_declarations": [WEATHER]}]},
    ),
}


def command(cassette: Path) -> list[str]:
    return [
        sys.executable, "-m", "emulator", "serve", "--port", "0", "--quiet",
        "--record", str(cassette), "--record-mode", "all", "--upstream", UPSTREAM,
    ]  # fmt: skip


@contextmanager
def recording(cassette: Path) -> Iterator[str]:
    """The emulator recording into ``cassette``; yields its base URL from the export line it prints."""
    process = subprocess.Popen(command(cassette), stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("export GOOGLE_GEMINI_BASE_URL="):
            raise RuntimeError(f"the emulator did not start (said {line!r})")
        yield line.split("=", 1)[1]
    finally:
        process.terminate()
        process.wait(timeout=30)


def record(name: str, out: Path, key: str) -> int:
    from google import genai

    from emulator.cassette.lint import lint

    cassette = out / f"{name}.yaml"
    with recording(cassette) as url:
        SCENARIOS[name](genai.Client(api_key=key, http_options={"base_url": url}))
    findings = lint(cassette)
    print(f"{cassette}: recorded" + "".join(f"\n  {f}" for f in findings))
    return len(findings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Record the conformance cassettes against the real API.")
    parser.add_argument("--out", type=Path, default=ROOT / "fixtures" / "cassettes", help="Cassette directory.")
    parser.add_argument("--only", action="append", choices=sorted(SCENARIOS), help="Record only these (repeatable).")
    parser.add_argument("--dry-run", action="store_true", help="Print the plan and exit.")
    args = parser.parse_args(argv)
    names = args.only or list(SCENARIOS)
    key = os.environ.get("GEMINI_API_KEY", "")
    if args.dry_run or not key:
        print("dry run: " + ("--dry-run given" if args.dry_run else "GEMINI_API_KEY is not set") + "; would record:")
        for name in names:
            print(f"  {name}: {' '.join(command(args.out / f'{name}.yaml'))}")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    findings = sum(record(name, args.out, key) for name in names)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
