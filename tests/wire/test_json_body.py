"""Request bodies are read by orjson where it agrees with the standard library, by ``json`` elsewhere.

``json_body.parse_json`` must be exactly ``json_body.standard_json`` (strict UTF-8, then ``json.loads``,
what the server did before it had the fast path): the same value, or the same 400 with the same
text, for any bytes.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.wire.errors import ApiError
from emulator.wire.json_body import parse_json
from emulator.wire.json_body import standard_json as reference


def outcome(parse: Any, data: bytes) -> Any:
    """``repr`` of the value (1 and 1.0 differ, NaN equals NaN), or the error's code and text."""
    try:
        return repr(parse(data))
    except ApiError as error:
        return ("error", error.code, error.message)


texts = st.text(st.characters(codec=None, categories=None), max_size=12) | st.sampled_from(
    ["\ud800", "a\udfffb", "é", "😀", "\x00\x1f", "<>", 'q"\\']
)
scalars = (
    st.none() | st.booleans() | st.integers() | st.integers(min_value=-(10**40), max_value=10**40) | st.floats() | texts
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=25,
)


@st.composite
def encoded(draw: st.DrawFn) -> bytes:
    """A JSON text as a client might send it: any spacing and escaping, sometimes broken a little."""
    text = json.dumps(
        draw(values), ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 0, 2])),
        separators=draw(st.sampled_from([None, (",", ":")])),
    )  # fmt: skip
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        return data
    at = draw(st.integers(0, len(data)))
    cut = draw(st.integers(0, 3))
    return data[:at] + draw(st.binary(max_size=3)) + data[at + cut :]


@settings(max_examples=400)
@given(encoded())
def test_bodies_parse_as_the_standard_library_parses_them(data: bytes) -> None:
    assert outcome(parse_json, data) == outcome(reference, data)


@given(st.binary(max_size=40))
def test_any_bytes_parse_or_fail_as_before(data: bytes) -> None:
    assert outcome(parse_json, data) == outcome(reference, data)


def test_the_cases_orjson_reads_otherwise_take_the_standard_path() -> None:
    for data in (
        b"123456789012345678901234567890",  # orjson: a float
        b'{"n": -9223372036854775809}',  # one past int64: orjson gives a float
        b'"\\ud800"',  # orjson refuses a lone surrogate escape
        b"NaN",
        b"[1e400]",  # json: inf; orjson refuses
        b"\xef\xbb\xbf{}",  # a byte order mark
        b" \r\n\t ",
        b"",
        b"[" * 3000 + b"]" * 3000,
    ):
        assert outcome(parse_json, data) == outcome(reference, data), data[:40]
