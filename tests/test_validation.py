from __future__ import annotations

import orjson
import pytest

from mockserver.errors import BadRequest, ContractViolation, UnsupportedMediaType
from mockserver.spec import Spec
from mockserver.validation import check_response, is_json_media_type, validate_request

CID = "4F6B2E1A-3C2D-4E5F-8A9B-0C1D2E3F4A5B"


def _items(err: BadRequest) -> list[str]:
    return [f"{v.item_id}: {v.message}" for v in err.validation]


def test_query_parameters_are_coerced_and_defaulted(spec: Spec) -> None:
    op = spec.operations["list-companies"]
    valid = validate_request(op, {}, {"page": ["2"]}, None, b"")
    assert valid.query == {"page": 2, "pageSize": 100}


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"page": ["0"]}, "query.page"),
        ({"page": ["x"]}, "query.page"),
        ({"pageSize": ["5001"]}, "query.pageSize"),
        ({"pageSize": ["0"]}, "query.pageSize"),
        ({"page": ["1", "2"]}, "query.page"),
    ],
)
def test_bad_paging_values_are_400(spec: Spec, params: dict[str, list[str]], where: str) -> None:
    with pytest.raises(BadRequest) as caught:
        validate_request(spec.operations["list-companies"], {}, params, None, b"")
    assert any(item.startswith(where) for item in _items(caught.value))


def test_required_query_parameter_missing(spec: Spec) -> None:
    with pytest.raises(BadRequest) as caught:
        validate_request(spec.operations["get-config-text-sync-flow"], {}, {}, None, b"")
    assert any("locale" in item for item in _items(caught.value))


def test_enum_query_parameter(spec: Spec) -> None:
    op = spec.operations["get-config-text-sync-flow"]
    assert validate_request(op, {}, {"locale": ["fr-fr"]}, None, b"").query == {"locale": "fr-fr"}
    with pytest.raises(BadRequest):
        validate_request(op, {}, {"locale": ["de-de"]}, None, b"")


def test_uuid_path_parameters_are_checked_and_lowercased(spec: Spec) -> None:
    op = spec.operations["list-connections"]
    valid = validate_request(op, {"companyId": CID}, {}, None, b"")
    assert valid.path["companyId"] == CID.lower()
    with pytest.raises(BadRequest) as caught:
        validate_request(op, {"companyId": "not-a-uuid"}, {}, None, b"")
    assert any(item.startswith("path.companyId") for item in _items(caught.value))


def test_body_is_parsed_and_validated(spec: Spec) -> None:
    op = spec.operations["create-company"]
    valid = validate_request(op, {}, {}, "application/json", b'{"name": "Acme"}')
    assert valid.body == {"name": "Acme"} and valid.has_body
    with pytest.raises(BadRequest) as caught:
        validate_request(op, {}, {}, "application/json", b'{"name": "<bad>"}')
    assert any(item.startswith("body.name") for item in _items(caught.value))


def test_every_problem_is_reported_at_once(spec: Spec) -> None:
    op = spec.operations["list-connections"]
    with pytest.raises(BadRequest) as caught:
        validate_request(op, {"companyId": "x"}, {"page": ["0"], "pageSize": ["x"]}, None, b"")
    assert len(caught.value.validation) == 3


def test_non_json_body_is_400_and_wrong_media_type_415(spec: Spec) -> None:
    op = spec.operations["create-company"]
    with pytest.raises(BadRequest) as caught:
        validate_request(op, {}, {}, "application/json", b"{nope")
    assert caught.value.message == "The request body is not valid JSON."
    with pytest.raises(UnsupportedMediaType):
        validate_request(op, {}, {}, "text/plain", b'{"name": "Acme"}')


def test_set_configuration_accepts_empty_body_or_empty_object(spec: Spec) -> None:
    op = spec.operations["set-configuration"]
    path = {"companyId": CID}
    assert not validate_request(op, path, {}, None, b"").has_body
    assert validate_request(op, path, {}, "application/json", b"{}").body == {}
    with pytest.raises(BadRequest):
        validate_request(op, path, {}, "application/json", b'{"enable": true}')


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("application/problem+json", True),
        ("text/json", False),
        (None, False),
    ],
)
def test_json_media_types(value: str | None, expected: bool) -> None:
    assert is_json_media_type(value) is expected


def test_strict_response_check_names_the_field(spec: Spec) -> None:
    op = spec.operations["list-syncs"]
    check_response(op, 200, [])
    with pytest.raises(ContractViolation) as caught:
        check_response(op, 200, [{"syncStatusCode": "not a number"}])
    assert "syncStatusCode" in caught.value.message
    assert caught.value.status == 500


def test_strict_response_check_refuses_undocumented_status(spec: Spec) -> None:
    with pytest.raises(ContractViolation, match="418"):
        check_response(spec.operations["list-syncs"], 418, orjson.loads(b"{}"))
