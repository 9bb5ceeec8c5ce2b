"""The official TypeScript SDK (@codat/sync-for-commerce 5.0.0) against the mock, for real.

``contracts/typescript/journey.cjs`` walks the merchant journey through the SDK: all 22
operations, tenant isolation, 401s and 404s, one ``FAIL`` line per operation the SDK could
not take (naming the fields it tripped on), and a summary line.
"""

from __future__ import annotations

import re

import pytest

from mockserver.cli import main
from mockserver.server import MockServer
from mockserver.settings import Settings
from tests.typescript.support import JOURNEY, REPO, NodeSdk, run_journey

pytestmark = pytest.mark.slow

#: The fields the SDK's schemas take as "optional" but not "null-able", where the contract
#: lets them be null (see docs/compatibility.md).
NOT_NULLABLE_IN_THE_SDK = ("description", "lastSync", "referenceParentCompany", "syncUtc")


def test_the_sdk_runs_the_whole_journey_against_the_default_mock(node_sdk: NodeSdk) -> None:
    with MockServer(Settings(port=0, strict=True)) as mock:
        done = run_journey(node_sdk, mock.url)
        statuses = {(e.operation_id, e.status) for e in mock.components.journal.entries()}
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAIL" not in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "typescript-sdk: 22/22 operations passed"
    # The journey did meet the 401s, the 404s and the other tenant's 404s it asserts on.
    assert {status for _, status in statuses} == {200, 401, 404}
    assert ("get-configuration", 404) in statuses and ("list-companies", 401) in statuses


def test_check_client_shows_nulls_breaking_the_sdk_and_names_the_fields(
    node_sdk: NodeSdk, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NODE_PATH", str(node_sdk.node_modules))
    status = main(
        ["check-client", "--shapes", "codat,nulls,extra", "--", node_sdk.node, str(JOURNEY)]
    )
    out = capfd.readouterr().out
    assert status == 1, out
    table = {
        line.split()[0]: line.split()[1:]
        for line in out.splitlines()
        if re.match(r"(codat|nulls|extra)\s+\d", line)
    }
    # shape: exit, operations called, off-contract requests, verdict
    assert table == {
        "codat": ["0", "22", "0", "pass"],
        "nulls": ["1", "22", "0", "FAIL"],
        "extra": ["0", "22", "0", "pass"],
    }
    nulls = out.split("shape nulls at", 1)[1].split("== codat-mock check-client", 1)[0]
    assert "typescript-sdk: 11/22 operations passed" in nulls
    for field in NOT_NULLABLE_IN_THE_SDK:
        assert re.search(rf"field (\S+\.)?{field}: .*received null", nulls), field
    assert "FAIL" not in out.split("shape nulls at", 1)[0]
    failing = set(re.findall(r"^FAIL ([a-z-]+):", nulls, re.MULTILINE))
    assert failing == _documented_typescript_failures(), "docs/compatibility.md is out of date"


def _documented_typescript_failures() -> set[str]:
    """The operations docs/compatibility.md marks as failing for TypeScript under nulls."""
    failing = set()
    for line in (REPO / "docs" / "compatibility.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 7 and re.fullmatch(r"[a-z]+(-[a-z]+)+", cells[0]):
            assert cells[1:4] == ["pass"] * 3 and cells[4] == cells[6] == "pass", line
            if cells[5] == "**fail**":
                failing.add(cells[0])
    assert len(failing) == 11
    return failing
