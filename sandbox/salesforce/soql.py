"""SOQL: the parse tree from soql_grammar turned into a query plan, checked against the schema,
and run over the store.

Errors carry Salesforce's codes: MALFORMED_QUERY for syntax, INVALID_FIELD / INVALID_TYPE
for names, so a client sees what a real org would tell it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .schema import Field, SObject
from .soql_grammar import PARSER
from .values import ValidationError, parse_datetime, render, to_18

Getter = Callable[[dict[str, Any]], Any]


def _malformed(message: str) -> ValidationError:
    return ValidationError("MALFORMED_QUERY", message)


@dataclass
class Path:
    parts: list[str]
    column: int


@dataclass
class Query:
    sobject: str
    select: list[Path]
    count: Path | bool | None = False  # False: no COUNT; None: COUNT(); Path: COUNT(field)
    scope: str | None = None
    where: Any = None
    order: list[tuple[Path, bool, bool]] = field(default_factory=list)  # path, desc, nulls_first
    limit: int | None = None
    offset: int = 0


def parse(text: str) -> Query:
    try:
        tree = PARSER.parse(text)
    except UnexpectedInput as err:
        raise _syntax_error(text, err) from None
    children = tree.children
    select, sobject = children[0], children[1]
    q = Query(sobject=str(sobject), select=[])
    for item in select.children:
        if item.data == "count":
            if q.count is not False:
                raise _malformed("only one COUNT() allowed")
            q.count = _path(item.children[0]) if item.children else None
        else:
            q.select.append(_path(item))
    if q.count is not False and q.select:
        raise _malformed("Grouped field should not be aggregated / COUNT() must be used alone")
    for part in children[2:]:
        if part.data == "scope":
            q.scope = str(part.children[0]).lower()
        elif part.data == "where":
            q.where = _cond(part.children[0])
        elif part.data == "order":
            for item in part.children:
                desc = any(isinstance(c, Token) and c.upper() == "DESC" for c in item.children)
                nulls = [c for c in item.children if isinstance(c, Tree) and c.data == "nulls"]
                nulls_first = (str(nulls[0].children[0]).upper() == "FIRST") if nulls else not desc
                q.order.append((_path(item.children[0]), desc, nulls_first))
        elif part.data == "limit":
            q.limit = int(part.children[0])
        elif part.data == "offset":
            q.offset = int(part.children[0])
    if q.offset > 2000:
        raise ValidationError("NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000")
    return q


def _syntax_error(text: str, err: UnexpectedInput) -> ValidationError:
    if isinstance(err, UnexpectedEOF) or (
        isinstance(err, UnexpectedToken) and err.token.type == "$END"
    ):
        what = "unexpected end of query"
    elif isinstance(err, UnexpectedToken):
        what = f"unexpected token: '{err.token}'"
    elif isinstance(err, UnexpectedCharacters):
        what = f"unexpected token: '{text[err.pos_in_stream : err.pos_in_stream + 10].split()[0]}'"
    else:
        what = "malformed query"
    line = getattr(err, "line", 1) or 1
    column = getattr(err, "column", 1) or 1
    return _malformed(f"{text[:80]}\nERROR at Row:{line}:Column:{column}\n{what}")


def _path(tree: Tree) -> Path:
    tokens = [t for t in tree.children if isinstance(t, Token)]
    return Path([str(t) for t in tokens], tokens[0].column or 0)


_OPS = {"<>": "!="}


def _cond(tree: Tree) -> Any:
    kind = tree.data
    if kind in ("and_", "or_"):
        return (kind[:-1], [_cond(c) for c in tree.children])
    if kind == "not_":
        return ("not", _cond(tree.children[0]))
    path = _path(tree.children[0])
    if kind == "compare":
        op = str(tree.children[1])
        return ("cmp", path, _OPS.get(op, op), _value(tree.children[2]))
    if kind in ("in_", "not_in"):
        return ("in", path, [_value(v) for v in tree.children[1:]], kind == "not_in")
    return ("like", path, _value(tree.children[1]))


def _value(tree: Tree) -> tuple[str, Any]:
    kind = tree.data
    raw = str(tree.children[0]) if tree.children else ""
    if kind == "string":
        body = raw[1:-1]
        return ("str", re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), body))
    if kind == "number":
        return ("num", float(raw))
    if kind == "datetime":
        return ("datetime", parse_datetime(raw))
    if kind == "date":
        return ("date", date.fromisoformat(raw))
    if kind in ("true", "false"):
        return ("bool", kind == "true")
    if kind == "null":
        return ("null", None)
    if kind == "date_n":
        return ("range", (raw.upper(), int(tree.children[1])))
    return ("range", (raw.upper(), 0))


def literal_range(name: str, n: int, today: date) -> tuple[date, date]:
    """[first day, day after last) of a date literal, in days of the querying user's zone."""
    one = timedelta(days=1)
    if name == "TODAY":
        return today, today + one
    if name == "YESTERDAY":
        return today - one, today
    if name == "TOMORROW":
        return today + one, today + 2 * one
    if name == "LAST_N_DAYS":  # includes today: LAST_N_DAYS:1 is yesterday and today
        return today - n * one, today + one
    # NEXT_N_DAYS: from 00:00 of the next day, for n days
    return today + one, today + (n + 1) * one


