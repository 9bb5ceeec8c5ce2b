from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.spec import Spec, SpecError


def test_every_operation_of_the_contract_is_loaded(spec: Spec) -> None:
    assert len(spec.operations) == 22
    op = spec.operations["list-companies"]
    assert (op.method, op.path) == ("GET", "/companies")
    assert op.handler_name == "list_companies"
    assert {p.name for p in op.parameters} == {"page", "pageSize", "query", "orderBy"}


def test_path_level_parameters_are_merged(spec: Spec) -> None:
    op = spec.operations["get-sync-by-id"]
    assert {(p.location, p.name) for p in op.parameters} == {
        ("path", "companyId"),
        ("path", "syncId"),
    }


def test_body_and_response_validators_are_compiled(spec: Spec) -> None:
    op = spec.operations["create-company"]
    assert op.body is not None
    assert op.body.is_valid({"name": "Acme"})
    assert not op.body.is_valid({"name": ""})
    assert op.responses[200].validator is not None
    assert 401 in op.responses


def test_problems_name_the_field(spec: Spec) -> None:
    problems = spec.schema_validator("CreateCompany").problems({"name": 5}, "body")
    assert problems
    assert problems[0].location == "body.name"


def test_check_reports_text_for_fixture_loading(spec: Spec) -> None:
    assert spec.check("VisibleAccounts", {"visibleAccounts": ["a"]}) == []
    assert spec.check("VisibleAccounts", {"visibleAccounts": [1]})


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [str(node["$ref"])] if "$ref" in node else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_resolved_schema_has_no_refs(spec: Spec) -> None:
    raw = spec.document["components"]["schemas"]["Company"]
    assert _refs(raw)  # the document itself does refer elsewhere...
    resolved = spec.resolved("#/components/schemas/Company")
    assert _refs(resolved) == []  # ...and resolving inlines every reference
    assert "dataConnections" in str(resolved)


def test_unknown_schema_is_an_error(spec: Spec) -> None:
    with pytest.raises(SpecError):
        spec.schema_validator("Nope")


def test_duplicate_operation_ids_are_refused(tmp_path: Path) -> None:
    doc = tmp_path / "dup.yaml"
    doc.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n"
        "  /a: {get: {operationId: x, responses: {'200': {description: ok}}}}\n"
        "  /b: {get: {operationId: x, responses: {'200': {description: ok}}}}\n"
    )
    with pytest.raises(SpecError, match="duplicate"):
        Spec.load(doc)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError):
        Spec.load(tmp_path / "absent.yaml")
