"""Redaction: canary secrets in every position are gone, twice is once, and the writer refuses leftovers."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import unquote

import pytest
from cassette_samples import answer, prompt

from emulator.cassette import Cassette, CassetteError, load, save, store
from emulator.cassette import redact as redact_module
from emulator.cassette.model import Event, Interaction, RecordedRequest, RecordedResponse
from emulator.cassette.redact import REDACTED, find_secrets, for_log, scrub, scrub_data

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


# --- secrets in disguise -------------------------------------------------------------------------

LIVE = "AIza" + "Sy" + "D1sg-u1s_3" * 3 + "Q9z"  # 39 characters, as real keys are


def percent(text: str, upper: bool | None = None, every: int = 1) -> str:
    """Percent-encodes every ``every``-th character: upper, lower or alternating hex case."""
    out = []
    for i, char in enumerate(text):
        if i % every:
            out.append(char)
            continue
        hexed = f"{ord(char):02x}"
        case_up = upper if upper is not None else i % 2 == 0
        out.append("%" + (hexed.upper() if case_up else hexed))
    return "".join(out)


def b64(raw: bytes, urlsafe: bool = False) -> str:
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    return encode(raw).decode()


DISGUISES = {
    "exact": LIVE,
    "truncated echo (22 of 39)": LIVE[9:31],
    "first 8": LIVE[:8],
    "last 8": LIVE[-8:],
    "lower case": LIVE.lower(),
    "upper case": LIVE.upper(),
    "swapped case, truncated": LIVE.swapcase()[3:30],
    "percent-encoded, lower hex": percent(LIVE, upper=False),
    "percent-encoded, upper hex": percent(LIVE, upper=True),
    "percent-encoded, mixed hex, every third": percent(LIVE, every=3),
    "percent-encoded lower case": percent(LIVE.lower(), upper=False, every=2),
    "base64": b64(LIVE.encode()),
    "url-safe base64": b64(LIVE.encode(), urlsafe=True),
    "base64 inside a longer value (shift 1)": b64(b"{" + LIVE.encode() + b"}"),
    "base64 inside a longer value (shift 2)": b64(b"k=" + LIVE.encode() + b"&x=1"),
    "url-safe base64 inside a token (shift 0)": b64(b"abc" + LIVE.encode() + b"defg", urlsafe=True),
    "base64, 12 characters of it": b64(LIVE.encode())[20:32],
    "base64, percent-encoded": b64(b"?" + LIVE.encode()).replace("+", "%2b").replace("/", "%2F"),
}


def leaks(text: str) -> list[str]:
    """Independent of the redactor: any 8 characters of the key, in any case, percent-decoded, or any
    10 characters of its base64 at any alignment (either alphabet) found in ``text``."""
    plain = unquote(text).lower()
    found = [LIVE.lower()[i : i + 8] for i in range(len(LIVE) - 7) if LIVE.lower()[i : i + 8] in plain]
    normal = unquote(text).replace("+", "-").replace("/", "_")
    for shift in range(3):
        encoded = b64(b"\0" * shift + LIVE.encode() + b"\0\0", urlsafe=True)[3:-4]
        found += [encoded[i : i + 10] for i in range(len(encoded) - 9) if encoded[i : i + 10] in normal]
    return found


@pytest.mark.parametrize("name", list(DISGUISES))
def test_every_disguise_is_redacted_everywhere_as_one_run(name: str) -> None:
    disguise = DISGUISES[name]
    echo = f"pre {disguise} post"
    interaction = Interaction(
        request=RecordedRequest(
            method="POST",
            uri=f"https://x/{disguise}/v1beta/models/{disguise}:generateContent?alt=sse",
            headers={"x-echo": [echo], f"x!{disguise}": ["v"]},  # "-" could be the key's own
            body={"contents": [{"parts": [{"text": echo}]}], disguise: "as a key"},
        ),
        response=RecordedResponse(status=400, message=echo, body={"error": {"message": echo}}),
        metadata={"note": echo},
    )
    streamed = Interaction(request=interaction.request, response=RecordedResponse(events=[Event(data={"text": echo})]))
    raw = Interaction(request=interaction.request, response=RecordedResponse(raw=echo))
    cleaned = [scrub(i, {LIVE}) for i in (interaction, streamed, raw)]
    text = dumped(cleaned)
    assert not leaks(text), f"{name}: {leaks(text)}"
    assert [scrub(i, {LIVE}) for i in cleaned] == cleaned  # twice is once
    clean = cleaned[0]
    name_of = next(n for n in clean.request.headers if n != "x-echo")
    fields = [clean.request.uri, name_of, clean.request.headers["x-echo"][0], clean.response.message]
    if "base64" in name:  # neighbours keep their own base64 (and at most one character mixing in the key's bits)
        assert [field.count(REDACTED) for field in fields] == [2, 1, 1, 1]
        assert "/v1beta/models/" in clean.request.uri and clean.response.message.startswith("pre ")
        return
    assert clean.response.body == {"error": {"message": f"pre {REDACTED} post"}}  # one REDACTED, nothing left over
    assert clean.request.uri == f"https://x/{REDACTED}/v1beta/models/{REDACTED}:generateContent?alt=sse"
    assert clean.request.headers == {"x-echo": [f"pre {REDACTED} post"], f"x!{REDACTED}": ["v"]}
    assert REDACTED in clean.request.body and clean.response.message == f"pre {REDACTED} post"
    assert cleaned[1].response.events == [Event(data={"text": f"pre {REDACTED} post"})]
    assert cleaned[2].response.raw == f"pre {REDACTED} post" and clean.metadata == {"note": f"pre {REDACTED} post"}


def test_a_disguise_is_not_hunted_below_eight_characters_or_for_short_secrets() -> None:
    clean = scrub_data({"a": f"{LIVE[:7]} {LIVE[20:27]} {b64(LIVE.encode())[:7]}", "b": "kkkk key k"}, {LIVE, "k"})
    assert clean == {"a": f"{LIVE[:7]} {LIVE[20:27]} {b64(LIVE.encode())[:7]}", "b": "kkkk key k"}


def test_runs_end_where_the_secret_ends() -> None:
    assert scrub_data(f"x{LIVE}{LIVE.lower()}y-not-the-key", {LIVE}) == f"x{REDACTED}y-not-the-key"
    assert scrub_data(f"{LIVE[:20]} and {LIVE[25:]}", {LIVE}) == f"{REDACTED} and {REDACTED}"


def test_a_long_secret_is_hunted_along_its_whole_length() -> None:
    long_secret = "".join(f"{n:04d}long-secret-" for n in range(60))  # 900 characters
    middle = long_secret[400:460].upper()
    assert scrub_data(f"<{middle}>", {long_secret}) == f"<{REDACTED}>"
    assert scrub_data(f"<{long_secret[250:270]}>", {long_secret}) == f"<{REDACTED}>"  # across windows


def test_the_final_scan_refuses_a_disguised_live_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CassetteError, match="live secret"):
        redact_module.refuse(f"a {LIVE.lower()[5:30]} b", {LIVE})
    redact_module.refuse(f"a {REDACTED} b {LIVE.lower()[5:12]}", {LIVE})  # the marker and short pieces pass
    monkeypatch.setattr(redact_module, "scrub", lambda interaction, secrets=(): interaction)
    path = tmp_path / "c.yaml"
    interaction = leaky()[0]
    interaction.request.body = prompt(f"echo {percent(LIVE, upper=False, every=2)}")  # no AIza pattern left
    with pytest.raises(CassetteError, match="live secret"):
        save(Cassette(interactions=[interaction]), path, secrets={LIVE})
    with pytest.raises(CassetteError, match="live secret"):
        store.append(path, [interaction], secrets={LIVE})
    assert not store.exists(path)


def test_for_log_removes_the_key_in_any_disguise_and_any_key_shaped_string() -> None:
    other = "AIza" + "Sy" + "0ther" * 6 + "abc"
    for disguise in (LIVE, LIVE.lower(), LIVE[4:30], percent(LIVE, upper=False, every=2), b64(LIVE.encode())):
        for line in (f"POST /{disguise}/v1beta/models/m:generateContent 200", f"POST /v1beta/models/{disguise}:x"):
            logged = for_log(line, [LIVE])
            assert REDACTED in logged and not leaks(logged), (disguise, logged)
    assert for_log(f"GET /v1beta/models/{other} 404", []) == f"GET /v1beta/models/{REDACTED} 404"
    assert for_log("GET /v1beta/models?key=abc 200", []) == f"GET /v1beta/models?key={REDACTED} 200"
    line = "POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse 200 3.2ms"
    assert for_log(line, [LIVE, "k", ""]) == line
    assert for_log("GET /kkk/k 200", ["k"]) == "GET /kkk/k 200"  # short keys are not hunted
    huge = "h" * 300 + "x" * 300
    assert for_log(f"GET /{huge}/m", [huge]) == f"GET /{REDACTED}/m"


def test_find_disguised_ignores_the_marker_even_for_a_secret_that_contains_it() -> None:
    secret = "my-REDACTED-secret"
    cleaned = scrub_data({"a": f"x {secret} y", "b": secret.upper()}, {secret})
    assert cleaned == {"a": f"x {REDACTED} y", "b": REDACTED}
    assert redact_module.find_disguised(json.dumps(cleaned), {secret}) == []
