"""Codat's paging: ``page`` from 1, ``pageSize``, and the HAL ``_links`` of a page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from mockserver.errors import BadRequest

MAX_PAGE_SIZE = 2000
"""The largest page served. The ``pageSize`` parameter admits up to 5000, but PagingInfo (the
page itself) says at most 2000, so a larger request is served in pages of 2000 and the
answer keeps the contract."""


def page_href(
    path: str, page: int, page_size: int, query: str | None = None, order_by: str | None = None
) -> str:
    """A link to one page: ``path?page=..&pageSize=..`` plus ``query``/``orderBy`` when set."""
    href = f"{path}?page={page}&pageSize={page_size}"
    if query:
        href += "&query=" + quote(query, safe="")
    if order_by:
        href += "&orderBy=" + quote(order_by, safe="")
    return href


def page_bounds(page: int, page_size: int) -> tuple[int, int]:
    """The ``[start, stop)`` positions of one page; BadRequest unless both are at least 1."""
    if page < 1 or page_size < 1:
        raise BadRequest("page and pageSize must both be at least 1.")
    start = (page - 1) * page_size
    return start, start + page_size


def paginate(
    records: Sequence[Mapping[str, Any]],
    *,
    page: int,
    page_size: int,
    path: str,
    query: str | None = None,
    order_by: str | None = None,
) -> dict[str, Any]:
    """One page of ``records`` in Codat's paged envelope (see :func:`envelope`)."""
    start, stop = page_bounds(page, page_size)
    return envelope(
        list(records[start:stop]),
        len(records),
        page=page,
        page_size=page_size,
        path=path,
        query=query,
        order_by=order_by,
    )


def envelope(
    results: list[Any],
    total: int,
    *,
    page: int,
    page_size: int,
    path: str,
    query: str | None = None,
    order_by: str | None = None,
) -> dict[str, Any]:
    """Codat's paged envelope around ``results``, page ``page`` of ``total`` records.

    ``self`` is the bare resource path; ``current``, ``next`` and ``previous`` carry the paging
    parameters and any query/orderBy. ``next`` appears only while records remain after this
    page and ``previous`` only after page 1. A page past the end is valid and empty.
    """
    links: dict[str, dict[str, str]] = {
        "self": {"href": path},
        "current": {"href": page_href(path, page, page_size, query, order_by)},
    }
    if page * page_size < total:
        links["next"] = {"href": page_href(path, page + 1, page_size, query, order_by)}
    if page > 1:
        links["previous"] = {"href": page_href(path, page - 1, page_size, query, order_by)}
    return {
        "results": results,
        "pageNumber": page,
        "pageSize": page_size,
        "totalResults": total,
        "_links": links,
    }
