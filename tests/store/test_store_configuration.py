from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from mockserver.clock import Clock
from mockserver.errors import Conflict, NotFound
from mockserver.fixtures import Fixtures
from mockserver.store import Tenant

ContractCheck = Callable[[str, Any], None]


def test_default_configuration(
    tenant: Tenant, company_id: str, fixtures: Fixtures, contract: ContractCheck
) -> None:
    config = tenant.configuration(company_id)
    assert config["companyId"] == company_id
    assert config["configured"] is False
    assert config["enable"] is False
    assert config["schedule"] == fixtures.configuration["schedule"]
    assert config["configuration"] == fixtures.configuration["configuration"]
    # No accounting connection yet: no accounting company name is made up.
    assert "accountingSoftwareCompanyName" not in config
    contract("Configuration", config)


def test_accounting_name_comes_from_the_accounting_connection(
    tenant: Tenant, company_id: str, contract: ContractCheck
) -> None:
    tenant.create_connection(company_id, "fztf")
    tenant.create_connection(company_id, "gbol")
    assert tenant.configuration(company_id)["accountingSoftwareCompanyName"] == "Xero"
    quickbooks = tenant.create_connection(company_id, "qhyg")
    # A linked accounting connection wins over an earlier pending one.
    tenant.update_connection_authorization(company_id, quickbooks["id"], {"k": "v"})
    config = tenant.configuration(company_id)
    assert config["accountingSoftwareCompanyName"] == "QuickBooks Online"
    contract("Configuration", config)


def test_set_configuration(tenant: Tenant, company_id: str, contract: ContractCheck) -> None:
    config = tenant.set_configuration(company_id)
    assert config["configured"] is True
    assert config["enable"] is True
    assert tenant.configuration(company_id) == config
    contract("Configuration", config)


def test_configuration_is_per_company(tenant: Tenant, company_id: str) -> None:
    other_company = tenant.create_company("Other")["id"]
    tenant.set_configuration(company_id)
    assert tenant.configuration(other_company)["configured"] is False


def test_set_configuration_conflicts_while_a_sync_runs(
    tenant: Tenant, company_id: str, clock: Clock
) -> None:
    tenant.request_sync(company_id)
    with pytest.raises(Conflict) as caught:
        tenant.set_configuration(company_id)
    assert caught.value.status == 409
    assert company_id in caught.value.message
    assert tenant.configuration(company_id)["configured"] is False
    clock.advance(30)
    assert tenant.set_configuration(company_id)["configured"] is True


def test_a_failed_sync_does_not_block_configuration(tenant: Tenant, company_id: str) -> None:
    sync_id = tenant.request_sync(company_id)["commerceSyncId"]
    tenant.force_sync_outcome(sync_id, 4000)
    assert tenant.set_configuration(company_id)["configured"] is True


def test_unknown_company(tenant: Tenant) -> None:
    with pytest.raises(NotFound):
        tenant.configuration("00000000-0000-4000-8000-000000000000")
    with pytest.raises(NotFound):
        tenant.set_configuration("00000000-0000-4000-8000-000000000000")


def test_the_fixture_default_is_never_changed(
    tenant: Tenant, company_id: str, fixtures: Fixtures
) -> None:
    before = copy.deepcopy(fixtures.configuration)
    config = tenant.configuration(company_id)
    config["schedule"]["syncHour"] = 23
    tenant.create_connection(company_id, "gbol")
    tenant.set_configuration(company_id)
    assert fixtures.configuration == before
