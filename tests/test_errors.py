from __future__ import annotations

import pytest

from mockserver.errors import (
    ApiError,
    BadRequest,
    Conflict,
    MalformedQuery,
    NotFound,
    TooManyRequests,
    ValidationItem,
    error_body,
    error_for_status,
)


def test_error_body_has_codats_shape() -> None:
    body = error_body(NotFound("No company was found with ID x"), "c0ffee")
    assert body == {
        "statusCode": 404,
        "service": "PublicApi",
        "error": "No company was found with ID x",
        "correlationId": "c0ffee",
        "canBeRetried": "Unknown",
        "detailedErrorCode": 0,
    }


def test_validation_items_are_listed() -> None:
    err = BadRequest(validation=[ValidationItem("body.name", "required", "contract")])
    body = error_body(err, "id")
    assert body["validation"] == {
        "errors": [{"itemId": "body.name", "message": "required", "validatorName": "contract"}],
        "warnings": [],
    }
    assert body["error"] == "Error processing request - not valid."


def test_malformed_query_message_and_service() -> None:
    body = error_body(MalformedQuery(), "id")
    assert body["statusCode"] == 400
    assert body["error"] == "Error parsing query - Malformed query."
    assert body["service"] == "ClientsApi"


@pytest.mark.parametrize(("status", "cls"), [(409, Conflict), (429, TooManyRequests)])
def test_error_for_status_picks_the_class(status: int, cls: type[ApiError]) -> None:
    err = error_for_status(status)
    assert isinstance(err, cls)
    assert err.status == status


def test_error_for_an_unlisted_status_keeps_it() -> None:
    err = error_for_status(418, "teapot")
    assert err.status == 418
    assert error_body(err, "x")["statusCode"] == 418
