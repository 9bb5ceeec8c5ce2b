"""Shared set-up for the store tests: small hand-made fixtures, a manual clock, a seeded world.

``contract`` checks a value against a component schema of the project's ``openapi.yaml``.
Test modules take everything from here as fixtures (never by importing this module), so they
work whether or not ``tests/store`` becomes a package.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

from mockserver.clock import Clock
from mockserver.fixtures import Fixtures
from mockserver.store import Tenant, World

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=timezone.utc)
OPENAPI = Path(__file__).resolve().parents[2] / "openapi.yaml"

ContractCheck = Callable[[str, Any], None]


def _integration(key: str, name: str, source_type: str, **extra: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": name,
        "logoUrl": f"https://static.codat.io/public/officialLogos/Square/{key}.png",
        "enabled": True,
        "sourceType": source_type,
        "sourceId": f"00000000-0000-4000-8000-00000000{sum(map(ord, key)):04d}",
        "integrationId": f"11111111-0000-4000-8000-00000000{sum(map(ord, key)):04d}",
        **extra,
    }


def _make_fixtures(*, schedule_start: str | None = "2026-01-01T00:00:00Z") -> Fixtures:
    """A small, hand-made set of seed data."""
    configuration: dict[str, Any] = {
        "accountingSoftwareCompanyName": "Placeholder Ltd",
        "enable": False,
        "configured": False,
        "configuration": {"countryCode": "GB", "mapSettings": {"outputFormat": "JournalEntry"}},
    }
    if schedule_start is not None:
        configuration["schedule"] = {
            "selectedFrequency": "Daily",
            "frequencyOptions": ["Daily", "Monthly"],
            "startDate": schedule_start,
            "syncHour": 0,
            "timeZone": "Europe/London",
        }
    image = {"image": {"src": "https://static.codat.io/xero.png", "alt": "Xero"}}
    return Fixtures(
        integrations=[
            _integration("fztf", "Shopify", "Commerce"),
            _integration("zsth", "Square", "Commerce"),
            _integration("gbol", "Xero", "Accounting"),
            _integration("qhyg", "QuickBooks Online", "Accounting"),
            _integration("offl", "Switched Off", "Commerce", enabled=False),
            # Only the fields the contract requires: the catalog must fill the rest.
            {
                "key": "bare",
                "name": "Bare Bones",
                "logoUrl": "https://static.codat.io/bare.png",
                "enabled": True,
            },
        ],
        branding={
            "gbol": {
                "logo": {"full": image, "square": image},
                "button": {"default": image, "hover": image},
                "sourceId": "00000000-0000-4000-8000-000000000424",
            }
        },
        configuration=configuration,
        texts={
            "en-us": {
                "title": {"text": "Welcome", "required": True},
                "subtitle": {"text": None, "required": False},
                "footer": {"text": "Powered by Codat", "required": False},
            },
            "fr-fr": {"title": {"text": "Bienvenue", "required": True}},
        },
        visible_accounts={"gbol": ["sales", "fees"]},
    )


FixturesFactory = Callable[..., Fixtures]


@pytest.fixture(scope="session")
def make_fixtures() -> FixturesFactory:
    """Build the hand-made fixtures (``schedule_start=None`` leaves the schedule out)."""
    return _make_fixtures


@pytest.fixture
def fixtures() -> Fixtures:
    return _make_fixtures()


@pytest.fixture
def clock() -> Clock:
    """A manual clock frozen at T0."""
    return Clock(frozen_at=T0)


@pytest.fixture
def world(fixtures: Fixtures, clock: Clock) -> World:
    return World(fixtures, clock=clock, rng=random.Random(42), sync_duration=30.0)


@pytest.fixture
def tenant(world: World) -> Tenant:
    return world.tenant("client-a")


@pytest.fixture
def other(world: World) -> Tenant:
    """A second, unrelated tenant of the same world."""
    return world.tenant("client-b")


@pytest.fixture
def company_id(tenant: Tenant) -> str:
    return str(tenant.create_company("Bramble & Oak")["id"])


@pytest.fixture
def linked_company_id(tenant: Tenant, company_id: str) -> str:
    """A company with a linked commerce and a linked accounting connection."""
    for key in ("fztf", "gbol"):
        connection = tenant.create_connection(company_id, key)
        tenant.update_connection_authorization(company_id, connection["id"], {"token": "t"})
    return company_id


@pytest.fixture(scope="session")
def contract() -> ContractCheck:
    """Validate a value against a component schema of the project's contract."""
    if not OPENAPI.exists():
        pytest.skip("openapi.yaml is not written yet")
    components = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))["components"]
    validators: dict[str, Any] = {}

    def check(schema: str, value: Any) -> None:
        validator = validators.get(schema)
        if validator is None:
            root = {"$ref": f"#/components/schemas/{schema}", "components": components}
            validator = validators[schema] = jsonschema_rs.validator_for(
                root, validate_formats=True
            )
        # Validate a copy so a validator can never be what changed a test's value.
        errors = [
            f"{e.instance_path}: {e.message}" for e in validator.iter_errors(copy.deepcopy(value))
        ]
        assert not errors, f"{schema} invalid: {errors}"

    return check
