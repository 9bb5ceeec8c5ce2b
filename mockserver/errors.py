"""The library's errors: :class:`CodatMockError` is the root of every one of them.

:class:`ApiError` and its subclasses (one per status) are the errors the mock answers with.
Handlers, the store, routing and validation raise them; :func:`error_body` serializes them,
and :func:`mockserver.http_errors.error_response` turns them into the one response shape:
``statusCode``, ``service``, ``error``, ``correlationId``, ``validation``, ``canBeRetried``
and ``detailedErrorCode``. The library's other errors (a bad fixture, contract, rule file or
secret) derive from the root too, so a caller can catch everything codat-mock raises at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar


@dataclass(slots=True, frozen=True)
class ValidationItem:
    """One problem found in a request: where (``itemId``) and what (``message``)."""

    item_id: str | None
    message: str
    validator_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The contract's errorValidationItem; a field with no value is left out."""
        item: dict[str, Any] = {}
        if self.item_id is not None:
            item["itemId"] = self.item_id
        item["message"] = self.message
        if self.validator_name is not None:
            item["validatorName"] = self.validator_name
        return item


class CodatMockError(Exception):
    """The root of every error codat-mock raises."""


class SettingsError(CodatMockError, ValueError):
    """Settings that cannot work together (say, a control API exposed beyond loopback
    without a token)."""


class ApiError(CodatMockError):
    """Base of every error the mock answers with. Subclasses fix ``code``, the HTTP status."""

    code: ClassVar[int] = 500
    service: ClassVar[str] = "PublicApi"
    default_message: ClassVar[str] = "An internal error occurred."
    can_be_retried: ClassVar[str] = "Unknown"

    def __init__(
        self,
        message: str | None = None,
        *,
        validation: list[ValidationItem] | None = None,
        headers: dict[str, str] | None = None,
        service: str | None = None,
        status: int | None = None,
    ) -> None:
        self.status = status or self.code
        self.message = message or self.default_message
        self.validation = list(validation) if validation else []
        self.headers = dict(headers or {})
        self.error_service = service or self.service
        super().__init__(self.message)

    def relocate(self, place: Callable[[str | None], str | None]) -> ApiError:
        """This error with each validation item's ``itemId`` mapped through ``place``: the
        store names a field, the HTTP layer knows where in the request it came from."""
        self.validation = [replace(item, item_id=place(item.item_id)) for item in self.validation]
        return self


class BadRequest(ApiError):
    code = 400
    default_message = "Error processing request - not valid."


class MalformedQuery(BadRequest):
    """A ``query`` or ``orderBy`` value that the query language cannot parse or resolve."""

    service = "ClientsApi"
    default_message = "Error parsing query - Malformed query."


class Unauthorized(ApiError):
    code = 401
    default_message = "Unauthorized"


class PaymentRequired(ApiError):
    code = 402
    default_message = "An account limit has been exceeded."


class Forbidden(ApiError):
    code = 403
    default_message = (
        "You are using an outdated API key or a key not associated with that resource."
    )


class NotFound(ApiError):
    code = 404
    default_message = "The requested resource could not be found."


class MethodNotAllowed(ApiError):
    code = 405
    default_message = "The requested method is not allowed on this resource."


class RequestTimeout(ApiError):
    code = 408
    default_message = "The request timed out."
    can_be_retried = "True"


class Conflict(ApiError):
    code = 409
    default_message = "The request conflicts with the current state of the resource."


class PayloadTooLarge(ApiError):
    code = 413
    default_message = "The request body is too large."


class UriTooLong(ApiError):
    code = 414
    default_message = "The request's URL is too long."


class UnsupportedMediaType(ApiError):
    code = 415
    default_message = "Unsupported content type; send application/json."


class UnprocessableEntity(ApiError):
    code = 422
    default_message = "The request could not be processed."


class TooManyRequests(ApiError):
    code = 429
    default_message = (
        "You have made too many requests in a given amount of time; please retry later."
    )
    can_be_retried = "True"


class HeadersTooLarge(ApiError):
    code = 431
    default_message = "The request's headers are too large."


class InternalServerError(ApiError):
    code = 500
    default_message = "An internal error occurred."


class BadGateway(ApiError):
    code = 502
    default_message = "Bad gateway."
    can_be_retried = "True"


class ServiceUnavailable(ApiError):
    code = 503
    default_message = "The service is temporarily unavailable; please retry later."
    can_be_retried = "True"


class GatewayTimeout(ApiError):
    code = 504
    default_message = "The gateway timed out."
    can_be_retried = "True"


class ContractViolation(InternalServerError):
    """Strict mode: a response the mock was about to send breaks the contract."""

    service = "codat-mock"


_BY_STATUS: dict[int, type[ApiError]] = {
    cls.code: cls
    for cls in (
        BadRequest,
        Unauthorized,
        PaymentRequired,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        RequestTimeout,
        Conflict,
        PayloadTooLarge,
        UriTooLong,
        UnsupportedMediaType,
        UnprocessableEntity,
        TooManyRequests,
        HeadersTooLarge,
        InternalServerError,
        BadGateway,
        ServiceUnavailable,
        GatewayTimeout,
    )
}


def error_for_status(status: int, message: str | None = None) -> ApiError:
    """An error of the class that owns ``status`` (a plain ApiError for other statuses).

    Fault injection uses this to answer any status with a Codat-shaped body.
    """
    cls = _BY_STATUS.get(status)
    if cls is not None:
        return cls(message)
    return ApiError(message or f"Error {status}.", status=status)


def error_body(err: ApiError, correlation_id: str) -> dict[str, Any]:
    """Codat's ErrorMessage for ``err``: the one place errors become JSON.

    In Codat's shape, as in its published error examples, an error with no validation
    details has no ``validation`` field at all.
    """
    body: dict[str, Any] = {
        "statusCode": err.status,
        "service": err.error_service,
        "error": err.message,
        "correlationId": correlation_id,
    }
    if err.validation:
        body["validation"] = {
            "errors": [item.to_json() for item in err.validation],
            "warnings": [],
        }
    body["canBeRetried"] = err.can_be_retried
    body["detailedErrorCode"] = 0
    return body
