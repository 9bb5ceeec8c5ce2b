"""Where the contract says less than the API enforces: the 400s and 404s the server
conformance suite excuses, each for a named reason.

The published contract cannot state every rule Codat applies (which platform keys exist,
that a date-time must parse, that a sync range must not overlap an earlier one...). A
schemathesis check that sends data the contract calls valid would count the API's rightful
400 as a failure; :func:`positive_data_acceptance_outside_gaps` excuses exactly the refusals
listed in :data:`CONTRACT_GAPS`, and :func:`ensure_resource_availability_for_the_company`
exactly the 404s listed in :data:`OTHER_MISSING`. Anything else still fails.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schemathesis import Case, CheckContext, Response
from schemathesis.specs.openapi import checks as openapi_checks


@dataclass(slots=True, frozen=True)
class ContractGap:
    """A request the contract calls valid but the API rightly refuses with 400.

    The published contract cannot state every rule Codat applies: which platform keys exist,
    that a date-time must parse, that a range must not overlap an earlier sync, which status
    changes a connection allows. A gap names one such rule, as narrowly as the refusal: one
    operation and the server's message for it. Most gaps match one entry of the error's
    ``validation.errors`` (``item_id`` and its message; ``item_id=None`` for any entry); a gap
    with ``whole_error=True`` matches the top-level ``error`` of an answer that lists no
    entries. A 400 is excused only when everything it complains about is a known gap.
    """

    operation_id: str
    item_id: str | None
    message: re.Pattern[str]
    reason: str
    whole_error: bool = False

    def covers_item(self, operation_id: str, item: Mapping[str, Any]) -> bool:
        return (
            not self.whole_error
            and operation_id == self.operation_id
            and (self.item_id is None or item.get("itemId") == self.item_id)
            and bool(self.message.search(str(item.get("message", ""))))
        )

    def covers_error(self, operation_id: str, error: str) -> bool:
        return (
            self.whole_error
            and operation_id == self.operation_id
            and bool(self.message.search(error))
        )


def _gaps(
    operations: tuple[str, ...],
    item_id: str | None,
    message: str,
    reason: str,
    *,
    whole_error: bool = False,
) -> tuple[ContractGap, ...]:
    pattern = re.compile(message)
    return tuple(
        ContractGap(operation, item_id, pattern, reason, whole_error) for operation in operations
    )


_SYNCS = ("request-sync", "request-sync-for-date-range")
_LISTS = ("list-companies", "list-connections", "list-integrations")

CONTRACT_GAPS: tuple[ContractGap, ...] = (
    *_gaps(
        ("create-company",),
        "body.name",
        r"company name is required$",
        "The published requestBody is not marked required, so schemathesis may send no body; "
        "Codat cannot create a company without a name.",
    ),
    *_gaps(
        ("create-company",),
        "body.name",
        r"^Must not be empty\.$",
        "The published name pattern admits a name of only spaces; Codat wants at least one "
        "visible character.",
    ),
    *_gaps(
        ("create-connection",),
        "body.platformKey",
        r"platformKey is required$",
        "The published body makes platformKey optional (and the body itself optional); a "
        "connection cannot be opened without naming the platform.",
    ),
    *_gaps(
        ("get-sync-flow-url",),
        None,
        r"^\S+ is not an? (commerce|accounting) integration\.$",
        "commerceKey and accountingKey are any strings in the contract; each must name an "
        "integration of its kind (commerce, accounting).",
    ),
    *_gaps(
        ("get-sync-flow-url",),
        "query.merchantIdentifier",
        r"^Cannot name a company\.$",
        "merchantIdentifier is any string in the contract; one that is not a company id must "
        "be usable as a company name (at least one visible allowed character).",
    ),
    *_gaps(
        ("get-sync-flow-url",),
        None,
        r"^Integration \S+ is not enabled\.$",
        "Whether an integration is enabled is account state, not request shape (the seed data "
        "can disable one).",
    ),
    *_gaps(
        ("create-connection",),
        "body.platformKey",
        r"^The integration is disabled\.$",
        "Whether an integration is enabled is account state, not request shape (the seed data "
        "can disable one).",
    ),
    *_gaps(
        ("update-connection",),
        "body.status",
        r"^Only Linked -> Unlinked is allowed\.$",
        "Every status is valid in the contract, but the only change a client may make is to "
        "unlink a linked connection.",
    ),
    *_gaps(
        ("update-config-text-sync-flow",),
        None,
        r"is not a Sync Flow text key for ",
        "LocalizationInfo is published as a map with any keys, but only the Sync Flow's own "
        "field names can be set; an unknown field name is refused.",
    ),
    *_gaps(
        ("request-sync",),
        "body.syncTo",
        r"is not a valid date-time$",
        "The contract's date-time values are plain strings (the published schema has no "
        "format), but Codat parses them; a string that is no date is refused.",
    ),
    *_gaps(
        ("request-sync-for-date-range",),
        None,
        r"( is not a valid date-time|^a dateRange is required)$",
        "start and finish are plain strings in the contract (and the requestBody is optional, "
        "so it may be missing); Codat parses them as date-times.",
    ),
    *_gaps(
        ("request-sync",),
        "body.syncTo",
        r"^Must be later than start\.$",
        "Nothing in the contract orders syncTo; a sync must end after it starts, which for "
        "request-sync is the end of the last successful sync (or the configured start date).",
    ),
    *_gaps(
        ("request-sync-for-date-range",),
        "body.dateRange.finish",
        r"^Must be later than start\.$",
        "Nothing in the contract orders a sync range's ends; a range must end after it starts.",
    ),
    *_gaps(
        _SYNCS,
        None,
        r"^Date overlaps with a previous sync date range\.$",
        "A sync range must not overlap the range of an earlier sync that succeeded or still "
        "runs: a rule about the company's history that no request schema can state.",
        whole_error=True,
    ),
    *_gaps(
        _LISTS,
        None,
        r"^Error parsing query - ",
        "`query` and `orderBy` are plain strings in the contract, but they are sentences of "
        "Codat's query language: one that does not parse, or names an unknown property, is "
        "refused with the documented Malformed-Query 400.",
        whole_error=True,
    ),
)


def is_contract_gap(operation_id: str, status: int, body: Any) -> bool:
    """Whether an answer is a 400 that only complains about known :data:`CONTRACT_GAPS`."""
    if status != 400 or not isinstance(body, dict):
        return False
    validation = body.get("validation")
    items = validation.get("errors") if isinstance(validation, dict) else None
    if items:
        return all(
            isinstance(item, dict)
            and any(gap.covers_item(operation_id, item) for gap in CONTRACT_GAPS)
            for item in items
        )
    error = body.get("error")
    return isinstance(error, str) and any(
        gap.covers_error(operation_id, error) for gap in CONTRACT_GAPS
    )


def positive_data_acceptance_outside_gaps(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    """schemathesis' ``positive_data_acceptance``, except for the 400s of :data:`CONTRACT_GAPS`."""
    if is_contract_gap(operation_id(case), response.status_code, _json_or_none(response)):
        return None
    return openapi_checks.positive_data_acceptance(ctx, response, case)


