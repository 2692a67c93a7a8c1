"""Contact list views: list, describe (with a SOQL query the emulator itself runs), results.

A view is (label, developerName, scope, WHERE clause). `scope="mine"` becomes
`USING SCOPE mine` in the described query, as Salesforce writes it, so the owner filter is
evaluated for whoever runs the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request

from sandbox.common import HttpError, route

from .schema import LIST_VIEW_PREFIX
from .soql import parse
from .soql import run as run_soql
from .values import make_id, render, to_18

DATA = "/services/data/v<version>/sobjects/<name>/listviews"

# (fieldNameOrPath, label, type, hidden)
COLUMNS = [
    ("Name", "Name", "string", False),
    ("Account.Name", "Account Name", "string", False),
    ("Title", "Title", "string", False),
    ("Phone", "Phone", "phone", False),
    ("Email", "Email", "email", False),
    ("Owner.Alias", "Contact Owner Alias", "string", False),
    ("Id", "Contact ID", "id", True),
    ("CreatedDate", "Created Date", "datetime", True),
    ("LastModifiedDate", "Last Modified Date", "datetime", True),
    ("SystemModstamp", "System Modstamp", "datetime", True),
    ("Owner.Id", "User ID", "id", True),
    ("OwnerId", "Owner ID", "reference", True),
]


@dataclass
class ListView:
    id: str
    label: str
    developer_name: str
    scope: str  # "mine" | "everything"
    where: str  # a SOQL condition, "" for none

    def soql(self) -> str:
        cols = ", ".join(c[0] for c in COLUMNS)
        scope = " USING SCOPE mine" if self.scope == "mine" else ""
        where = f" WHERE {self.where}" if self.where else ""
        order = " ORDER BY Name ASC NULLS FIRST, Id ASC NULLS FIRST"
        return f"SELECT {cols} FROM Contact{scope}{where}{order}"  # noqa: S608 - SOQL, not SQL


_OPERATORS = {
    "=": "equals",
    "!=": "notEqual",
    "<": "lessThan",
    ">": "greaterThan",
    "<=": "lessOrEqual",
    ">=": "greaterOrEqual",
}


def _literal(value: tuple[str, Any]) -> str:
    kind, v = value
    if kind == "str":
        return f"'{v}'"
    if kind == "range":
        return f"{v[0]}:{v[1]}" if v[1] else v[0]
    return "null" if v is None else str(render(v)).lower() if kind == "bool" else str(render(v))


def where_condition(node: Any) -> dict[str, Any]:
    """The describe's structured `whereCondition`, derived from the parsed WHERE clause."""
    kind = node[0]
    if kind in ("and", "or"):
        return {"conditions": [where_condition(n) for n in node[1]], "conjunction": kind}
    if kind == "not":
        return {"conditions": [where_condition(node[1])], "conjunction": "not"}
    field = ".".join(node[1].parts)
    if kind == "like":
        return {"field": field, "operator": "like", "values": [_literal(node[2])]}
    if kind == "in":
        op = "notEqual" if node[3] else "equals"
        return {"field": field, "operator": op, "values": [_literal(v) for v in node[2]]}
    return {"field": field, "operator": _OPERATORS[node[2]], "values": [_literal(node[3])]}


