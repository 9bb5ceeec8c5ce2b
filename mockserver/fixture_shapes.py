"""Shapes: a small declarative picture of each fixture object, checked without the contract.

They follow the contract's schemas (closed objects, nullable fields) and add the few rules the
mock relies on (four-letter keys, UUIDs, the two source types), so a fixture error names the
file and field even before the contract's validators run. In an object's field list a
trailing "!" marks a required field and a trailing "?" one that may be null.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeAlias

#: A platform key: four lowercase letters.
PLATFORM_KEY = re.compile(r"[a-z]{4}")

#: (field path, message)
Problem: TypeAlias = tuple[str, str]


class Shape(Protocol):
    def check(self, value: Any, path: str, out: list[Problem]) -> None: ...


def child(path: str, key: str) -> str:
    # Keys that would make the dotted form ambiguous are quoted.
    if re.fullmatch(r"[A-Za-z0-9_\-]+", key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key)}]"


@dataclass(slots=True, frozen=True)
class _Scalar:
    test: Callable[[Any], bool]
    message: str

    def check(self, value: Any, path: str, out: list[Problem]) -> None:
        if not self.test(value):
            out.append((path, self.message))


@dataclass(slots=True, frozen=True)
class _ListOf:
    item: Shape

    def check(self, value: Any, path: str, out: list[Problem]) -> None:
        if not isinstance(value, list):
            out.append((path, "must be a list"))
            return
        for index, item in enumerate(value):
            self.item.check(item, f"{path}[{index}]", out)


@dataclass(slots=True, frozen=True)
class _MapOf:
    value: Shape

    def check(self, value: Any, path: str, out: list[Problem]) -> None:
        if not isinstance(value, dict):
            out.append((path, "must be a mapping"))
            return
        for key, item in value.items():
            self.value.check(item, child(path, key), out)


@dataclass(slots=True, frozen=True)
class _Object:
    """A closed object: unknown fields are refused so that a typo cannot pass silently."""

    fields: tuple[tuple[str, Shape], ...]

    @classmethod
    def of(cls, fields: dict[str, Shape]) -> _Object:
        return cls(tuple(fields.items()))

    def check(self, value: Any, path: str, out: list[Problem]) -> None:
        if not isinstance(value, dict):
            out.append((path, "must be a mapping"))
            return
        known = {name.rstrip("!?"): (name, shape) for name, shape in self.fields}
        for bare, (name, _) in known.items():
            if name.endswith("!") and bare not in value:
                out.append((child(path, bare), "is required"))
        for key, item in value.items():
            if key not in known:
                out.append((child(path, key), f"unknown field (allowed: {', '.join(known)})"))
            elif not (item is None and known[key][0].endswith("?")):
                known[key][1].check(item, child(path, key), out)


def _is_datetime(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        # Python 3.10's parser does not know the "Z" suffix Codat writes.
        datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        return False
    return True


def _one_of(*choices: str) -> _Scalar:
    return _Scalar(
        lambda v: isinstance(v, str) and v in choices, f"must be one of {', '.join(choices)}"
    )


def _text(pattern: str, message: str) -> _Scalar:
    return _Scalar(lambda v: isinstance(v, str) and re.fullmatch(pattern, v) is not None, message)


_STR = _Scalar(lambda v: isinstance(v, str), "must be a string")
_NAME = _text(r"(?s).+", "must be a non-empty string")
_FLAG = _Scalar(lambda v: isinstance(v, bool), "must be true or false")
_UUID = _text(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", "must be a UUID string")
_URL = _text(r"https?://[^\s/]+\S*", "must be an http(s) URL")
_ANY = _Scalar(lambda v: True, "")
_ABSENT = _Scalar(lambda v: False, "must be left out: the store fills it in for each company")

_IMAGE = _Object.of({"image": _Object.of({"src": _URL, "alt": _STR})})
BRANDING = _Object.of(
    {
        "logo": _Object.of({"full": _IMAGE, "square": _IMAGE}),
        "button": _Object.of({"default": _IMAGE, "hover": _IMAGE}),
        "sourceId": _UUID,
    }
)
INTEGRATION = _Object.of(
    {
        "key!": _text(PLATFORM_KEY.pattern, "must be four lowercase letters"),
        "logoUrl!": _URL,
        "name!": _NAME,
        "enabled!": _FLAG,
        "sourceId!": _UUID,
        # Sync for Commerce moves data from a commerce platform into an accounting one;
        # no other kind of integration takes part.
        "sourceType!": _one_of("Accounting", "Commerce"),
        "integrationId!": _UUID,
        "isOfflineConnector": _FLAG,
        "isBeta": _FLAG,
        "dataProvidedBy": _STR,
        "datatypeFeatures": _ListOf(_ANY),
    }
)
LOCALIZATION = _Object.of({"text!?": _STR, "required!": _FLAG})
VISIBLE_ACCOUNTS = _ListOf(_NAME)

_OPTIONS = _ListOf(_Object.of({"id!": _NAME, "name?": _STR}))
_ACCOUNT_OPTION = _Object.of(
    {"id!": _NAME, "name?": _STR, "nominalCode?": _STR, "classification?": _STR}
)
_ACCOUNTS = _MapOf(
    _Object.of(
        {
            "labelText?": _STR,
            "descriptionText?": _STR,
            "selectedAccountId?": _STR,
            "required": _FLAG,
            "accountOptions?": _ListOf(_ACCOUNT_OPTION),
        }
    )
)
_STRINGS = _ListOf(_STR)
_GROUP_BY = _Object.of({"selectedGroupByOptions?": _STRINGS, "groupByOptions?": _STRINGS})
_FREQUENCY = _one_of("Daily", "Monthly")
_SALES = _Object.of(
    {
        "syncSales": _FLAG,
        "accounts?": _ACCOUNTS,
        "invoiceStatus": _Object.of(
            {"selectedInvoiceStatus?": _STR, "invoiceStatusOptions?": _STRINGS}
        ),
        "salesCustomer": _Object.of({"selectedCustomerId?": _STR, "customerOptions?": _OPTIONS}),
        "taxRates?": _MapOf(_Object.of({"selectedTaxRateId?": _STR, "taxRateOptions?": _OPTIONS})),
        "newTaxRates": _Object.of(
            {
                "accountingTaxRateOptions?": _OPTIONS,
                "commerceTaxRateOptions?": _OPTIONS,
                "taxRateMappings?": _ListOf(
                    _Object.of(
                        {
                            "selectedCommerceTaxRateIds?": _STRINGS,
                            "selectedAccountingTaxRateId?": _STR,
                        }
                    )
                ),
                "selectedDefaultZeroTaxRateId?": _STR,
                "defaultZeroTaxRateOptions?": _OPTIONS,
            }
        ),
        "grouping": _Object.of(
            {
                "groupingPeriod": _Object.of(
                    {"selectedGroupingPeriod?": _STR, "groupingPeriodOptions?": _STRINGS}
                ),
                "groupingLevels": _Object.of(
                    {"invoiceLevel": _GROUP_BY, "invoiceLineLevel": _GROUP_BY}
                ),
            }
        ),
    }
)
_PAYMENTS = _Object.of({"syncPayments": _FLAG, "accounts?": _ACCOUNTS})
CONFIGURATION = _Object.of(
    {
        "companyId": _ABSENT,
        "accountingSoftwareCompanyName": _STR,
        "enable": _FLAG,
        "configured": _FLAG,
        "schedule": _Object.of(
            {
                "selectedFrequency": _FREQUENCY,
                "frequencyOptions": _ListOf(_FREQUENCY),
                "startDate": _Scalar(_is_datetime, "must be an ISO 8601 date or date-time string"),
                "syncHour": _Scalar(
                    lambda v: type(v) is int and 0 <= v <= 23, "must be a whole number from 0 to 23"
                ),
                "timeZone": _NAME,
            }
        ),
        "configuration": _Object.of(
            {
                "countryCode": _text(r"[A-Z]{2}", "must be two capital letters"),
                "mapSettings": _Object.of({"outputFormat": _one_of("JournalEntry")}),
                "sales": _SALES,
                "payments": _PAYMENTS,
                "newPayments": _PAYMENTS,
                "fees": _Object.of(
                    {
                        "feesSupplier": _Object.of(
                            {"selectedSupplierId?": _STR, "supplierOptions?": _OPTIONS}
                        ),
                        "syncFees": _FLAG,
                        "accounts?": _ACCOUNTS,
                    }
                ),
            }
        ),
    }
)