@dataclass(slots=True, frozen=True)
class OtherMissing:
    """A 404 of ``operation_id`` that reports something other than the addressed company
    missing: the company was found, the thing named in ``error`` was not."""

    operation_id: str
    error: re.Pattern[str]
    reason: str

    def covers(self, operation_id: str, error: str, company_id: str) -> bool:
        found = self.error.match(error)
        return (
            found is not None
            and operation_id == self.operation_id
            # When the message names a company, it must be the one the request addressed.
            and found.groupdict().get("company", company_id) == company_id
        )


_NO_SYNC_YET = re.compile(
    r"^No (successful commerce sync was|commerce syncs were) found for company (?P<company>\S+)$"
)
_NO_SYNC_YET_REASON = "A company just created has no sync, and so no latest or successful one."

OTHER_MISSING: tuple[OtherMissing, ...] = (
    OtherMissing("get-latest-sync", _NO_SYNC_YET, _NO_SYNC_YET_REASON),
    OtherMissing("get-last-successful-sync", _NO_SYNC_YET, _NO_SYNC_YET_REASON),
    OtherMissing(
        "create-connection",
        re.compile(r"^No integration was found with key \S+$"),
        "platformKey is any four lowercase letters in the contract; a key that names no "
        "integration is not found, whichever company asks.",
    ),
)


def is_other_missing(operation_id: str, company_id: str, status: int, body: Any) -> bool:
    """Whether an answer is a 404 about something other than company ``company_id``."""
    if status != 404 or not isinstance(body, dict):
        return False
    error = body.get("error")
    return isinstance(error, str) and any(
        other.covers(operation_id, error, company_id) for other in OTHER_MISSING
    )


def ensure_resource_availability_for_the_company(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    """schemathesis' ``ensure_resource_availability``, for 404s that concern the company.

    The check reads any 404 under the path of a company just created as proof that the
    company is missing. Some operations under that path answer 404 about something else (an
    integration, a sync the new company has not had yet) while the company is there, and the
    error says so (:data:`OTHER_MISSING`); those 404s are not what the check is about.
    """
    company = str((case.path_parameters or {}).get("companyId", ""))
    body = _json_or_none(response)
    if is_other_missing(operation_id(case), company, response.status_code, body):
        return None
    return openapi_checks.ensure_resource_availability(ctx, response, case)


def _json_or_none(response: Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def operation_id(case: Case[Any]) -> str:
    """The operationId of a schemathesis case."""
    return str(case.operation.definition.raw.get("operationId", case.operation.label))
