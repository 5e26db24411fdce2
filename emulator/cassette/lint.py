"""What is wrong with a cassette file, as a list a person (or CI) can act on.

Each check looks for something that makes replay wrong or unsafe rather than merely unusual: a
credential on disk, a stream that stops before the model finished, a body that is not what its
content type says, the same exchange recorded twice, a file whose format we can only guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import codec, convert, journal, redact, store
from .matching import normalise
from .model import FORMAT, Cassette, Interaction, header

_MASKED = {redact.REDACTED, "{REDACTED}", ""}
_REQUEST_KEYS = {"method", "uri", "body", "headers"}


@dataclass(frozen=True)
class Finding:
    path: Path
    index: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}" if self.index is None else f"{self.path} #{self.index}"
        return f"{where}: {self.message}"


def _format(data: object) -> list[str]:
    if convert.is_genai_replay(data):
        return ["a google-genai replay file, not a cassette ('cassette convert' turns it into one)"]
    if not isinstance(data, dict):
        return []
    found = []
    if data.get("version", codec.VCR_VERSION) != codec.VCR_VERSION:
        found.append(f"unknown vcrpy cassette version {data.get('version')!r}")
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    tag = metadata.get("format") if metadata else None
    if tag is None:
        found.append("no format version: a plain vcrpy cassette ('cassette convert --to readable' adds one)")
    elif tag != FORMAT:
        found.append(f"unknown format version {tag!r} (this emulator reads {FORMAT!r})")
    return found


def _vcrpy_shape(data: object) -> dict[int, str]:
    """vcrpy builds ``Request(**request)``: a hand-edited request without all four keys breaks it."""
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        return {}
    found = {}
    for i, item in enumerate(data["interactions"]):
        request = item.get("request") if isinstance(item, dict) else None
        if isinstance(request, dict) and (missing := _REQUEST_KEYS - request.keys()):
            found[i] = f"vcrpy cannot load this: the request has no {', '.join(sorted(missing))}"
    return found


def _unredacted(interaction: Interaction) -> list[str]:
    found = []
    for side, headers in (("request", interaction.request.headers), ("response", interaction.response.headers)):
        for name, values in headers.items():
            if name.lower() in redact.SENSITIVE_HEADERS and any(v not in _MASKED for v in values):
                found.append(f"{side} header {name} is not redacted")
    if any(k == "key" and v not in _MASKED for k, v in parse_qsl(urlsplit(interaction.request.uri).query)):
        found.append("?key= in the request URI is not redacted")
    return found


def _stream(interaction: Interaction) -> list[str]:
    response = interaction.response
    found = []
    if not response.complete:
        found.append("stream cut before its final chunk (complete: false)")
    if response.events and response.error is None:
        last = response.events[-1].data
        if not any(isinstance(c, dict) and c.get("finishReason") for c in last.get("candidates") or []):
            found.append("stream ends without a finishReason")
    elif response.events == []:
        found.append("stream has no events")
    return found


def _json_bodies(interaction: Interaction) -> list[str]:
    req, resp = interaction.request, interaction.response
    found = []
    if isinstance(req.body, str) and "json" in (header(req.headers, "content-type") or ""):
        found.append("request body is not valid JSON")
    if resp.raw is not None and "json" in (header(resp.headers, "content-type") or "json"):
        found.append("response body is not valid JSON")
    return found


def _duplicates(cassette: Cassette) -> dict[int, int]:
    """Interactions equal in request and answer to an earlier one (a request repeated with new answers is fine)."""
    seen: dict[str, int] = {}
    duplicates = {}
    for i, item in enumerate(cassette.interactions):
        req = item.request
        answer = json.dumps(item.response.model_dump(mode="json", exclude={"headers"}), sort_keys=True)
        key = normalise(req.method, req.uri, req.body) + "\n" + answer
        if key in seen:
            duplicates[i] = seen[key]
        else:
            seen[key] = i
    return duplicates


def _cassette(data: Any) -> Cassette:
    if data is None:  # only a journal so far
        return Cassette()
    return convert.from_genai_replay(data) if convert.is_genai_replay(data) else codec.from_dict(data)


def _pending(path: Path, pending: journal.Journal | None, waiting: int) -> list[Finding]:
    """A journal left beside the cassette: a recording still going on, or one that was killed."""
    if pending is None:
        return []
    torn = " and a last line cut short (ignored)" if pending.torn else ""
    where = journal.journal_path(path).name
    return [
        Finding(path, None, f"{waiting} interaction(s) not yet folded into the file wait in {where}{torn}; "
                "'gemini-emulator cassette redact FILE' folds them in")
    ]  # fmt: skip


def lint(path: Path) -> list[Finding]:
    try:
        shot = store.snapshot(path)
        data = store.parse(shot.text, path.suffix.lower()) if shot.text is not None else None
    except store.CassetteError as exc:
        return [Finding(path, None, str(exc))]
    text = (shot.text or "") + (shot.journal.text if shot.journal else "")
    hits = redact.find_secrets(text)
    findings = [Finding(path, None, f"credential-like string {hit[:4]}... in the file") for hit in hits]
    findings += [Finding(path, None, message) for message in _format(data)] if data is not None else []
    try:
        cassette = _cassette(data)
        held = len(cassette.interactions)
        cassette = journal.merge(cassette, shot.journal, path)
    except (codec.FormatError, store.CassetteError) as exc:
        return [*findings, Finding(path, None, str(exc))]
    findings += _pending(path, shot.journal, len(cassette.interactions) - held)
    if not cassette.interactions:
        findings.append(Finding(path, None, "no interactions"))
    duplicates = _duplicates(cassette)
    shapes = {} if convert.is_genai_replay(data) else _vcrpy_shape(data)
    for i, item in enumerate(cassette.interactions):
        messages = _unredacted(item) + _stream(item) + _json_bodies(item)
        if i in shapes:
            messages.append(shapes[i])
        if i in duplicates:
            messages.append(f"duplicate of #{duplicates[i]}")
        findings += [Finding(path, i, m) for m in messages]
    return findings
