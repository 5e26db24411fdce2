"""What Vertex AI reads of the token rule: billed characters and the tokens themselves.

The pieces ``computeTokens`` shows must be the tokens ``count_text`` counts and join back into the
text; the billed characters are every character but whitespace, as the recorded figures are.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.wire import tokens

texts = st.text(max_size=80) | st.text(st.sampled_from(list("ab1 _.\t\n\x1c\u3000é漢😀")), max_size=40)


@settings(max_examples=1500, deadline=None)
@given(texts)
def test_the_pieces_are_the_counted_tokens_and_join_into_the_text(text: str) -> None:
    pieces = tokens.pieces(text)
    assert len(pieces) == tokens.count_text(text)
    if pieces:
        assert "".join(pieces) == text
        assert all(tokens.count_text(piece) == 1 for piece in pieces)


@settings(max_examples=1500, deadline=None)
@given(texts)
def test_billed_characters_are_the_non_whitespace_ones(text: str) -> None:
    assert tokens.billable_characters(text) == sum(1 for char in text if not char.isspace())


def test_recorded_figures() -> None:
    """Vertex AI's answers: 25 for the question, 29 and 20 for the embedded texts, 12 for a greeting."""
    assert tokens.billable_characters("What is the capital of France?") == 25
    assert tokens.billable_characters("Ruby is a programmer's best friend") == 29
    assert sum(tokens.billable_characters(t) for t in ("Ruby", "Python", "JavaScript")) == 20
    assert tokens.billable_characters("Hello, world!") == 12


def test_token_ids_are_stable_and_in_range() -> None:
    assert tokens.token_id(" is") == tokens.token_id(" is") != tokens.token_id("is")
    assert all(0 <= tokens.token_id(piece) < tokens.VOCABULARY for piece in ("a", " b", "😀", "\ud800"))
