"""Companies and their sync configuration (the SDK's ``advanced_controls``)."""

from __future__ import annotations

from typing import Any

from mockserver.errors import BadRequest, ValidationItem
from mockserver.handlers.listing import listed_page
from mockserver.handlers.registry import Call

__all__ = ["create_company", "get_configuration", "list_companies", "set_configuration"]


def list_companies(call: Call) -> Any:
    return listed_page(call, call.tenant.company_page, "Company", "Company")


def create_company(call: Call) -> Any:
    body = call.body if isinstance(call.body, dict) else {}
    if "name" not in body:
        raise BadRequest(
            "Error processing request - not valid.",
            validation=[ValidationItem("body.name", "a company name is required", "contract")],
        )
    return call.tenant.create_company(
        body["name"], description=body.get("description"), tags=body.get("tags")
    )


def get_configuration(call: Call) -> Any:
    return call.tenant.configuration(call.path["companyId"])


def set_configuration(call: Call) -> Any:
    return call.tenant.set_configuration(call.path["companyId"])
