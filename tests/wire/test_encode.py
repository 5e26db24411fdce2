"""The fast paths of the wire layer are the slow paths' exact equals.

``encode.unary`` and ``encode.sse_event`` write with orjson where its text is provably that of ``json.dumps(obj,
ensure_ascii=False, indent=2)`` (the standard library's pure-Python encoder), with ``encode.pretty``
where it is not (floats orjson spells otherwise, NaN, big integers, lone surrogates, non-string
keys), and ``tokens.count_text`` counts without the token regex where it can. Both are checked
against the originals for random values: same text, same bytes, same count, and for values JSON
cannot hold, the same exception.
"""

from __future__ import annotations

import enum
import json
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.wire import encode, tokens


def examples(full: int) -> int:
    """``full`` examples at the dev profile's 100, scaled with the profile (ci: 40%, deep: 20x): these
    byte-level proofs want many more examples than a test of behaviour, and ci's are derandomized,
    the same every run, so its share buys little beyond the first few hundred."""
    return max(100, full * settings().max_examples // 100)


def reference_unary(obj: Any) -> bytes:
    """What ``encode.unary`` wrote before it had a fast path (lone surrogates sent as U+FFFD)."""
    return encode.utf8(encode._escape(json.dumps(obj, ensure_ascii=False, indent=2)) + "\n")


def reference_event(obj: Any) -> bytes:
    """What ``encode.sse_event`` wrote before it had a fast path."""
    return encode.utf8(f"data: {encode.line(obj)}\r\n\r\n")


def outcome(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """The result, or the exception's type and text, so that failures can be compared too."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the exception is what is compared
        return ("raised", type(exc), str(exc))


# Any text: surrogates, controls, "<" and ">", quotes and backslashes, non-BMP characters.
texts = st.text(st.characters(codec=None, categories=None), max_size=30) | st.sampled_from(
    ["", "<b>", 'a"b\\c', "\x00\x1f\x7f", "\u2028\u2029", "\ud800", "😀", "é", "\t\n"]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats(allow_nan=True, allow_infinity=True)
    | texts
)
keys = texts | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.booleans() | st.none()
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(texts, inner, max_size=5)
        | st.dictionaries(keys, inner, max_size=4)
    ),
    max_leaves=40,
)


@settings(max_examples=examples(1500), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_pretty_is_json_dumps_with_indent_2(value: Any) -> None:
    assert outcome(encode.pretty, value) == outcome(json.dumps, value, ensure_ascii=False, indent=2)


@settings(max_examples=examples(800), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_unary_bytes_are_unchanged(value: Any) -> None:
    assert outcome(encode.unary, value) == outcome(reference_unary, value)


@settings(max_examples=examples(500), deadline=None)
@given(json_values)
def test_stream_encodings_are_unchanged(value: Any) -> None:
    compact = outcome(json.dumps, value, ensure_ascii=False, separators=(",", ": "))
    expected = compact if isinstance(compact, tuple) else encode._escape(compact)
    assert outcome(encode.line, value) == expected
    assert outcome(encode.sse_event, value) == outcome(reference_event, value)
    array = encode.JsonArrayStream()
    first = outcome(array.element, value)
    pretty = outcome(json.dumps, value, ensure_ascii=False, indent=2)
    if isinstance(pretty, tuple):
        assert first == pretty
    else:
        assert first == outcome(lambda: encode.utf8("[" + encode._escape(pretty)))


def test_a_lone_surrogate_goes_out_as_the_replacement_character() -> None:
    assert encode.unary({"bad": "x\ud800y"}) == '{\n  "bad": "x\ufffdy"\n}\n'.encode()
    assert encode.sse_event({"k": "\udfff"}) == 'data: {"k": "\ufffd"}\r\n\r\n'.encode()


class Colour(enum.IntEnum):
    RED = 1


class Mode(str, enum.Enum):
    ON = "on"


class Flags(list):  # type: ignore[type-arg]
    pass


class Table(dict):  # type: ignore[type-arg]
    pass


class Number(float):
    pass


def cyclic_list() -> list[Any]:
    loop: list[Any] = [1]
    loop.append(loop)
    return loop


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def cyclic_dict() -> dict[str, Any]:
    loop: dict[str, Any] = {}
    loop["self"] = {"again": loop}
    return loop


@pytest.mark.parametrize(
    "value",
    [
        {"candidates": [{"content": {"parts": [{"text": "a <b> c"}], "role": "model"}, "index": 0}]},
        {Colour.RED: Colour.RED, "mode": Mode.ON, "flags": Flags([1, Flags()]), "table": Table(a=Table())},
        OrderedDict([("b", 1), ("a", [])]),
        {"n": Number(1.5), Number(2.5): True, 3: None, None: False, -0.0: float("-inf")},
        {"deep": [[[[[[{"x": []}]]]]]]},
        {":": ":", "a": [":b", {"::": ""}], 'q"': ':"', "c,": "{", "\\": "\\:"},
        ":starts with a colon",
        {'say "hi":': 'x":y', "z": 'quoted "word": after', "k\\": '\\":'},
        Mode.ON,
        (),
        "top level <string>",
        10**400,
        {"bytes": b"x"},
        {("tuple", "key"): 1},
        {"set": {1, 2}},
        [object()],
        cyclic_list(),
        cyclic_dict(),
        nested(200),
        nested(5000),
    ],
    ids=lambda v: type(v).__name__,
)
def test_pretty_edge_cases_match_json_dumps(value: Any) -> None:
    assert outcome(encode.pretty, value) == outcome(json.dumps, value, ensure_ascii=False, indent=2)
    assert outcome(encode.unary, value) == outcome(reference_unary, value)
    assert outcome(encode.sse_event, value) == outcome(reference_event, value)


# ---------------------------------------------------------------------------------------------
# Token counting: the class-based counter equals the regex it replaces.


def regex_count(text: str) -> int:
    return len(tokens._TOKEN.findall(text))


# Letters, digits (ASCII and other decimal digits), letter-like numbers ("²", "Ⅻ"), "_", every
# kind of whitespace, punctuation, symbols, marks, surrogates and CJK: the classes that matter.
token_alphabet = st.sampled_from(
    list("abcXYZ0129_ .,;!?-'\"\t\n\r\x0b\x0c\x1c\x1f\x00")
    + list("éÅßǅΩжא漢字かナ²³¼Ⅻ٣६\u00a0\u2028\u3000\u200b\u0301€—“😀\ud800\udfff")
)
token_texts = st.text(token_alphabet, max_size=60) | st.text(max_size=60)


@settings(max_examples=examples(3000), deadline=None)
@given(token_texts)
def test_count_text_is_the_regex_count(text: str) -> None:
    assert tokens.count_text(text) == regex_count(text)
    assert tokens._count(text) == regex_count(text)


@settings(max_examples=examples(1500), deadline=None)
@given(token_texts)
def test_every_path_of_the_counter_is_the_regex_count(text: str) -> None:
    """The non-ASCII path (codec error handler) is checked on every text, not only the sparse ones."""
    classes = text.encode("ascii", tokens._ERRORS).translate(tokens._ASCII_CLASSES)
    assert len(classes) == len(text)
    assert tokens._count_classes(classes) == regex_count(text)


def test_count_text_on_every_code_point() -> None:
    for start in range(0, 0x110000, 0x1000):
        block = "".join(chr(c) for c in range(start, start + 0x1000))
        classes = block.encode("ascii", tokens._ERRORS).translate(tokens._ASCII_CLASSES)
        assert tokens._count_classes(classes) == regex_count(block), hex(start)
        for char in block[::0x101]:
            for text in (char, "ab" + char + "cdefgh" + char, char * 9, "x" * 7 + char + " 1"):
                assert tokens._count(text) == regex_count(text), (hex(ord(char)), text)


def test_long_texts_are_counted_without_the_memo() -> None:
    text = "word " * 1000 + "é" + "x" * 20
    assert len(text) > tokens._MEMO_MAX_CHARS
    assert tokens.count_text(text) == regex_count(text)


def walked_truncate(text: str, limit: int) -> str:
    """The token-by-token walk that ``tokens.truncate`` replaces."""
    end = 0
    for index, (_, stop) in enumerate(tokens.spans(text)):
        if index == limit:
            break
        end = stop
    return text[:end] if limit > 0 else ""


@settings(max_examples=examples(1500), deadline=None)
@given(token_texts, st.integers(0, 40))
def test_truncate_is_the_token_walk(text: str, limit: int) -> None:
    assert tokens.truncate(text, limit) == walked_truncate(text, limit)


@settings(max_examples=examples(1500), deadline=None)
@given(token_texts, st.integers(1, 9))
def test_every_nth_token_end_is_the_token_walk(text: str, every: int) -> None:
    walked = [end for i, (_, end) in enumerate(tokens.spans(text)) if (i + 1) % every == 0]
    assert tokens.ends_every(text, every) == walked


def test_a_stream_chunk_quoting_the_prompt_is_written_by_orjson(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default model quotes the prompt ('You said: "..."'): such chunks must not need the slow encoder."""
    chunk = {"candidates": [{"content": {"parts": [{"text": 'You said: "a: b".'}], "role": "model"}, "index": 0}]}
    expected = reference_event(chunk)

    def slow(*args: Any) -> str:
        raise AssertionError("the standard encoder was used")

    monkeypatch.setattr(encode, "line", slow)
    assert encode.sse_event(chunk) == expected
