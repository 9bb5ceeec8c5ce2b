"""Where an :class:`~mockserver.errors.ApiError` becomes an HTTP response: here and nowhere else.

The Codat surface, the control API, the fault layer and the rate-limit layer all answer their
errors through :func:`error_response`, so every error the mock sends has Codat's ErrorMessage
shape and a correlation id from the app's own seeded stream.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from mockserver.errors import ApiError, error_body
from mockserver.jsonio import json_response
from mockserver.render import Render

#: Checks an error body before it goes out (strict mode); raises an ApiError to replace it.
BodyCheck = Callable[[int, dict[str, Any]], None]


class CorrelationIds:
    """The app's stream of correlation ids: seeded, and apart from the stream resource ids
    come from, so that error answers never shift the ids a seeded run produces."""

    __slots__ = ("_rng", "_seed")

    def __init__(self, seed: int) -> None:
        self._seed = f"{seed}:correlation"
        self._rng = random.Random(self._seed)

    def __call__(self) -> str:
        """A fresh 32-hex-digit correlation id."""
        return f"{self._rng.getrandbits(128):032x}"

    def reset(self) -> None:
        """Start the stream over, as a fresh app would."""
        self._rng.seed(self._seed)


def error_response(
    err: ApiError,
    correlation_id: str,
    *,
    check: BodyCheck | None = None,
    render: Render | None = None,
) -> Response:
    """The response for ``err``: its status, its headers, Codat's ErrorMessage as the body.

    ``render`` puts the body into a response shape other than the default (mockserver.render).
    ``check`` (strict mode) sees the body next; an ApiError it raises is answered instead.
    """
    body: Any = error_body(err, correlation_id)
    if render is not None:
        body = render(body)
    if check is not None:
        try:
            check(err.status, body)
        except ApiError as violation:
            return error_response(violation, correlation_id, render=render)
    return json_response(body, err.status, err.headers)
