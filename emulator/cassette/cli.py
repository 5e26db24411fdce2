"""``gemini-emulator cassette ...``: look into, check, clean and convert cassette files."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlsplit

import typer

from ..wire.flavour import Flavour
from . import convert, derived, derived_form, files, journal, lint, redact, store
from .matching import api_path, flavour_of, vertex_path
from .model import FORMAT, Cassette, CassetteError, Interaction

app = typer.Typer(
    help="Inspect, lint, redact, convert and index cassettes.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

_TARGETS = ("readable", "vcrpy", "genai-replay")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _walk(paths: list[Path], verb: str) -> Iterator[tuple[Path, Callable[[str], None]]]:
    """Each path with how to print a line about it: behind a rich progress bar when stdout is a terminal
    and there are several files, plainly (quiet) otherwise."""
    if len(paths) < 2 or not sys.stdout.isatty():
        for path in paths:
            yield path, typer.echo
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn(verb),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[at]}"),
    )
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task(verb, total=len(paths), at="")

        def say(line: str) -> None:
            progress.console.print(line, markup=False, highlight=False, soft_wrap=True)

        for path in paths:
            progress.update(task, at=str(path))
            yield path, say
            progress.advance(task)


def _load(path: Path) -> Cassette:
    try:
        return store.load(path)
    except CassetteError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _model(interaction: Interaction) -> str | None:
    uri = interaction.request.uri
    path = api_path(uri)
    if flavour_of(uri, path) is Flavour.VERTEX:
        path = vertex_path(path).removeprefix("publishers/google/")
    if path.startswith(("models/", "tunedModels/")):
        return path.split("/")[1].split(":")[0]
    return None


@app.command("ls")
def ls(directory: Annotated[Path, typer.Argument(help="Directory searched recursively.")]) -> None:
    """Cassettes under DIRECTORY with their interaction counts, APIs, models and whether they stream."""
    files = sorted(p for p in directory.rglob("*") if p.suffix.lower() in store.SUFFIXES and p.is_file())
    for path in files:
        name = path.relative_to(directory)
        try:
            cassette = store.load(path)
        except CassetteError as exc:
            typer.echo(f"{name}  unreadable: {exc}")
            continue
        items = cassette.interactions
        models = sorted({m for m in map(_model, items) if m})
        streamed = sum(1 for i in items if i.response.streamed)
        apis = ", ".join(f.api_name for f in sorted({flavour_of(i.request.uri) for i in items}))
        models_text = ", ".join(models) or "-"
        typer.echo(f"{name}  {len(items)} interactions  {apis or '-'}  models: {models_text}  streamed: {streamed}")


def _last_user_text(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    for content in reversed(body.get("contents") or []):
        if isinstance(content, dict) and content.get("role", "user") == "user":
            texts = [p["text"] for p in content.get("parts") or [] if isinstance(p, dict) and "text" in p]
            if texts:
                return " ".join(texts)
    return None


def _answer_text(data: Any) -> str:
    if not isinstance(data, dict):
        return json.dumps(data, ensure_ascii=False)[:200]
    if error := data.get("error"):
        return f"error {error.get('code')} {error.get('status')}: {error.get('message')}"
    out = []
    for candidate in data.get("candidates") or []:
        for part in (candidate.get("content") or {}).get("parts") or []:
            if "text" in part:
                out.append(("(thought) " if part.get("thought") else "") + repr(part["text"]))
            elif "functionCall" in part:
                call = part["functionCall"]
                out.append(f"call {call.get('name')}({json.dumps(call.get('args', {}), ensure_ascii=False)})")
        if candidate.get("finishReason"):
            out.append(f"[{candidate['finishReason']}]")
    return " ".join(out) or json.dumps(data, ensure_ascii=False)[:200]


def _show(index: int, interaction: Interaction) -> None:
    req, resp = interaction.request, interaction.response
    query = "&".join(f"{k}={v}" for k, v in parse_qsl(urlsplit(req.uri).query) if k != "key")
    typer.echo(f"#{index} {req.method} {api_path(req.uri)}{'?' + query if query else ''}")
    if (text := _last_user_text(req.body)) is not None:
        typer.echo(f"  user: {text!r}")
    typer.echo(f"  -> {resp.status} {resp.message}" + ("" if resp.complete else "  (cut short)"))
    if resp.events is not None:
        for n, event in enumerate(resp.events):
            delay = "" if event.delay is None else f" +{event.delay:.3f}s"
            typer.echo(f"  [{n}]{delay} {_answer_text(event.data)}")
    elif resp.body is not None:
        typer.echo(f"  {_answer_text(resp.body)}")
    elif resp.raw:
        typer.echo(f"  raw: {resp.raw[:200]!r}")


@app.command()
def show(
    file: Path,
    index: Annotated[int | None, typer.Option("--index", "-n", help="Only this interaction (0-based).")] = None,
) -> None:
    """Interactions readably: method, path, last user text, status, the answer or its events one per line."""
    cassette = _load(file)
    items = list(enumerate(cassette.interactions))
    if index is not None:
        if not 0 <= index < len(items):
            typer.echo(f"error: {file} has {len(items)} interactions; no #{index}", err=True)
            raise typer.Exit(2)
        items = [items[index]]
    for i, interaction in items:
        _show(i, interaction)


@app.command("lint")
def lint_command(files: Annotated[list[Path], typer.Argument(help="Cassette files.")]) -> None:
    """Secrets, cut streams, invalid JSON, duplicates, missing or unknown format version; exit 1 on findings."""
    findings = 0
    for path, say in _walk(files, "linting"):
        for finding in lint.lint(path):
            say(str(finding))
            findings += 1
    typer.echo(f"linted {_count(len(files), 'file')}: {_count(findings, 'finding')}", err=True)
    if findings:
        raise typer.Exit(1)


@app.command("redact")
def redact_command(
    files: Annotated[list[Path], typer.Argument(help="Cassette files, rewritten in place.")],
    secret: Annotated[list[str] | None, typer.Option("--secret", "-s", help="A value to remove everywhere.")] = None,
) -> None:
    """Redacts in place: credential headers, ?key=, every --secret and every key-like string found."""
    changed_files = 0
    for path, say in _walk(files, "redacting"):
        cassette = _load(path)
        shot = store.snapshot(path)  # the file and any journal a recording left: both are rewritten
        before = shot.text or ""
        journaled = shot.journal.text if shot.journal else ""
        secrets = set(secret or ()) | set(redact.find_secrets(before + journaled))
        try:
            store.save(cassette, path, secrets, plain=cassette.metadata.get("format") != FORMAT)
        except CassetteError as exc:
            typer.echo(f"error: {path}: {exc}", err=True)
            raise typer.Exit(2) from None
        changed = shot.journal is not None or store.read_text(path) != before
        changed_files += changed
        say(f"{path}: {'redacted' if changed else 'unchanged'}")
    unchanged = len(files) - changed_files
    typer.echo(f"redacted {_count(len(files), 'file')}: {changed_files} changed, {unchanged} unchanged", err=True)


@app.command("convert")
def convert_command(
    source: Annotated[Path, typer.Argument(help="A cassette (ours or vcrpy's) or a google-genai replay file.")],
    target: Annotated[Path, typer.Argument(help="Where to write; YAML unless it ends in .json.")],
    to: Annotated[str, typer.Option("--to", help="readable, vcrpy or genai-replay.")] = "readable",
) -> None:
    """Converts between our readable cassettes, plain vcrpy cassettes and google-genai replay files."""
    if to not in _TARGETS:
        typer.echo(f"error: --to must be one of {', '.join(_TARGETS)}", err=True)
        raise typer.Exit(2)
    cassette = _load(source)
    try:
        if to == "genai-replay":
            cassette.metadata.pop(journal.JOURNAL_KEY, None)  # a replay file has no journal beside it
            scrubbed = cassette.model_copy(update={"interactions": [redact.scrub(i) for i in cassette.interactions]})
            document = convert.to_genai_replay(scrubbed)
            text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
            redact.refuse(text)
            blob = store.index_for(target, text, document)
            with files.locked(target):
                files.write_atomic(target, text)
                derived_form.place_index(target, blob)
        else:
            store.save(cassette, target, plain=to == "vcrpy")
    except CassetteError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{source} -> {target} ({to}, {len(cassette.interactions)} interactions)")


@app.command("index")
def index_command(
    files: Annotated[list[Path], typer.Argument(help="Cassette files; each gets NAME.index beside it.")],
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if an index is missing or stale.")
    ] = False,
) -> None:
    """Writes or refreshes the index file beside each cassette (NAME.index), which replay reads instead
    of the whole cassette on a machine that has not read it yet; commit it with the cassette."""
    failed = errors = 0
    for path, say in _walk(files, "indexing"):
        state = derived.index_state(path)
        if check:
            failed += state != "current"
            say(f"{derived.index_path(path)}: {state}")
            continue
        if state == "current":
            say(f"{derived.index_path(path)}: up to date")
            continue
        try:
            count = derived.write_index(path)
        except CassetteError as exc:
            typer.echo(f"error: {exc}", err=True)
            errors += 1
            continue
        pending = " (a journal is pending: replay reads the cassette in full until it is folded)"
        say(
            f"{path} -> {derived.index_path(path)} ({_count(count, 'interaction')})"
            + pending * journal.journal_path(path).exists()
        )
    if errors or failed:
        raise typer.Exit(2 if errors else 1)
