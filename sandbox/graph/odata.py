"""The OData pieces Graph's Outlook endpoints accept: Prefer, $select, $filter, $expand, paging.

Only the subset a sync client uses is understood; anything else in `$filter` is refused with a
400 rather than silently ignored, so a client never believes a filter was applied.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request

from .store import Item, invalid, render

DEFAULT_PAGE = 10  # Outlook collections page at 10 unless $top / odata.maxpagesize says more
MAX_PAGE = 1000


def arg(request: Request, name: str) -> str | None:
    """A query parameter, matched case-insensitively as Graph does (`startdatetime`)."""
    lname = name.lower()
    for key, value in request.args.items(multi=True):
        if key.lower() == lname:
            return value
    return None


def prefer(request: Request) -> dict[str, str]:
    """`Prefer: odata.maxpagesize=50, outlook.timezone="Pacific Standard Time"` → dict."""
    out: dict[str, str] = {}
    for header in request.headers.getlist("Prefer"):
        for part in header.split(","):
            if "=" in part:
                key, value = part.split("=", 1)
                out[key.strip().lower()] = value.strip().strip('"')
            elif part.strip():
                out[part.strip().lower()] = ""
    return out


def page_size(request: Request, default: int = DEFAULT_PAGE) -> int:
    raw = arg(request, "$top") or prefer(request).get("odata.maxpagesize")
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError as exc:
        raise invalid(f"Invalid page size '{raw}'.", "BadRequest") from exc
    if size < 1:
        raise invalid("The page size must be positive.", "BadRequest")
    return min(size, MAX_PAGE)


def select(request: Request) -> list[str] | None:
    raw = arg(request, "$select")
    return [s.strip() for s in raw.split(",") if s.strip()] if raw else None


_EQ = re.compile(r"^\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE)
_EXT_ANY = re.compile(
    r"^\s*singleValueExtendedProperties/any\(\s*(\w+)\s*:\s*\1/id\s+eq\s+'((?:[^']|'')*)'"
    r"(?:\s+and\s+\1/value\s+eq\s+'((?:[^']|'')*)')?\s*\)\s*$",
    re.IGNORECASE,
)
_CMP = re.compile(r"^\s*(\w+)\s+(ge|gt|le|lt)\s+(\S+)\s*$", re.IGNORECASE)


def ext_props(item: Item) -> dict[str, Item]:
    return item.setdefault("_ext", {})


def matcher(request: Request) -> Any:
    """A predicate for `$filter`: `prop eq '…'`, the extended-property `Any(…)`, `x ge/gt …`."""
    raw = arg(request, "$filter")
    if not raw:
        return lambda item: True
    clauses = re.split(r"\s+and\s+(?![^()]*\))", raw, flags=re.IGNORECASE)
    tests = []
    for clause in clauses:
        if m := _EXT_ANY.match(clause):
            pid, pval = m.group(2).replace("''", "'").lower(), m.group(3)
            value = pval.replace("''", "'") if pval is not None else None

            def ext_test(item: Item, pid: str = pid, value: str | None = value) -> bool:
                prop = ext_props(item).get(pid)
                return prop is not None and (value is None or prop["value"] == value)

            tests.append(ext_test)
        elif m := _EQ.match(clause):
            key, value = m.group(1), m.group(2).replace("''", "'")
            tests.append(lambda item, k=key, v=value: _lookup(item, k) == v)
        elif m := _CMP.match(clause):
            key, op, value = m.group(1), m.group(2).lower(), m.group(3).strip("'")
            tests.append(lambda item, k=key, o=op, v=value: _compare(_lookup(item, k), o, v))
        else:
            raise invalid(f"Invalid filter clause: {clause}", "ErrorInvalidUrlQueryFilter")
    return lambda item: all(t(item) for t in tests)


def _lookup(item: Item, key: str) -> Any:
    for k, v in item.items():
        if k.lower() == key.lower():
            return v
    return None


def _compare(left: Any, op: str, right: str) -> bool:
    if left is None:
        return False
    left_s, right_s = str(left).rstrip("Z"), right.rstrip("Z")
    return {
        "ge": left_s >= right_s,
        "gt": left_s > right_s,
        "le": left_s <= right_s,
        "lt": left_s < right_s,
    }[op]


def expand_ext(request: Request, item: Item, out: Item) -> Item:
    """`$expand=singleValueExtendedProperties($filter=id eq '…')` on a rendered item."""
    raw = arg(request, "$expand")
    if not raw or "singlevalueextendedproperties" not in raw.lower():
        return out
    ids = [m.lower() for m in re.findall(r"id\s+eq\s+'((?:[^']|'')*)'", raw, re.IGNORECASE)]
    props = [p for key, p in ext_props(item).items() if not ids or key in ids]
    if props:
        # Graph omits the collection entirely when no property matches the filter.
        out["singleValueExtendedProperties"] = [dict(p) for p in props]
    return out


def set_ext(item: Item, props: Any) -> None:
    if not isinstance(props, list):
        raise invalid("singleValueExtendedProperties must be a collection.", "RequestBodyRead")
    for prop in props:
        if not isinstance(prop, dict) or "id" not in prop:
            raise invalid("An extended property needs an id.", "RequestBodyRead")
        ext_props(item)[str(prop["id"]).lower()] = {
            "id": prop["id"],
            "value": prop.get("value"),
        }


def listing(
    request: Request, base_url: str, items: list[Item], default_page: int = DEFAULT_PAGE
) -> dict[str, Any]:
    """A plain collection page with an absolute `@odata.nextLink` (`$skip`) when more remain."""
    wanted = matcher(request)
    rows = [i for i in items if wanted(i)]
    size = page_size(request, default_page)
    skip = int(arg(request, "$skip") or 0)
    chosen = select(request)
    page = [expand_ext(request, i, render(i, chosen)) for i in rows[skip : skip + size]]
    body: dict[str, Any] = {
        "@odata.context": f"{base_url}/v1.0/$metadata#collection",
        "value": page,
    }
    if skip + size < len(rows):
        params = [(k, v) for k, v in request.args.items(multi=True) if k.lower() != "$skip"]
        if arg(request, "$top") is None:
            params.append(("$top", str(size)))
        params.append(("$skip", str(skip + size)))
        body["@odata.nextLink"] = f"{base_url}{request.path}?{urlencode(params)}"
    return body


def single(request: Request, item: Item) -> Item:
    return expand_ext(request, item, render(item, select(request)))
