"""FindItem (paged views, CalendarView expansion, restrictions) and SyncFolderItems.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/finditem-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendarview
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/syncfolderitems-operation
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from .calendar import FMT, OccurrenceRef, parse_utc
from .core import Context
from .folders import resolve_folder
from .items import ItemsMixin, utc_text
from .render import Shape, element_for_uri, extended_key, render_item
from .soap import EwsError, local, m, response, response_message, sub, t
from .store import Item, Mailbox

MAX_SYNC_CHANGES = 512


class FindingMixin(ItemsMixin):
    def op_FindItem(self, ctx: Context, op: ET.Element) -> ET.Element:
        shape = Shape.parse(op.find(m("ItemShape")))
        restriction = op.find(m("Restriction"))
        calendar_view = op.find(m("CalendarView"))
        paging = op.find(m("IndexedPageItemView"))
        msgs = []
        for ref in op.find(m("ParentFolderIds")) or []:
            try:
                folder = resolve_folder(ctx.box, ref)
                if calendar_view is not None:
                    if restriction is not None:
                        raise EwsError(
                            "ErrorInvalidRestriction",
                            "Restrictions are not allowed with a CalendarView.",
                        )
                    rows = self._calendar_view(ctx.box, folder.id, calendar_view)
                    offset, limit = 0, int(calendar_view.get("MaxEntriesReturned") or 0) or None
                else:
                    rows = [
                        i
                        for i in ctx.box.items.values()
                        if i.folder_id == folder.id and _matches(i, restriction)
                    ]
                    rows = _sorted(rows, op.find(m("SortOrder")))
                    offset = int(paging.get("Offset", "0")) if paging is not None else 0
                    limit = (
                        int(paging.get("MaxEntriesReturned", "0") or 0) if paging is not None else 0
                    )
                    limit = limit or None
            except EwsError as err:
                msgs.append(response_message("FindItem", err))
                continue
            if calendar_view is not None and limit is not None and len(rows) > limit:
                # Exchange refuses a CalendarView with more occurrences than asked for.
                msgs.append(
                    response_message(
                        "FindItem",
                        EwsError(
                            "ErrorCalendarViewRangeTooBig",
                            "The calendar view has more entries than MaxEntriesReturned.",
                        ),
                    )
                )
                continue
            page = rows[offset : offset + limit if limit else None]
            msg = response_message("FindItem")
            root = sub(
                msg,
                m("RootFolder"),
                IndexedPagingOffset=str(offset + len(page)),
                TotalItemsInView=str(len(rows)),
                IncludesLastItemInRange="true" if offset + len(page) >= len(rows) else "false",
            )
            items = sub(root, t("Items"))
            for row in page:
                if isinstance(row, OccurrenceRef):
                    items.append(self.render_occurrence(ctx.box, row, shape))
                else:
                    items.append(self.render_any(ctx.box, row, shape))
            msgs.append(msg)
        return response("FindItem", msgs)

    def _calendar_view(
        self, box: Mailbox, folder_id: str, view: ET.Element
    ) -> list[Item | OccurrenceRef]:
        try:
            start = parse_utc(utc_text(view.get("StartDate")))
            end = parse_utc(utc_text(view.get("EndDate")))
        except ValueError as exc:
            raise EwsError("ErrorInvalidRequest", "The CalendarView dates are invalid.") from exc
        if end < start:
            raise EwsError(
                "ErrorCalendarEndDateIsEarlierThanStartDate",
                "The end date is earlier than the start date.",
            )
        if end - start > dt.timedelta(days=2 * 365):
            raise EwsError(
                "ErrorCalendarViewRangeTooBig", "The calendar view range is longer than two years."
            )
        rows: list[tuple[dt.datetime, Item | OccurrenceRef]] = []
        for item in box.items.values():
            if item.folder_id != folder_id or item.kind != "CalendarItem":
                continue
            if "Recurrence" in item.fields:
                until = (end + dt.timedelta(days=2)).date()
                for occ in self.occurrences(box, item, until):
                    if occ.start < end and occ.end > start:
                        rows.append((occ.start, occ))
                continue
            if "Start" not in item.fields or "End" not in item.fields:
                continue
            item_start = parse_utc(item.fields["Start"].text)
            item_end = parse_utc(item.fields["End"].text)
            if item_start < end and (item_end > start or item_start == item_end >= start):
                rows.append((item_start, item))
        rows.sort(key=lambda pair: pair[0])
        return [row for _, row in rows]

    def op_SyncFolderItems(self, ctx: Context, op: ET.Element) -> ET.Element:
        shape = Shape.parse(op.find(m("ItemShape")))
        try:
            max_changes = int(op.findtext(m("MaxChangesReturned")) or "0")
        except ValueError:
            max_changes = 0
        if not 1 <= max_changes <= MAX_SYNC_CHANGES:
            # The schema bounds MaxChangesReturned to 1..512: a schema validation fault.
            raise EwsError(
                "ErrorSchemaValidation",
                "The request failed schema validation: MaxChangesReturned must be between "
                "1 and 512.",
                fault=True,
            )
        try:
            sync_folder = op.find(m("SyncFolderId"))
            if sync_folder is None or not len(sync_folder):
                raise EwsError("ErrorInvalidRequest", "SyncFolderId is required.")
            folder = resolve_folder(ctx.box, sync_folder[0])
            state = (op.findtext(m("SyncState")) or "").strip()
            watermark = self.sync_states.read(ctx.box, folder.id, state) if state else 0
        except EwsError as err:
            # Exchange's error message still carries an empty SyncState and the range flag.
            failed = response_message("SyncFolderItems", err)
            sub(failed, m("SyncState"))
            sub(failed, m("IncludesLastItemInRange"), "true")
            return response("SyncFolderItems", [failed])
        ignored = {ref.get("Id") for ref in op.find(m("Ignore")) or []}
        changes = self._changes_since(ctx.box, folder.id, watermark, ignored)
        page = changes[:max_changes]
        last = len(page) == len(changes)
        new_watermark = ctx.box.seq if last else page[-1][0]
        msg = response_message("SyncFolderItems")
        sub(msg, m("SyncState"), self.sync_states.issue(ctx.box, folder.id, new_watermark))
        sub(msg, m("IncludesLastItemInRange"), "true" if last else "false")
        holder = sub(msg, m("Changes"))
        for _, kind, payload in page:
            change = sub(holder, t(kind))
            if kind == "Delete":
                sub(change, t("ItemId"), Id=payload)
            elif kind == "ReadFlagChange":
                assert isinstance(payload, Item)
                sub(change, t("ItemId"), Id=payload.id, ChangeKey=payload.change_key)
                is_read = payload.fields.get("IsRead")
                sub(change, t("IsRead"), (is_read.text if is_read is not None else "false"))
            else:
                assert isinstance(payload, Item)
                if payload.kind == "CalendarItem":
                    change.append(self.render_calendar_item(ctx.box, payload, shape))
                else:
                    change.append(render_item(ctx.box, payload, shape))
        return response("SyncFolderItems", [msg])

    @staticmethod
    def _changes_since(
        box: Mailbox, folder_id: str, watermark: int, ignored: set[str | None]
    ) -> list[tuple[int, str, Item | str]]:
        """(seq, Create | Update | ReadFlagChange | Delete, item or id) after the watermark,
        one per item (its latest state), in the order they happened."""
        out: list[tuple[int, str, Item | str]] = []
        for item in box.items.values():
            if item.folder_id != folder_id or item.seq <= watermark or item.id in ignored:
                continue
            if item.created_seq > watermark:
                kind = "Create"
            else:
                kind = "ReadFlagChange" if item.read_flag_only else "Update"
            out.append((item.seq, kind, item))
        for stone in box.tombstones:
            if stone.folder_id == folder_id and stone.deleted_seq > watermark >= stone.created_seq:
                out.append((stone.deleted_seq, "Delete", stone.item_id))
        out.sort(key=lambda row: row[0])
        return out


# -- restrictions -------------------------------------------------------------------------

_COMPARE = {
    "IsEqualTo": lambda a, b: a == b,
    "IsNotEqualTo": lambda a, b: a != b,
    "IsGreaterThan": lambda a, b: a > b,
    "IsGreaterThanOrEqualTo": lambda a, b: a >= b,
    "IsLessThan": lambda a, b: a < b,
    "IsLessThanOrEqualTo": lambda a, b: a <= b,
}


def _value(item: Item, path: ET.Element) -> str | None:
    tag = local(path.tag)
    if tag == "ExtendedFieldURI":
        prop = item.extended.get(extended_key(path))
        return prop.findtext(t("Value")) if prop is not None else None
    name = element_for_uri(path.get("FieldURI", ""))
    computed = {
        "DateTimeCreated": item.created.strftime(FMT),
        "LastModifiedTime": item.modified.strftime(FMT),
        "DateTimeReceived": item.created.strftime(FMT),
        "ItemClass": {"Message": "IPM.Note"}.get(item.kind, f"IPM.{item.kind}"),
    }
    found = item.fields.get(name)
    if name == "Categories" and found is not None:
        return "\n".join(s.text or "" for s in found)
    if found is not None:
        return found.text or ""
    return computed.get(name)


def _matches(item: Item, restriction: ET.Element | None) -> bool:
    if restriction is None or not len(restriction):
        return True
    return _eval(item, restriction[0])


def _eval(item: Item, cond: ET.Element) -> bool:
    tag = local(cond.tag)
    if tag == "And":
        return all(_eval(item, c) for c in cond)
    if tag == "Or":
        return any(_eval(item, c) for c in cond)
    if tag == "Not":
        return not _eval(item, cond[0])
    path = next((c for c in cond if local(c.tag).endswith("FieldURI")), None)
    if path is None:
        raise EwsError("ErrorInvalidRestriction", f"The restriction {tag} has no property.")
    value = _value(item, path)
    if tag == "Exists":
        return value is not None
    if tag == "Contains":
        const = cond.find(t("Constant"))
        wanted = (const.get("Value", "") if const is not None else "").lower()
        if value is None:
            return False
        if path.get("FieldURI") == "item:Categories":
            return wanted in value.lower().split("\n")
        return wanted in value.lower()
    if tag in _COMPARE:
        const = cond.find(f"{t('FieldURIOrConstant')}/{t('Constant')}")
        if const is None or value is None:
            return tag == "IsNotEqualTo" and value is None
        wanted = const.get("Value", "")
        if path.get("FieldURI") == "item:Categories":
            return wanted.lower() in value.lower().split("\n")
        if _is_datetime(wanted) and _is_datetime(value):
            return _COMPARE[tag](utc_text(value), utc_text(wanted))
        return _COMPARE[tag](value.lower(), wanted.lower())
    raise EwsError("ErrorInvalidRestriction", f"The restriction {tag} is not emulated.")


def _is_datetime(text: str) -> bool:
    try:
        utc_text(text)
    except ValueError:
        return False
    return "T" in text


def _sorted(rows: list[Item], order: ET.Element | None) -> list[Item]:
    for field_order in reversed(list(order) if order is not None else []):
        path = next((c for c in field_order if local(c.tag).endswith("FieldURI")), None)
        if path is None:
            continue
        rows = sorted(
            rows,
            key=lambda i, p=path: _value(i, p) or "",
            reverse=field_order.get("Order") == "Descending",
        )
    return rows
