"""The shared shape of a list operation: filter with ``query``, sort with ``orderBy``, page."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mockserver import query as ql
from mockserver.handlers.registry import Call
from mockserver.paging import MAX_PAGE_SIZE, envelope, page_bounds

#: What a store offers to list its records itself (with its indexes): the query, the
#: ordering and the ``[start, stop)`` positions in, the page's records and the total out.
Lister = Callable[[ql.Expr | None, ql.Ordering | None, int, int], tuple[list[Any], int]]


def page_of(call: Call, records: Sequence[Mapping[str, Any]], schema: str, resource: str) -> Any:
    """One Codat page of ``records`` (items of component schema ``schema``) for ``call``."""

    def lister(
        expr: ql.Expr | None, ordering: ql.Ordering | None, start: int, stop: int
    ) -> tuple[list[Any], int]:
        selected = records if expr is None else [r for r in records if ql.matches(expr, r)]
        ordered = ql.arrange(selected, ordering)
        return ordered[start:stop], len(ordered)

    return listed_page(call, lister, schema, resource)


def listed_page(call: Call, lister: Lister, schema: str, resource: str) -> Any:
    """One Codat page for ``call``, the records chosen by ``lister``."""
    item_schema = call.spec.resolved(f"#/components/schemas/{schema}")
    text = call.query.get("query")
    order_by = call.query.get("orderBy")
    # Everything the request says is checked before any record is looked at, so an error
    # never depends on the data.
    expr = ql.compile_query(text, schema=item_schema, resource=resource)
    ordering = ql.compile_order(order_by, schema=item_schema, resource=resource)
    page = int(call.query.get("page", 1))
    page_size = min(int(call.query.get("pageSize", 100)), MAX_PAGE_SIZE)
    start, stop = page_bounds(page, page_size)
    results, total = lister(expr, ordering, start, stop)
    return envelope(
        results,
        total,
        page=page,
        page_size=page_size,
        path=call.url_path,
        query=text,
        order_by=order_by,
    )
