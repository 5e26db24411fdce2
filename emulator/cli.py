"""The ``gemini-emulator`` command."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn, get_args, get_origin

import typer
from pydantic import ValidationError
from typer.core import TyperGroup

from .settings import Settings

PLACEHOLDER_KEY = "emulator-key"
ENV_PREFIX = "GEMINI_EMULATOR_"
CASSETTE_HELP = "List, show, lint, redact, convert and index cassettes."


class Commands(TyperGroup):
    """The top-level commands, with ``cassette`` built only when it is asked for (or help lists it,
    or a mistyped name may be close to it).

    Its module imports the whole cassette package (pydantic models, YAML, file locks), which
    ``serve`` without a cassette never needs; building it eagerly would make every start pay. (The
    context and command are click's, which typer vendors in some versions and not in others.)"""

    def _add_cassette(self) -> None:
        if "cassette" not in self.commands:
            from .cassette.cli import app as cassette_app

            holder = typer.Typer(add_completion=False, rich_markup_mode=None)
            holder.add_typer(cassette_app, name="cassette", help=CASSETTE_HELP)
            self.add_command(typer.main.get_group(holder).commands["cassette"], "cassette")

    def list_commands(self, ctx: Any) -> list[str]:
        self._add_cassette()
        return super().list_commands(ctx)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name == "cassette":
            self._add_cassette()
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands:
            self._add_cassette()
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=Commands,
    help="An offline emulator of the Google Gemini API.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain click help: no <bool>/<str> type labels, defaults and env vars in brackets
)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("gemini-emulator")
    except Exception:  # not installed (a source tree on sys.path)
        return "unknown"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"gemini-emulator {_version()}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_show_version, is_eager=True, metavar=""
        ),
    ] = False,
) -> None:
    """An offline emulator of the Google Gemini API."""


def _default(field: str) -> str:
    """A setting's default as the help shows it."""
    value = Settings.model_fields[field].get_default(call_default_factory=True)
    if value is None or value == []:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _setting(field: str, help: str, metavar: str = "", *names: str, listed: bool = False) -> Any:
    """A ``serve`` option that is also the setting ``field``: the same environment variable
    (``GEMINI_EMULATOR_FIELD``) read by the option and by :class:`Settings`, its default shown.

    A list setting's variable holds a JSON list, which :class:`Settings` reads; the option names it in
    its help but does not read it (click would split it on spaces)."""
    envvar = ENV_PREFIX + field.upper()
    if listed:
        return typer.Option(
            *names, help=f"{help}  [env var: {envvar}, a JSON list]", metavar=metavar, show_default=_default(field)
        )
    return typer.Option(
        *names, help=help, metavar=metavar, envvar=envvar, show_envvar=True, show_default=_default(field)
    )


RECORD_MODES = ("none", "once", "new_episodes", "all")


