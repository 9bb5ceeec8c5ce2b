"""mockserver/jsonio.py: the one JSON reader, and the nesting depth it refuses."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.jsonio import MAX_DEPTH, JsonTooDeep, loads, too_deep


def nested(depth: int, *, inner: str = "1") -> str:
    """``depth`` levels of alternating arrays and objects around ``inner``."""
    text = inner
    for level in range(depth):
        text = f"[{text}]" if level % 2 else f'{{"k": {text}}}'
    return text


def test_json_up_to_the_limit_is_read() -> None:
    assert loads(nested(MAX_DEPTH)) == orjson.loads(nested(MAX_DEPTH))


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 255, 256, 1023])
def test_json_deeper_than_the_limit_is_refused(depth: int) -> None:
    with pytest.raises(JsonTooDeep, match=f"deeper than {MAX_DEPTH} levels"):
        loads(nested(depth))


def test_malformed_json_is_still_a_value_error() -> None:
    with pytest.raises(ValueError) as caught:
        loads(b"{nope")
    assert not isinstance(caught.value, JsonTooDeep)


@given(st.integers(min_value=0, max_value=200), st.sampled_from(["1", '"s"', "null", "[]", "{}"]))
def test_too_deep_counts_containers_only(depth: int, inner: str) -> None:
    value = orjson.loads(nested(depth, inner=inner))
    levels = depth + (1 if inner in ("[]", "{}") else 0)
    assert too_deep(value, levels) is False
    assert too_deep(value, levels - 1) is (levels > 0)
