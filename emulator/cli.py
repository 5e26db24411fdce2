"""The ``gemini-emulator`` command."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from .settings import Settings

app = typer.Typer(help="An offline emulator of the Google Gemini API.", no_args_is_help=True, add_completion=False)

PLACEHOLDER_KEY = "emulator-key"


@app.callback()
def main() -> None:
    """An offline emulator of the Google Gemini API."""


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind; 0 picks a free one.")] = None,
    api_key: Annotated[str | None, typer.Option(help="Accept only this key (others get 400 API_KEY_INVALID).")] = None,
    lenient: Annotated[bool, typer.Option("--lenient", help="Ignore unknown fields; skip semantic checks.")] = False,
    models_file: Annotated[Path | None, typer.Option(help="Extra catalogue entries (JSON or YAML).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed mixed into the default model's choices.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No access log.")] = False,
) -> None:
    """Serve the Gemini API on HOST:PORT and print the two lines that point the SDKs at it."""
    given = {"host": host, "port": port, "api_key": api_key, "models_file": models_file, "seed": seed}
    overrides: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if lenient:
        overrides["lenient"] = True
    settings = Settings(**overrides)
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(message)s")
    from .server.runner import serve as run

    def ready(url: str) -> None:
        typer.echo(f"export GOOGLE_GEMINI_BASE_URL={url}")
        typer.echo(f"export GEMINI_API_KEY={settings.expected_key or PLACEHOLDER_KEY}")
        typer.echo(f"# gemini-emulator serving on {url} (Ctrl-C to stop)", err=True)

    run(settings, on_ready=ready)
