"""The official SDK's 22 methods, read through their signatures and type annotations.

:func:`shape` takes an SDK annotation apart (the SDK wraps its fields in ``Annotated``,
``Optional`` and its own ``Nullable`` aliases); :data:`METHODS` maps every contract operation
to the SDK method that calls it, with the request model and response type that method uses.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

import pydantic
from codat_sync_for_commerce import CodatSyncCommerce
from codat_sync_for_commerce.types.basemodel import Unset
from codat_sync_for_commerce.utils.metadata import FieldMetadata
from typing_extensions import TypeAliasType

# -- reading SDK annotations ----------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class Shape:
    """An SDK annotation taken apart: the types it admits besides None."""

    members: tuple[Any, ...]
    #: pydantic accepts a null here.
    accepts_null: bool
    #: The SDK's serializer writes an explicit null here (its ``Nullable`` alias).
    sends_null: bool


def shape(annotation: Any) -> Shape:
    """Unwrap Annotated, Optional, Union and the SDK's Nullable/OptionalNullable aliases."""
    members: list[Any] = []
    accepts = sends = False
    stack = [annotation]
    while stack:
        tp = stack.pop()
        origin = get_origin(tp)
        if isinstance(tp, TypeAliasType):
            sends = sends or tp.__name__ == "Nullable"
            stack.append(tp.__value__)
        elif isinstance(origin, TypeAliasType):
            sends = sends or origin.__name__ == "Nullable"
            bound = dict(zip(origin.__type_params__, get_args(tp), strict=True))
            stack.append(_substitute(origin.__value__, bound))
        elif origin is typing.Annotated:
            stack.append(get_args(tp)[0])
        elif origin is Union or origin is types.UnionType:
            stack.extend(get_args(tp))
        elif tp is type(None):
            accepts = True
        elif tp is not Unset:
            members.append(tp)
    return Shape(tuple(members), accepts, sends)


def _substitute(tp: Any, bound: Mapping[Any, Any]) -> Any:
    if isinstance(tp, typing.TypeVar):
        return bound.get(tp, tp)
    args = get_args(tp)
    if not args:
        return tp
    new = tuple(_substitute(a, bound) for a in args)
    origin = get_origin(tp)
    if origin is Union:
        return Union[new]  # noqa: UP007 (built at run time from a tuple of members)
    # A subscripted SDK alias (``Nullable[T]``) is rebuilt by subscripting the alias again.
    return tp.copy_with(new) if hasattr(tp, "copy_with") else origin[new]


def _model_in(annotation: Any) -> type[pydantic.BaseModel] | None:
    for member in shape(annotation).members:
        if isinstance(member, type) and issubclass(member, pydantic.BaseModel):
            return member
    return None


def field_metadata(info: Any) -> FieldMetadata | None:
    """The SDK's wire metadata on a model field (None: the field never goes on the wire)."""
    return next((m for m in info.metadata if isinstance(m, FieldMetadata)), None)


# -- the 22 SDK methods ----------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class SdkMethod:
    """One SDK method and the contract operation it calls."""

    operation_id: str
    group: str
    name: str

    def function(self, sdk: CodatSyncCommerce, *, use_async: bool = False) -> Any:
        """The bound method (its ``_async`` twin when ``use_async``)."""
        return getattr(getattr(sdk, self.group), f"{self.name}_async" if use_async else self.name)

    @property
    def request_model(self) -> type[pydantic.BaseModel]:
        return _introspect(self.group, self.name).request_model

    @property
    def response_annotation(self) -> Any:
        return _introspect(self.group, self.name).response

    @property
    def body_field(self) -> str | None:
        """The request model's field that carries the body (None: the model is the body)."""
        return _introspect(self.group, self.name).body_field

    def request(self, params: Mapping[str, Any], body: Any = ...) -> dict[str, Any] | None:
        """The ``request=`` argument: params by their contract names, the body if given."""
        found = _introspect(self.group, self.name)
        if found.body_is_request:
            return None if body is ... else dict(body)
        out = dict(params)
        if body is not ...:
            assert found.body_field is not None, f"{self.operation_id} takes no body"
            out[found.body_field] = body
        return out


@dataclass(slots=True, frozen=True)
class _Introspected:
    request_model: type[pydantic.BaseModel]
    response: Any
    body_field: str | None
    #: The request model is the body itself (create-company takes a CreateCompany).
    body_is_request: bool


@functools.cache
def _introspect(group: str, name: str) -> _Introspected:
    """What an SDK method's signature says (cached: the scenarios ask for every call)."""
    group_type = typing.get_type_hints(CodatSyncCommerce)[group]
    signature = inspect.signature(getattr(group_type, name))
    model = _model_in(signature.parameters["request"].annotation)
    assert model is not None, f"{group}.{name} takes no request model"
    metadata = {n: field_metadata(info) for n, info in model.model_fields.items()}
    body = next((n for n, m in metadata.items() if m is not None and m.request is not None), None)
    return _Introspected(
        request_model=model,
        response=signature.return_annotation,
        body_field=body,
        body_is_request=all(m is None for m in metadata.values()),
    )


METHODS: tuple[SdkMethod, ...] = (
    SdkMethod("list-integrations", "integrations", "list"),
    SdkMethod("get-integration-branding", "integrations", "get_branding"),
    SdkMethod("get-sync-flow-url", "connections", "get_sync_flow_url"),
    SdkMethod("create-company", "advanced_controls", "create_company"),
    SdkMethod("list-companies", "advanced_controls", "list_companies"),
    SdkMethod("get-configuration", "advanced_controls", "get_configuration"),
    SdkMethod("set-configuration", "advanced_controls", "set_configuration"),
    SdkMethod("create-connection", "connections", "create"),
    SdkMethod("list-connections", "connections", "list"),
    SdkMethod("update-connection", "connections", "update_connection"),
    SdkMethod("update-connection-authorization", "connections", "update_authorization"),
    SdkMethod("get-config-text-sync-flow", "sync_flow_settings", "get_config_text_sync_flow"),
    SdkMethod("update-config-text-sync-flow", "sync_flow_settings", "update_config_text_sync_flow"),
    SdkMethod("get-visible-accounts", "sync_flow_settings", "get_visible_accounts"),
    SdkMethod(
        "update-visible-accounts-sync-flow",
        "sync_flow_settings",
        "update_visible_accounts_sync_flow",
    ),
    SdkMethod("request-sync", "sync", "request"),
    SdkMethod("request-sync-for-date-range", "sync", "request_for_date_range"),
    SdkMethod("get-sync-status", "sync", "get_status"),
    SdkMethod("get-last-successful-sync", "sync", "get_last_successful_sync"),
    SdkMethod("get-latest-sync", "sync", "get_latest_sync"),
    SdkMethod("get-sync-by-id", "sync", "get"),
    SdkMethod("list-syncs", "sync", "list"),
)
METHOD_BY_OPERATION: Mapping[str, SdkMethod] = types.MappingProxyType(
    {m.operation_id: m for m in METHODS}
)