# -- compiling against the schema ----------------------------------------------------------


class Planner:
    """Resolves names for one query; `sobjects` maps a name to its SObject (or None)."""

    def __init__(
        self,
        lookup: Callable[[str], SObject | None],
        find: Callable[[str], tuple[str, dict[str, Any]] | None],
        now: datetime,
        principal: str | None,
        zone: tzinfo = UTC,
    ) -> None:
        self.lookup = lookup
        self.find = find
        # Date literals are evaluated in the time zone of the user running the query (SOQL
        # "Date Formats and Date Literals"), so TODAY starts at that user's local midnight.
        self.zone = zone
        self.today = now.astimezone(zone).date()
        self.principal = principal

    def root(self, name: str) -> SObject:
        obj = self.lookup(name)
        if obj is None:
            raise ValidationError(
                "INVALID_TYPE",
                f"sObject type '{name}' is not supported. If you are attempting to use a custom "
                "object, be sure to append the '__c' after the entity name.",
            )
        return obj

    def field(self, obj: SObject, path: Path) -> tuple[Getter, Field, list[str]]:
        """A getter for a (possibly dotted) path, its final field, and canonical names."""
        *rels, last = path.parts
        getters: list[tuple[str, list[str]]] = []  # (reference field name, target types)
        current = [obj]
        names = []
        for rel in rels:
            ref = None
            for o in current:
                ref = o.relationship(rel)
                if ref:
                    break
            if ref is None:
                raise self._no_column(current[0].name, path, rel)
            targets = [t for t in ref.reference_to if self.lookup(t)]
            getters.append((ref.name, targets))
            names.append(ref.relationship or rel)
            current = [o for o in (self.lookup(t) for t in targets) if o]
        fld = next((o.lookup(last) for o in current if o.lookup(last)), None)
        if fld is None or not fld.queryable:
            raise self._no_column(current[0].name, path, last)
        names.append(fld.name)

        def get(rec: dict[str, Any]) -> Any:
            for ref_name, _ in getters:
                rid = rec.get(ref_name)
                found = self.find(rid) if rid else None
                if found is None:
                    return None
                rec = found[1]
            return rec.get(fld.name)

        return get, fld, names

    def _no_column(self, entity: str, path: Path, name: str) -> ValidationError:
        return ValidationError(
            "INVALID_FIELD",
            f"ERROR at Row:1:Column:{path.column}\nNo such column '{name}' on entity "
            f"'{entity}'. If you are attempting to use a custom field, be sure to append the "
            "'__c' after the custom field name.",
        )

    def predicate(self, obj: SObject, node: Any) -> Callable[[dict[str, Any]], bool]:
        kind = node[0]
        if kind in ("and", "or"):
            parts = [self.predicate(obj, n) for n in node[1]]
            combine = all if kind == "and" else any
            return lambda r: combine(p(r) for p in parts)
        if kind == "not":
            inner = self.predicate(obj, node[1])
            return lambda r: not inner(r)
        get, fld, _ = self.field(obj, node[1])
        if kind == "like":
            if node[2][0] != "str":
                raise _malformed(f"invalid LIKE pattern for field {fld.name}")
            rx = _like(node[2][1])
            return lambda r: isinstance(v := get(r), str) and rx.match(v) is not None
        if kind == "in":
            values = [self._literal(fld, v, "IN") for v in node[2]]
            keys = {_key(v) for v in values}
            negate = node[3]
            return lambda r: (_key(get(r)) in keys) != negate
        op, value = node[2], node[3]
        if value[0] == "range":
            return self._range(fld, get, op, value[1])
        lit = self._literal(fld, value, op)
        return lambda r: _compare(get(r), op, lit)

    def _literal(self, fld: Field, value: tuple[str, Any], op: str) -> Any:
        kind, v = value
        t = fld.type
        if kind == "null":
            if op not in ("=", "!=", "IN"):
                raise _malformed(f"invalid operator on null for field {fld.name}")
            return None
        wants = {
            "date": "date",
            "datetime": "datetime",
            "boolean": "bool",
            "int": "num",
            "double": "num",
        }.get(t, "str")
        if kind == "range" and wants in ("date", "datetime"):
            return v
        if kind != wants:
            quote = (
                "should be enclosed in quotes"
                if wants == "str"
                else "should not be enclosed in quotes"
            )
            label = {
                "str": "string",
                "num": "number",
                "bool": "boolean",
                "datetime": "dateTime",
            }.get(wants, wants)
            raise ValidationError(
                "INVALID_FIELD",
                f"value of filter criterion for field '{fld.name}' must be of type {label} "
                f"and {quote}",
            )
        if t in ("id", "reference"):
            rid = to_18(v)
            if rid is None:
                raise ValidationError("INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {v}")
            return rid
        return v

    def _range(
        self, fld: Field, get: Getter, op: str, spec: tuple[str, int]
    ) -> Callable[..., bool]:
        if fld.type not in ("date", "datetime"):
            raise ValidationError(
                "INVALID_FIELD",
                f"value of filter criterion for field '{fld.name}' must be of type "
                "string and should be enclosed in quotes",
            )
        lo, hi = literal_range(spec[0], spec[1], self.today)
        lo_v: Any = lo
        hi_v: Any = hi
        if fld.type == "datetime":
            lo_v, hi_v = (datetime.combine(d, time(), self.zone).astimezone(UTC) for d in (lo, hi))

        def test(r: dict[str, Any]) -> bool:
            v = get(r)
            if v is None:
                return op == "!="
            inside = lo_v <= v < hi_v
            return {
                "=": inside,
                "!=": not inside,
                "<": v < lo_v,
                "<=": v < hi_v,
                ">": v >= hi_v,
                ">=": v >= lo_v,
            }[op]

        return test