@app.command()
def serve(
    host: Annotated[str | None, _setting("host", "Address to bind.", "HOST")] = None,
    port: Annotated[
        int | None, _setting("port", "Port to bind; 0 picks a free one (the URL printed says which).", "PORT")
    ] = None,
    api_key: Annotated[
        str | None, _setting("api_key", "Accept only this key (others get 400 API_KEY_INVALID).", "KEY")
    ] = None,
    access_token: Annotated[
        str | None, _setting("access_token", "Vertex AI: accept only this bearer token (others get 401).", "TOKEN")
    ] = None,
    lenient: Annotated[
        bool, _setting("lenient", "Ignore unknown fields; skip semantic checks.", "", "--lenient")
    ] = False,
    models_file: Annotated[
        Path | None, _setting("models_file", "Extra catalogue entries (JSON or YAML).", "FILE")
    ] = None,
    any_model: Annotated[
        str | None,
        _setting("any_model", "Answer any model name the catalogue lacks like this model (else 404).", "MODEL"),
    ] = None,
    seed: Annotated[int | None, _setting("seed", "Seed mixed into the default model's choices.", "N")] = None,
    backend: Annotated[
        list[str] | None,
        _setting(
            "backends",
            "Route GLOB=SPEC (repeatable): SPEC is default, scenario:FILE or callable:MODULE:FUNCTION.",
            "GLOB=SPEC",
            "--backend",
            listed=True,
        ),
    ] = None,
    scenario: Annotated[Path | None, _setting("scenario", "A scenario file answering every model.", "FILE")] = None,
    callable_path: Annotated[
        list[Path] | None,
        _setting(
            "callable_path", "Directory holding the modules of callable: routes (repeatable).", "DIR", listed=True
        ),
    ] = None,
    cassette: Annotated[
        Path | None,
        _setting("cassette", "Replay this cassette, or a directory of cassettes chosen per context.", "PATH"),
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option(
            help="Record into this cassette (new_episodes unless --record-mode says).",
            metavar="FILE",
            show_default="none",
        ),
    ] = None,
    record_mode: Annotated[
        str | None,
        _setting(
            "record_mode",
            "none (replay only), once, new_episodes or all (the default with --record: new_episodes).",
            "[none|once|new_episodes|all]",
        ),
    ] = None,
    upstream: Annotated[
        str | None, _setting("upstream", "Where recording forwards Developer API calls.", "URL")
    ] = None,
    vertex_upstream: Annotated[
        str | None,
        _setting(
            "vertex_upstream", "Where recording forwards Vertex AI calls (default: the location's endpoint).", "URL"
        ),
    ] = None,
    record_errors: Annotated[
        bool, _setting("record_errors", "Record upstream error answers too.", "", "--record-errors")
    ] = False,
    replay_timing: Annotated[
        float | None,
        _setting("replay_timing", "Replay stream delays: 0 ignores, 1 as recorded, 0.5 halves them.", "FACTOR"),
    ] = None,
    after_last: Annotated[
        str | None,
        _setting("after_last", "Past the last recording of a request: repeat it, or miss.", "[repeat|miss]"),
    ] = None,
    match_ignore: Annotated[
        list[str] | None,
        _setting(
            "match_ignore",
            "A body field replay matching ignores, e.g. generationConfig.seed (repeatable).",
            "FIELD",
            listed=True,
        ),
    ] = None,
    match_location: Annotated[
        bool,
        _setting(
            "match_location", "Vertex AI recordings answer only calls to their own location.", "", "--match-location"
        ),
    ] = False,
    allow_non_loopback: Annotated[
        bool,
        _setting("allow_non_loopback", "Bind a host beyond loopback (prints a warning).", "", "--allow-non-loopback"),
    ] = False,
    control_remote: Annotated[
        bool,
        _setting("control_remote", "Serve /_emulator/ to non-loopback callers too.", "", "--control-remote"),
    ] = False,
    allowed_host: Annotated[
        list[str] | None,
        _setting(
            "allowed_hosts",
            "A Host name /_emulator/ answers besides loopback names (repeatable; '*' for any).",
            "HOST",
            "--allowed-host",
            listed=True,
        ),
    ] = None,
    control_token: Annotated[
        str | None,
        _setting("control_token", "Require this token (x-emulator-token header) on /_emulator/ calls.", "TOKEN"),
    ] = None,
    loop: Annotated[
        str | None,
        _setting("loop", "Event loop: uvloop when installed (auto), or one of them.", "[auto|uvloop|asyncio]"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No access log.", show_default="off")] = False,
) -> None:
    """Serve the Gemini API on HOST:PORT and print the lines that point the SDKs at it."""
    flagged = {
        "record_mode": record_mode, "after_last": after_last, "upstream": upstream,
        "vertex_upstream": vertex_upstream, "record_errors": record_errors or None,
    }  # fmt: skip
    _refuse_bad_choices(record_mode, after_last)
    given = {
        "host": host, "port": port, "api_key": api_key, "access_token": access_token, "models_file": models_file,
        "any_model": any_model,
        "seed": seed, "backends": backend, "scenario": scenario, "callable_path": callable_path,
        "cassette": record or cassette,
        "record_mode": record_mode or ("new_episodes" if record else None), "upstream": upstream,
        "vertex_upstream": vertex_upstream,
        "replay_timing": replay_timing, "after_last": after_last, "match_ignore": match_ignore,
        "allowed_hosts": allowed_host, "control_token": control_token, "loop": loop,
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
    except ValidationError as exc:
        _fail(_explain(exc))
    if conflict := conflicting(settings, record=record, cassette=cassette, flagged=flagged):
        _fail(conflict)
    try:
        from .dispatch.specs import build_router

        build_router(settings, _NoBackend())
        from .server.runner import check_bind

        check_bind(settings)
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(message)s")
    from .server.runner import BindError
    from .server.runner import serve as run

    recording = settings.cassette is not None and settings.record_mode != "none"

    def ready(url: str) -> None:
        typer.echo(f"export GOOGLE_GEMINI_BASE_URL={url}")
        if recording:
            typer.echo(f"# {recording_line(settings)}", err=True)
        else:
            typer.echo(f"export GEMINI_API_KEY={settings.expected_key or PLACEHOLDER_KEY}")
            if settings.cassette is not None:
                typer.echo(f"# replaying {settings.cassette}; no key reaches any upstream", err=True)
        mode = f" in record mode {settings.record_mode}" if recording else ""
        typer.echo(f"# gemini-emulator serving on {url}{mode} (Ctrl-C to stop)", err=True)

    try:
        with recording_progress(recording and sys.stderr.isatty()):
            run(settings, on_ready=ready)
    except BindError as exc:
        typer.echo(f"gemini-emulator: {exc}", err=True)
        raise typer.Exit(1) from None
    if recording:
        for line in written(settings):
            typer.echo(f"gemini-emulator: {line}", err=True)


def _fail(message: str) -> NoReturn:
    typer.echo(f"gemini-emulator: {message}", err=True)
    raise typer.Exit(2)


def _refuse_bad_choices(record_mode: str | None, after_last: str | None) -> None:
    if record_mode is not None and record_mode not in RECORD_MODES:
        _fail(f"--record-mode must be one of {', '.join(RECORD_MODES)} (not {record_mode!r})")
    if after_last is not None and after_last not in ("repeat", "miss"):
        _fail(f"--after-last must be repeat or miss (not {after_last!r})")


_OPTION_OF = {"backends": "--backend", "allowed_hosts": "--allowed-host"}
_SECRET = {"api_key", "access_token", "control_token"}


def _explain(exc: ValidationError) -> str:
    """Pydantic's verdict as a sentence per setting, naming the option and its variable: no dump, no link."""
    lines = []
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        option = _OPTION_OF.get(field, "--" + field.replace("_", "-"))
        name = f"{option} ({ENV_PREFIX}{field.upper()})" if field else "a setting"
        annotation = Settings.model_fields[field].annotation if field in Settings.model_fields else None
        if error["type"] == "literal_error" and get_origin(annotation) is Literal:
            message = f"must be one of {', '.join(map(str, get_args(annotation)))}"
        else:
            message = str(error["msg"]).replace("Input should be", "should be")
        shown = "" if field in _SECRET or isinstance(error.get("input"), (dict, list)) else f" (not {error['input']!r})"
        lines.append(f"{name} {message}{shown}")
    return "; ".join(lines)


def conflicting(settings: Settings, *, record: Path | None, cassette: Path | None, flagged: dict[str, Any]) -> str:
    """What in these options cannot all be meant, in a sentence; empty when nothing conflicts."""
    recording = settings.cassette is not None and settings.record_mode != "none"
    if record is not None and cassette is not None:
        return (
            "--record and --cassette both name the cassette: --record FILE records into FILE (and replays what "
            "it holds), --cassette FILE replays it; pass one of them"
        )
    if record is not None and flagged["record_mode"] == "none":
        return "--record records, --record-mode none only replays: pass --cassette FILE to replay, or another mode"
    if settings.cassette is not None:
        what = "--record would record nothing" if recording else "--cassette would never be replayed"
        if settings.scenario is not None:
            return f"--scenario answers every model, so {what}: pass one of them"
        shadowing = [route for route in settings.backends if route.split("=", 1)[0].strip() == "*"]
        if shadowing:
            return f"--backend {shadowing[0]!r} answers every model, so {what}: pass one of them"
    if settings.cassette is None and flagged["record_mode"] is not None:
        return "--record-mode applies to a cassette: pass --record FILE (or --cassette FILE or DIR) with it"
    for name in ("upstream", "vertex_upstream", "record_errors"):
        if flagged[name] is not None and not recording:
            option = "--" + name.replace("_", "-")
            return f"{option} is used only when recording: pass --record FILE with it"
    return ""


def recording_line(settings: Settings) -> str:
    """What recording does, said when the server is up."""
    cassette = settings.cassette
    where = f"cassettes under {cassette}/ (one per context)" if cassette and cassette.is_dir() else f"{cassette}"
    vertex = f", Vertex AI from {settings.vertex_upstream}" if settings.vertex_upstream else ""
    return f"recording to {where} from {settings.upstream}{vertex}; your key is forwarded and never written"


@contextlib.contextmanager
def recording_progress(shown: bool) -> Iterator[None]:
    """On a terminal, a live line of what recording has written so far, the access log scrolling above
    it; nothing in a pipe or a CI log, where the line at exit says it all."""
    if not shown:
        yield
        return
    from rich.console import Console
    from rich.highlighter import NullHighlighter
    from rich.logging import RichHandler
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from .backends import record

    console = Console(stderr=True)
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True)
    task = progress.add_task("recording: nothing written yet")
    counts: dict[Path, tuple[int, int]] = {}

    def tell(recorder: record.RecordingBackend) -> None:
        counts[recorder.path] = (recorder.written, recorder.streams)
        interactions, streams = (sum(c[i] for c in counts.values()) for i in (0, 1))
        where = f"{len(counts)} cassettes" if len(counts) > 1 else str(recorder.path)
        said = f"{interactions} interaction{'s' * (interactions != 1)}, {streams} stream{'s' * (streams != 1)}"
        progress.update(task, description=f"recording: {said} to {where}")

    root = logging.getLogger()
    handlers = root.handlers[:]
    root.handlers = [
        RichHandler(
            console=console,
            show_time=False,
            show_level=False,
            show_path=False,
            highlighter=NullHighlighter(),
            keywords=[],
        )
    ]
    record.WATCHERS.append(tell)
    try:
        with progress:
            yield
    finally:
        record.WATCHERS.remove(tell)
        root.handlers = handlers


def written(settings: Settings) -> list[str]:
    """At exit: what each cassette received, or that nothing was written."""
    from .backends.record import WRITTEN

    if WRITTEN:
        return list(WRITTEN.values())
    return [f"wrote 0 interactions, 0 streams, 0 secrets to {settings.cassette}"]


class _NoBackend:
    """Stands in for the default model while the routes are checked before serving."""

    async def answer(self, call: Any) -> Any:
        raise NotImplementedError
