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


class _TinyMemo(Router):
    MEMO_SIZE = 2


def test_remembered_matches_stay_right_past_the_memo_size(spec: Spec) -> None:
    router = _TinyMemo(spec.operations.values())
    other = "9b1c2d3e-4f5a-4b6c-8d7e-0f1a2b3c4d5e"
    calls = [
        ("GET", f"/companies/{CID}/connections", "companyId", CID),
        ("GET", f"/companies/{other}/connections", "companyId", other),
        ("POST", f"/companies/{CID}/connections", "companyId", CID),
    ]
    for _ in range(3):  # every answer asked again, after the memo has been filled and cleared
        for method, path, name, value in calls:
            found = router.match(method, path)
            assert found.operation.method == method
            assert found.path_params == {name: value}
    with pytest.raises(NotFound):  # a miss is not remembered as anything
        router.match("GET", "/nowhere")
    with pytest.raises(NotFound):
        router.match("GET", "/nowhere")


def test_a_shared_match_cannot_be_changed(router: Router) -> None:
    found = router.match("GET", f"/companies/{CID}/connections")
    with pytest.raises(TypeError):
        found.path_params["companyId"] = "someone-else"  # type: ignore[index]
    assert router.match("GET", f"/companies/{CID}/connections").path_params == {"companyId": CID}
