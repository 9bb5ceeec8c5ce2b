"""Sync Flow: the link a merchant starts Codat's Sync Flow from, and the checks before it.

The commerce key must name an enabled commerce integration and the accounting key an enabled
accounting one. A merchant identifier that names no company becomes the name of a new one,
cleaned as any company name is. The tenant finds or creates the company and its connections.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from mockserver.errors import BadRequest, ValidationItem
from mockserver.store.catalog import Platform
from mockserver.store.companies import clean_name
from mockserver.store.limits import MAX_COMPANY_NAME, check_length

SYNC_FLOW = "https://sync-flow.codat.io"


def check_platforms(
    commerce_key: str, commerce: Platform, accounting_key: str, accounting: Platform
) -> None:
    """BadRequest naming every problem with the two platforms (the first one's message)."""
    problems: list[ValidationItem] = []
    if commerce.source_type != "Commerce":
        problems.append(
            ValidationItem("commerceKey", f"{commerce_key} is not a commerce integration.")
        )
    if accounting.source_type != "Accounting":
        problems.append(
            ValidationItem("accountingKey", f"{accounting_key} is not an accounting integration.")
        )
    for field_name, platform in (("commerceKey", commerce), ("accountingKey", accounting)):
        if not platform.enabled:
            problems.append(
                ValidationItem(field_name, f"Integration {platform.key} is not enabled.")
            )
    if problems:
        raise BadRequest(problems[0].message, validation=problems)


def merchant_company_name(merchant_identifier: str) -> str:
    """The name of the company ``merchant_identifier`` stands for (as creating it would clean
    it); BadRequest when it is too long or nothing of it is left."""
    check_length(merchant_identifier, "merchantIdentifier", MAX_COMPANY_NAME)
    try:
        return clean_name(merchant_identifier)
    except BadRequest:
        raise BadRequest(
            "The merchant identifier must hold at least one letter, digit or allowed symbol "
            "to name the merchant's company.",
            validation=[ValidationItem("merchantIdentifier", "Cannot name a company.")],
        ) from None


def sync_flow_link(
    client_id: str, commerce_key: str, accounting_key: str, params: list[tuple[str, str]]
) -> str:
    """The Sync Flow URL of ``client_id`` for the two platforms, with ``params`` as its query."""
    query = urlencode(params, quote_via=quote, safe="")
    path = f"{quote(client_id, safe='')}/{commerce_key}/{accounting_key}/start"
    return f"{SYNC_FLOW}/{path}?{query}"
