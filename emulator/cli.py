"""The ``gemini-emulator`` command."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from .cassette.cli import app as cassette_app
from .settings import Settings

app = typer.Typer(help="An offline emulator of the Google Gemini API.", no_args_is_help=True, add_completion=False)

PLACEHOLDER_KEY = "emulator-key"


app.add_typer(cassette_app, name="cassette", help="List, show, lint, redact and convert cassettes.")


@app.callback()
def main() -> None:
    """An offline emulator of the Google Gemini API."""


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind; 0 picks a free one.")] = None,
    api_key: Annotated[str | None, typer.Option(help="Accept only this key (others get 400 API_KEY_INVALID).")] = None,
    access_token: Annotated[
        str | None, typer.Option(help="Vertex AI: accept only this bearer token (others get 401).")
    ] = None,
    lenient: Annotated[bool, typer.Option("--lenient", help="Ignore unknown fields; skip semantic checks.")] = False,
    models_file: Annotated[Path | None, typer.Option(help="Extra catalogue entries (JSON or YAML).")] = None,
    any_model: Annotated[
        str | None, typer.Option(help="Answer any model name the catalogue lacks like this model (else 404).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed mixed into the default model's choices.")] = None,
    backend: Annotated[
        list[str] | None,
        typer.Option(help="Route GLOB=SPEC (repeatable): SPEC is default, scenario:FILE or callable:MODULE:FUNCTION."),
    ] = None,
    scenario: Annotated[Path | None, typer.Option(help="A scenario file answering every model.")] = None,
    callable_path: Annotated[
        list[Path] | None, typer.Option(help="Directory holding the modules of callable: routes (repeatable).")
    ] = None,
    cassette: Annotated[
        Path | None, typer.Option(help="Replay this cassette, or a directory of cassettes chosen per context.")
    ] = None,
    record: Annotated[
        Path | None, typer.Option(help="Record into this cassette (new_episodes unless --record-mode says).")
    ] = None,
    record_mode: Annotated[str | None, typer.Option(help="none (replay only), once, new_episodes or all.")] = None,
    upstream: Annotated[str | None, typer.Option(help="Where recording forwards Developer API calls.")] = None,
    vertex_upstream: Annotated[
        str | None, typer.Option(help="Where recording forwards Vertex AI calls (default: the location's endpoint).")
    ] = None,
    record_errors: Annotated[bool, typer.Option("--record-errors", help="Record upstream error answers too.")] = False,
    replay_timing: Annotated[
        float | None, typer.Option(help="Replay stream delays: 0 ignores (default), 1 as recorded.")
    ] = None,
    after_last: Annotated[str | None, typer.Option(help="repeat (default) or miss past the last recording.")] = None,
    match_ignore: Annotated[
        list[str] | None, typer.Option(help="A body field replay matching ignores, e.g. generationConfig.seed.")
    ] = None,
    match_location: Annotated[
        bool,
        typer.Option("--match-location", help="Vertex AI recordings answer only calls to their own location."),
    ] = False,
    allow_non_loopback: Annotated[
        bool, typer.Option("--allow-non-loopback", help="Bind a host beyond loopback (prints a warning).")
    ] = False,
    control_remote: Annotated[
        bool, typer.Option("--control-remote", help="Serve /_emulator/ to non-loopback callers too.")
    ] = False,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(help="A Host name /_emulator/ answers besides loopback names (repeatable; '*' for any)."),
    ] = None,
    control_token: Annotated[
        str | None, typer.Option(help="Require this token (x-emulator-token header) on /_emulator/ calls.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No access log.")] = False,
) -> None:
    """Serve the Gemini API on HOST:PORT and print the two lines that point the SDKs at it."""
    given = {
        "host": host, "port": port, "api_key": api_key, "access_token": access_token, "models_file": models_file,
        "any_model": any_model,
        "seed": seed, "backends": backend, "scenario": scenario, "callable_path": callable_path,
        "cassette": record or cassette,
        "record_mode": record_mode or ("new_episodes" if record else None), "upstream": upstream,
        "vertex_upstream": vertex_upstream,
        "replay_timing": replay_timing, "after_last": after_last, "match_ignore": match_ignore,
        "allowed_hosts": allowed_host, "control_token": control_token,
    }  # fmt: skip
    overrides: dict[str, Any] = {k: v for k, v in given.items() if v is not None and v != []}
    flags = (
        ("lenient", lenient), ("control_remote", control_remote), ("record_errors", record_errors),
        ("allow_non_loopback", allow_non_loopback), ("match_location", match_location),
    )  # fmt: skip
    overrides.update({k: True for k, on in flags if on})
    if quiet:
        overrides["access_log"] = False
    try:
        settings = Settings(**overrides)
        from .dispatch.specs import build_router

        build_router(settings, _NoBackend())
        from .server.runner import check_bind

        check_bind(settings)
    except (ValueError, OSError) as exc:
        typer.echo(f"gemini-emulator: {exc}", err=True)
        raise typer.Exit(2) from None
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(message)s")
    from .server.runner import serve as run

    def ready(url: str) -> None:
        typer.echo(f"export GOOGLE_GEMINI_BASE_URL={url}")
        typer.echo(f"export GEMINI_API_KEY={settings.expected_key or PLACEHOLDER_KEY}")
        typer.echo(f"# gemini-emulator serving on {url} (Ctrl-C to stop)", err=True)

    run(settings, on_ready=ready)


class _NoBackend:
    """Stands in for the default model while the routes are checked before serving."""

    async def answer(self, call: Any) -> Any:
        raise NotImplementedError
