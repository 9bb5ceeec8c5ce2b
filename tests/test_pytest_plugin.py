"""The pytest plugin, used the way a user would: their own test file, in a folder outside
this checkout, run by pytest in a subprocess with only the installed package."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

USER_TESTS = textwrap.dedent(
    """
    import asyncio

    import httpx
    import pytest
    from codat_sync_for_commerce.models import errors
    from codat_sync_for_commerce.utils import BackoffStrategy, RetryConfig

    FAST_RETRIES = RetryConfig("backoff", BackoffStrategy(1, 5, 1.5, 2_000), False)
    # The SDK's own default retries a 5XX for up to an hour: say "no retries" where a test
    # wants to see the first failure.
    NO_RETRIES = RetryConfig("none", BackoffStrategy(1, 1, 1, 1), False)


    def test_sdk_against_the_mock(codat_mock):
        sdk = codat_mock.sdk()
        company = sdk.advanced_controls.create_company(request={"name": "Plugin Co"})
        listed = sdk.advanced_controls.list_companies(request={})
        assert [c.id for c in listed.results] == [company.id]


    def test_each_test_starts_from_the_fixtures(codat_mock):
        assert codat_mock.sdk().advanced_controls.list_companies(request={}).results == []


    @pytest.mark.codat_faults(
        {"operationId": "list-companies", "status": 429, "retryAfter": 1, "times": 2}
    )
    def test_marker_faults_and_the_journal(codat_mock):
        sdk = codat_mock.sdk(retry_config=FAST_RETRIES)
        sdk.advanced_controls.list_companies(request={})
        assert [r.status for r in codat_mock.requests("list-companies")] == [429, 429, 200]
        [call] = codat_mock.report()["operations"][0]["logicalCalls"]
        assert call["attempts"] == 3


    def test_faults_add_and_the_clock(codat_mock):
        codat_mock.faults.add(operationId="get-integration-branding", status=503)
        with pytest.raises(errors.ErrorMessage) as caught:
            sdk = codat_mock.sdk(retry_config=NO_RETRIES)
            sdk.integrations.get_branding(request={"platform_key": "gbol"})
        assert caught.value.data.status_code == 503
        sdk = codat_mock.sdk()
        company = sdk.advanced_controls.create_company(request={"name": "Clock Co"})
        sync = sdk.sync.request(request={"company_id": company.id})
        assert sync.sync_status_code == 1000
        codat_mock.clock.advance(3600)
        latest = sdk.sync.get_latest_sync(request={"company_id": company.id})
        assert latest.sync_status_code == 2000


    def test_in_process_app(codat_mock_app):
        async def call():
            transport = httpx.ASGITransport(app=codat_mock_app)
            url = "http://localhost"
            async with httpx.AsyncClient(transport=transport, base_url=url) as client:
                response = await client.get(
                    "/companies", headers={"Authorization": "Basic a2V5"}
                )
                control = await client.get("/_mock/clock")
                return response.status_code, response.json()["totalResults"], control.status_code

        assert asyncio.run(call()) == (200, 0, 200)
    """
)


README = Path(__file__).resolve().parent.parent / "README.md"


def _readme_example() -> str:
    """The README's "Use it in your tests" example, as a user would paste it."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Use it in your tests") :]
    start = section.index("```python\n") + len("```python\n")
    return section[start : section.index("```", start)]


def test_a_users_test_file_passes_with_only_the_plugin(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    (tmp_path / "test_readme.py").write_text(_readme_example())
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "test_user.py",
            "test_readme.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout


def test_a_failing_user_test_fails(tmp_path: Path) -> None:
    """The plugin does not swallow failures: a wrong expectation about the mock is red."""
    (tmp_path / "test_wrong.py").write_text(
        "def test_wrong(codat_mock):\n"
        "    sdk = codat_mock.sdk()\n"
        "    assert sdk.advanced_controls.list_companies(request={}).total_results == 1\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_wrong.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout
