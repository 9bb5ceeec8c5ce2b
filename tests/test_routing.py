from __future__ import annotations

import pytest

from mockserver.errors import MethodNotAllowed, NotFound
from mockserver.routing import Router
from mockserver.spec import Spec

CID = "4f6b2e1a-3c2d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture(scope="module")
def router(spec: Spec) -> Router:
    return Router(spec.operations.values())


@pytest.mark.parametrize(
    ("method", "path", "operation_id"),
    [
        ("GET", "/companies", "list-companies"),
        ("POST", "/companies", "create-company"),
        ("GET", f"/companies/{CID}/sync/commerce/syncs/latest/status", "get-latest-sync"),
        ("GET", f"/companies/{CID}/sync/commerce/syncs/list/status", "list-syncs"),
        (
            "GET",
            f"/companies/{CID}/sync/commerce/syncs/lastSuccessful/status",
            "get-last-successful-sync",
        ),
        ("GET", f"/companies/{CID}/sync/commerce/syncs/{CID}/status", "get-sync-by-id"),
        ("GET", "/config/sync/commerce/shpy/gbol/start", "get-sync-flow-url"),
        ("GET", f"/clients/{CID}/config/ui/accounts/platform/gbol", "get-visible-accounts"),
    ],
)
def test_routes_match_the_right_operation(
    router: Router, method: str, path: str, operation_id: str
) -> None:
    assert router.match(method, path).operation.operation_id == operation_id


def test_path_parameters_are_captured(router: Router) -> None:
    found = router.match("GET", f"/companies/{CID}/sync/commerce/syncs/abc/status")
    assert found.path_params == {"companyId": CID, "syncId": "abc"}


def test_literal_segment_beats_a_template(router: Router) -> None:
    found = router.match("GET", f"/companies/{CID}/sync/commerce/syncs/latest/status")
    assert found.path_params == {"companyId": CID}


def test_unknown_path_is_404(router: Router) -> None:
    with pytest.raises(NotFound):
        router.match("GET", "/nowhere")


def test_wrong_method_is_405_with_allow(router: Router) -> None:
    with pytest.raises(MethodNotAllowed) as caught:
        router.match("DELETE", "/companies")
    assert caught.value.headers["Allow"] == "GET, POST"
    assert caught.value.status == 405