class ListViewRoutes:
    """Mixin for SalesforceEmulator."""

    list_views: dict[str, ListView]

    def reset_list_views(self) -> None:
        self.list_views = {}
        self._view_seq = 0
        # Every org has these two standard Contact views.
        self.add_list_view("All Contacts", "AllContacts", "everything", "")
        self.add_list_view("My Contacts", "MyContacts", "mine", "")

    def add_list_view(
        self, label: str, developer_name: str, scope: str = "everything", where: str = ""
    ) -> str:
        if scope not in ("mine", "everything"):
            raise ValueError(f"scope must be 'mine' or 'everything', not {scope!r}")
        view = ListView("", label, developer_name, scope, where)
        parse(view.soql())  # a view the emulator cannot run is a bug in the test, say so now
        self._view_seq += 1
        view.id = make_id(LIST_VIEW_PREFIX, 7000 + self._view_seq)
        self.list_views[view.id] = view
        return view.id

    def delete_list_view(self, view_id: str) -> None:
        self.list_views.pop(view_id)

    def update_list_view(
        self,
        view_id: str,
        *,
        where: str | None = None,
        label: str | None = None,
        scope: str | None = None,
    ) -> None:
        """Edit a view as a user would in Setup: its describe's query changes at once."""
        view = self.list_views[view_id]
        edited = ListView(
            view.id,
            label if label is not None else view.label,
            view.developer_name,
            scope if scope is not None else view.scope,
            where if where is not None else view.where,
        )
        if edited.scope not in ("mine", "everything"):
            raise ValueError(f"scope must be 'mine' or 'everything', not {edited.scope!r}")
        parse(edited.soql())
        self.list_views[view_id] = edited

    def _view(self, name: str, view_id: str) -> ListView:
        if name.lower() != "contact":
            self._sobject(name)  # type: ignore[attr-defined]
            raise HttpError(404, "NOT_FOUND", "The requested resource does not exist")
        view = self.list_views.get(to_18(view_id) or "")
        if view is None:
            raise HttpError(404, "NOT_FOUND", "The requested resource does not exist")
        return view

    def _urls(self, version: str, view: ListView) -> dict[str, Any]:
        base = f"/services/data/v{version}/sobjects/Contact/listviews/{view.id}"
        return {
            "describeUrl": f"{base}/describe",
            "developerName": view.developer_name,
            "id": view.id,
            "label": view.label,
            "resultsUrl": f"{base}/results",
            "soqlCompatible": True,
            "url": base,
        }

    @route(DATA)
    def listviews(self, request: Request, principal: str | None, version: str, name: str) -> Any:
        self._version(version)  # type: ignore[attr-defined]
        if self._sobject(name).name != "Contact":  # type: ignore[attr-defined]
            views: list[ListView] = []
        else:
            views = list(self.list_views.values())
        return {
            "done": True,
            "listviews": [self._urls(version, v) for v in views],
            "nextRecordsUrl": None,
            "size": len(views),
            "sobjectType": "Contact",
        }

    @route(f"{DATA}/recent")
    def recent_listviews(
        self, request: Request, principal: str | None, version: str, name: str
    ) -> Any:
        return self.listviews(request, principal, version, name)

    @route(f"{DATA}/<view_id>/describe")
    def describe_listview(
        self, request: Request, principal: str | None, version: str, name: str, view_id: str
    ) -> Any:
        self._version(version)  # type: ignore[attr-defined]
        view = self._view(name, view_id)
        q = parse(view.soql())
        return {
            "columns": self._columns(),
            "id": view.id,
            "orderBy": [
                {"fieldNameOrPath": "Name", "nullsPosition": "first", "sortDirection": "ascending"},
                {"fieldNameOrPath": "Id", "nullsPosition": "first", "sortDirection": "ascending"},
            ],
            "query": view.soql(),
            "relatedEntityId": None,
            "scope": view.scope,
            "scopeEntityId": None,
            "sobjectType": "Contact",
            "whereCondition": where_condition(q.where)
            if q.where
            else {"conditions": [], "conjunction": "and"},
        }

    def _columns(self) -> list[dict[str, Any]]:
        return [
            {
                "ascendingLabel": "A-Z",
                "descendingLabel": "Z-A",
                "fieldNameOrPath": path,
                "hidden": hidden,
                "label": label,
                "searchable": False,
                "selectListItem": path,
                "sortDirection": "ascending" if path == "Name" else None,
                "sortIndex": 0 if path == "Name" else None,
                "sortable": True,
                "type": typ,
            }
            for path, label, typ, hidden in COLUMNS
        ]

    @route(f"{DATA}/<view_id>/results")
    def listview_results(
        self, request: Request, principal: str | None, version: str, name: str, view_id: str
    ) -> Any:
        self._version(version)  # type: ignore[attr-defined]
        view = self._view(name, view_id)
        try:
            limit = int(request.args.get("limit", 25))
            offset = int(request.args.get("offset", 0))
        except ValueError:
            raise HttpError(
                400, "INVALID_PARAMETER_VALUE", "limit and offset must be integers"
            ) from None
        if not 1 <= limit <= 2000 or offset < 0:
            raise HttpError(400, "INVALID_PARAMETER_VALUE", "limit must be 1..2000, offset >= 0")
        total, rows = run_soql(self.store, view.soql(), principal, include_deleted=False)  # type: ignore[attr-defined]
        page = rows[offset : offset + limit]
        records = [
            {"columns": [{"fieldNameOrPath": c[0], "value": _dig(r, c[0])} for c in COLUMNS]}
            for r in page
        ]
        return {
            "columns": self._columns(),
            "developerName": view.developer_name,
            "done": offset + limit >= total,
            "id": view.id,
            "label": view.label,
            "records": records,
            "size": len(records),
        }


def _dig(row: dict[str, Any], path: str) -> Any:
    node: Any = row
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node
