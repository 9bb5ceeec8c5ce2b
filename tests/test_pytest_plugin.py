"""The pytest plugin, used the way a user would: their own test file, in a folder outside
this checkout, run by pytest (in-process, through pytester) with only the installed plugin."""

from __future__ import annotations

import textwrap
from pathlib import Path

# Imported here, before any inner run: pytester forgets what a run imported first, and the
# SDK's models must stay one set of classes for the whole session.
import codat_sync_for_commerce  # noqa: F401
import pytest

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


def test_a_users_test_file_passes_with_only_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS, test_readme=_readme_example())
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)


def test_a_failing_user_test_fails(pytester: pytest.Pytester) -> None:
    """The plugin does not swallow failures: a wrong expectation about the mock is red."""
    pytester.makepyfile(
        test_wrong=(
            "def test_wrong(codat_mock):\n"
            "    sdk = codat_mock.sdk()\n"
            "    assert sdk.advanced_controls.list_companies(request={}).total_results == 1\n"
        )
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
