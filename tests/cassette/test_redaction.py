"""Redaction: canary secrets in every position are gone, twice is once, and the writer refuses leftovers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cassette_samples import answer, prompt

from emulator.cassette import Cassette, CassetteError, load, save, store
from emulator.cassette import redact as redact_module
from emulator.cassette.model import Event, Interaction, RecordedRequest, RecordedResponse
from emulator.cassette.redact import REDACTED, find_secrets, scrub

KEY = "AIza" + "Sy" + "C4n4ry" * 5 + "abc"  # matches the Google key pattern; built so no scanner trips on this file
TOKEN = "ya29." + "c4n4ry-t0ken_" * 3
CANARY = "canary-0f3c9a7e"  # a live secret that matches no pattern


def echoed(key: str) -> str:
    return f"https://generativelanguage.googleapis.com/v1beta/models/m:generateContent?key={key}&alt=json"


def leaky() -> list[Interaction]:
    """The live secret, a key and a token in every place an upstream has been seen to put them."""
    request = RecordedRequest(
        method="POST",
        uri=f"https://generativelanguage.googleapis.com/v1beta/models/m:generateContent?alt=sse&key={KEY}",
        headers={
            "x-goog-api-key": [KEY],
            "Authorization": [f"Bearer {TOKEN}"],
            "x-goog-user-project": ["my-project"],
            "Cookie": ["SID=abc"],
            "Proxy-Authorization": ["Basic Zm9vOmJhcg=="],
            "x-custom": [f"has {CANARY} inside"],
        },
        body=prompt(f"my key is {CANARY}, keep it", "and again " + CANARY),
    )
    headers = {"set-cookie": ["NID=1"], "x-echo": [CANARY]}
    error = {"error": {"message": f"bad request to {echoed(CANARY)}", "details": [{"metadata": {CANARY: "as key"}}]}}
    responses = [
        RecordedResponse(status=400, headers=headers, body=error),
        RecordedResponse(headers=headers, events=[Event(data=answer(f"I saw {CANARY}"), delay=0.2)]),
        RecordedResponse(status=502, headers=headers, raw=f"raw text {CANARY} and {echoed(CANARY)}"),
    ]
    return [Interaction(request=request, response=r, metadata={"note": CANARY}) for r in responses]


def dumped(interactions: list[Interaction]) -> str:
    return json.dumps([i.model_dump(mode="json") for i in interactions])


def scrub_all(interactions: list[Interaction], secrets: set[str] | None = None) -> list[Interaction]:
    return [scrub(i, secrets or set()) for i in interactions]


def test_no_secret_survives_anywhere() -> None:
    scrubbed = scrub_all(leaky(), {CANARY, KEY})
    text = dumped(scrubbed)
    clean = scrubbed[0]
    assert CANARY not in text and KEY not in text and TOKEN not in text and "my-project" not in text
    assert "SID=abc" not in text and "NID=1" not in text and "Zm9vOmJhcg" not in text
    assert clean.request.uri.endswith(f"alt=sse&key={REDACTED}")
    assert clean.request.headers["x-goog-api-key"] == [REDACTED]
    assert clean.request.headers["x-custom"] == [f"has {REDACTED} inside"]
    assert clean.request.body["contents"][0]["parts"][0]["text"] == f"my key is {REDACTED}, keep it"
    events = scrubbed[1].response.events
    assert events and events[0].data == answer(f"I saw {REDACTED}") and events[0].delay == 0.2
    raw = scrubbed[2].response.raw
    assert raw is not None and f"?key={REDACTED}&alt=json" in raw
    assert clean.response.body == {
        "error": {"message": f"bad request to {echoed(REDACTED)}", "details": [{"metadata": {REDACTED: "as key"}}]}
    }
    assert clean.response.headers == {"set-cookie": [REDACTED], "x-echo": [REDACTED]}
    assert clean.metadata == {"note": REDACTED}


def test_key_query_is_redacted_even_without_knowing_the_key() -> None:
    clean = scrub_all(leaky())
    assert f"key={KEY}" not in dumped(clean) and f"key={CANARY}" not in dumped(clean)
    assert CANARY in clean[0].request.headers["x-custom"][0]  # unknown values elsewhere are kept: nothing is guessed


def test_scrub_is_idempotent_and_does_not_touch_its_input() -> None:
    original = leaky()
    before = dumped(original)
    once = scrub_all(original, {CANARY})
    assert dumped(original) == before
    assert scrub_all(once, {CANARY}) == once
    assert scrub_all(scrub_all(original)) == scrub_all(original)


def test_short_secrets_inside_the_marker_do_not_break_idempotence() -> None:
    once = scrub_all(leaky(), {CANARY, "DACT", ""})
    assert scrub_all(once, {CANARY, "DACT", ""}) == once


def test_url_encoded_secret_is_redacted() -> None:
    secret = "s3cr3t/with+chars"
    interaction = Interaction(
        request=RecordedRequest(method="GET", uri="http://x/v1beta/models?pageToken=s3cr3t%2Fwith%2Bchars"),
        response=RecordedResponse(),
    )
    assert "s3cr3t" not in scrub(interaction, {secret}).request.uri


def test_find_secrets_reports_pattern_hits_in_order() -> None:
    assert find_secrets(f"a {TOKEN} b {KEY}") == [TOKEN, KEY]
    assert find_secrets("AIza-too-short and ya29") == []


def test_save_redacts_on_the_way_to_disk(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save(Cassette(interactions=leaky()), path, secrets={CANARY, KEY})
    text = path.read_text()
    assert CANARY not in text and KEY not in text and TOKEN not in text
    assert load(path).interactions == scrub_all(leaky(), {CANARY, KEY})


def test_save_refuses_a_surviving_key_pattern(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    interaction = leaky()[0]
    interaction.request.body = prompt(f"someone else's key {KEY}")
    with pytest.raises(CassetteError, match="refusing to write"):
        save(Cassette(interactions=[interaction]), path, secrets={CANARY})
    assert not path.exists()


@pytest.mark.parametrize("secret", [KEY, TOKEN])
def test_final_scan_catches_what_a_broken_scrub_lets_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setattr(redact_module, "scrub", lambda interaction, secrets=(): interaction)
    path = tmp_path / "c.json"
    interaction = leaky()[0]
    interaction.request.headers = {"x-goog-api-key": [secret]}
    with pytest.raises(CassetteError, match="credential-like"):
        save(Cassette(interactions=[interaction]), path)
    with pytest.raises(CassetteError):
        store.append(path, [interaction])
    assert not path.exists()
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]