def _key(v: Any) -> Any:
    # SOQL compares text case-insensitively; ids are already canonical 18-char forms.
    return v.lower() if isinstance(v, str) else v


def _compare(actual: Any, op: str, lit: Any) -> bool:
    if lit is None:
        return (actual is None) == (op == "=")
    if actual is None:
        return op == "!="
    a, b = _key(actual), _key(lit)
    if isinstance(a, bool) or isinstance(b, bool):
        a, b = bool(a), bool(b)
    try:
        return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    except TypeError:
        return False


def _like(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
        i += 1
    return re.compile("^" + "".join(out) + "$", re.IGNORECASE | re.DOTALL)


# -- running -------------------------------------------------------------------------------


def user_zone(store: Any, principal: str | None) -> tzinfo:
    """The querying user's TimeZoneSidKey (the first user's for a test-side query)."""
    user = store.records["User"].get(principal or "")
    if user is None:
        users = store.users()
        user = users[0] if users else None
    key = user.get("TimeZoneSidKey") if user else None
    return ZoneInfo(key) if key else UTC


def run(
    store: Any, text: str, principal: str | None, *, include_deleted: bool
) -> tuple[int, list[dict[str, Any]]]:
    """(totalSize, rendered records) for a SOQL string."""
    q = parse(text)
    planner = Planner(
        store.sobject, store.find, store.now(), principal, user_zone(store, principal)
    )
    obj = planner.root(q.sobject)
    selected = [planner.field(obj, p) for p in q.select]
    seen = set()
    for _, _, names in selected:
        key = ".".join(names).lower()
        if key in seen:
            raise _malformed(f"duplicate field selected: {'.'.join(names)}")
        seen.add(key)
    where = planner.predicate(obj, q.where) if q.where is not None else None
    if q.scope not in (None, "mine", "everything"):
        raise _malformed(f"unsupported scope: {q.scope}")
    rows = []
    for rec in store.records[obj.name].values():
        if rec["IsDeleted"] and (not include_deleted or rec.get("_no_bin")):
            continue
        if q.scope == "mine" and rec.get("OwnerId") != principal:
            continue
        if where is None or where(rec):
            rows.append(rec)
    for path, desc, nulls_first in reversed(q.order):
        get, _, _ = planner.field(obj, path)
        present = [r for r in rows if get(r) is not None]
        missing = [r for r in rows if get(r) is None]
        present.sort(key=lambda r: _key(get(r)), reverse=desc)
        rows = missing + present if nulls_first else present + missing
    rows = rows[q.offset :]
    if q.limit is not None:
        rows = rows[: q.limit]
    if q.count is None:
        return len(rows), []
    if q.count is not False:
        get, _, _ = planner.field(obj, q.count)
        n = sum(1 for r in rows if get(r) is not None)
        return 1, [{"attributes": {"type": "AggregateResult"}, "expr0": n}]
    return len(rows), [_render_row(store, obj.name, r, selected, planner) for r in rows]


def _render_row(
    store: Any, sobject: str, rec: dict[str, Any], selected: list[Any], planner: Planner
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "attributes": {"type": sobject, "url": store.record_url(sobject, rec["Id"])}
    }
    for _get, fld, names in selected:
        if len(names) == 1:
            value = rec.get(fld.name)
            out[fld.name] = (
                store.record_url(sobject, rec["Id"]) + f"/{fld.name}"
                if fld.type == "base64" and value is not None
                else render(value)
            )
            continue
        # Relationship paths nest: {"Owner": {"attributes": …, "Name": …}}
        target, node = rec, out
        for i, rel in enumerate(names[:-1]):
            obj = planner.lookup(sobject if i == 0 else node.get("attributes", {}).get("type", ""))
            ref = obj.relationship(rel) if obj else None
            rid = target.get(ref.name) if ref and target else None
            found = store.find(rid) if rid else None
            if found is None:
                node[rel] = None
                break
            child = node.get(rel) or {
                "attributes": {"type": found[0], "url": store.record_url(found[0], rid)}
            }
            node[rel] = child
            target, node = found[1], child
        else:
            node[names[-1]] = render(target.get(names[-1]))
    return out
