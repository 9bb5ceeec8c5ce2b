"""The shared shape of a list operation: filter with ``query``, sort with ``orderBy``, page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mockserver import query as ql
from mockserver.handlers.registry import Call
from mockserver.paging import MAX_PAGE_SIZE, paginate


def page_of(call: Call, records: Sequence[Mapping[str, Any]], schema: str, resource: str) -> Any:
    """One Codat page of ``records`` (items of component schema ``schema``) for ``call``."""
    item_schema = call.spec.resolved(f"#/components/schemas/{schema}")
    text = call.query.get("query")
    order_by = call.query.get("orderBy")
    selected = ql.filter_records(records, text, schema=item_schema, resource=resource)
    ordered = ql.order_records(selected, order_by, schema=item_schema, resource=resource)
    return paginate(
        ordered,
        page=int(call.query.get("page", 1)),
        page_size=min(int(call.query.get("pageSize", 100)), MAX_PAGE_SIZE),
        path=call.url_path,
        query=text,
        order_by=order_by,
    )
