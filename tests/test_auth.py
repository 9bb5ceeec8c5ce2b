from __future__ import annotations

import base64

import pytest

from mockserver.auth import authenticate, authorization_for, client_id_for
from mockserver.errors import Unauthorized


def test_basic_key_names_a_stable_client() -> None:
    first = authenticate(authorization_for("key-one"))
    again = authenticate(authorization_for("key-one"))
    other = authenticate(authorization_for("key-two"))
    assert first == again
    assert first.client_id == client_id_for("key-one")
    assert first.client_id != other.client_id


def test_scheme_is_case_insensitive() -> None:
    token = base64.b64encode(b"k").decode()
    assert authenticate(f"basic {token}").client_id == client_id_for("k")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Basic",
        "Basic ",
        "Bearer abc",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"\xff\xfe").decode(),
        "Basic " + base64.b64encode(b"   ").decode(),
        "abc",
    ],
)
def test_missing_or_malformed_header_is_401(header: str | None) -> None:
    with pytest.raises(Unauthorized) as caught:
        authenticate(header)
    assert caught.value.status == 401
