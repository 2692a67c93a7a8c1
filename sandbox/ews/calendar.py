"""Recurring series: occurrences, exceptions (modified occurrences), deleted occurrences.

A master keeps its Recurrence; an occurrence is computed (its own opaque ItemId, registered
so GetItem / UpdateItem / DeleteItem accept it, and OccurrenceItemId with InstanceIndex);
updating an occurrence makes it an exception (an Item with `master_id`), deleting one adds
it to the master's DeletedOccurrences. Masters render FirstOccurrence, LastOccurrence,
ModifiedOccurrences and DeletedOccurrences as Exchange does.
https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/calendars-and-ews-in-exchange
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from .folders import FoldersMixin
from .recurrence import MAX_OCCURRENCES, occurrence_dates, zone
from .render import Shape, render_item
from .soap import EwsError, el, sub, t
from .store import Item, Mailbox

FMT = "%Y-%m-%dT%H:%M:%SZ"


def parse_utc(text: str | None) -> dt.datetime:
    return dt.datetime.strptime(text or "", FMT).replace(tzinfo=dt.UTC)


@dataclass
class OccurrenceRef:
    master: Item
    index: int
    original_start: dt.datetime
    start: dt.datetime
    end: dt.datetime
    occurrence_id: str


class CalendarMixin(FoldersMixin):
    def series_zone_name(self, box: Mailbox, item: Item) -> str:
        tz_el = item.fields.get("StartTimeZone")
        if tz_el is not None and tz_el.get("Id"):
            return tz_el.get("Id", "")
        tz_el = item.fields.get("MeetingTimeZone")
        if tz_el is not None and tz_el.get("TimeZoneName"):
            return tz_el.get("TimeZoneName", "")
        return box.time_zone

    def validate_series(self, box: Mailbox, item: Item) -> None:
        if "Start" not in item.fields or "End" not in item.fields:
            raise EwsError("ErrorInvalidRecurrence", "A recurring item needs Start and End.")
        zone(self.series_zone_name(box, item))
        first = next(iter(self.occurrences(box, item, until=dt.date.max)), None)
        if first is None:
            raise EwsError(
                "ErrorRecurrenceHasNoOccurrence",
                "The recurrence pattern has no occurrence in its range.",
            )

    def occurrences(self, box: Mailbox, master: Item, until: dt.date) -> list[OccurrenceRef]:
        """Every occurrence up to `until`, deleted ones left out, exceptions at their times."""
        tz = zone(self.series_zone_name(box, master))
        start = parse_utc(master.fields["Start"].text)
        duration = parse_utc(master.fields["End"].text) - start
        wall = start.astimezone(tz)
        out = []
        for index, day in occurrence_dates(master.fields["Recurrence"], until):
            if index > MAX_OCCURRENCES:
                break
            if index in master.deleted_occurrences:
                continue
            local_start = dt.datetime.combine(day, wall.time(), tzinfo=tz)
            original = local_start.astimezone(dt.UTC)
            occ_start, occ_end = original, original + duration
            exception = master.exceptions.get(index)
            if exception is not None:
                occ_start = parse_utc(exception.fields["Start"].text)
                occ_end = parse_utc(exception.fields["End"].text)
            out.append(
                OccurrenceRef(
                    master,
                    index,
                    original,
                    occ_start,
                    occ_end,
                    exception.id if exception else self._occurrence_id(box, master, index),
                )
            )
        return out

    def _occurrence_id(self, box: Mailbox, master: Item, index: int) -> str:
        digest = hashlib.sha256(f"{master.id}:{index}".encode()).digest()
        occ_id = "AAMkA" + base64.b64encode(b"\x07" + digest[:41]).decode()
        box.occurrence_ids[occ_id] = (master.id, index)
        return occ_id

    def occurrence_by_id(self, box: Mailbox, occ_id: str) -> OccurrenceRef | None:
        entry = box.occurrence_ids.get(occ_id)
        if entry is None:
            exc = next(
                (e for i in box.items.values() for e in i.exceptions.values() if e.id == occ_id),
                None,
            )
            if exc is None:
                return None
            entry = (exc.master_id, exc.instance_index)
        master = box.items.get(entry[0])
        if master is None:
            return None
        return self.occurrence_by_index(box, master, entry[1])

    def occurrence_by_index(self, box: Mailbox, master: Item, index: int) -> OccurrenceRef:
        if "Recurrence" not in master.fields:
            raise EwsError(
                "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
                "The item is not a recurring master.",
            )
        if index in master.deleted_occurrences:
            raise EwsError(
                "ErrorCalendarOccurrenceIsDeletedFromRecurrence",
                "The occurrence was deleted from the recurrence.",
            )
        for occ in self.occurrences(box, master, until=dt.date.max):
            if occ.index == index:
                return occ
            if occ.index > index:
                break
        raise EwsError(
            "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
            "The occurrence index is out of the recurrence range.",
        )

    def make_exception(self, box: Mailbox, occ: OccurrenceRef) -> Item:
        master = occ.master
        existing = master.exceptions.get(occ.index)
        if existing is not None:
            return existing
        fields = master.copy_fields()
        fields.pop("Recurrence", None)
        fields["Start"] = el(t("Start"), occ.start.strftime(FMT))
        fields["End"] = el(t("End"), occ.end.strftime(FMT))
        exception = Item(
            id=occ.occurrence_id,
            change_key=master.change_key,  # what the occurrence was rendered with
            folder_id=master.folder_id,
            kind="CalendarItem",
            fields=fields,
            extended={k: copy.deepcopy(v) for k, v in master.extended.items()},
            created=master.created,
            modified=self.now(),
            seq=master.seq,
            created_seq=master.created_seq,
            uid=master.uid,
            master_id=master.id,
            instance_index=occ.index,
        )
        exception.history.append((exception.change_key, set()))
        master.exceptions[occ.index] = exception
        return exception

    def series_of(self, box: Mailbox, item: Item) -> Item:
        return box.items.get(item.master_id, item) if item.master_id else item

    def delete_occurrence(self, box: Mailbox, occ: OccurrenceRef) -> None:
        master = occ.master
        master.exceptions.pop(occ.index, None)
        master.deleted_occurrences.add(occ.index)
        self._written(box, master, {"DeletedOccurrences"})  # type: ignore[attr-defined]

    # -- Python API: a user editing one occurrence in Outlook -----------------------------

    def modify_occurrence(
        self,
        smtp: str,
        master_id: str,
        index: int,
        *,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        subject: str | None = None,
    ) -> Item:
        with self.lock:
            box = self.mailbox(smtp)  # type: ignore[attr-defined]
            occ = self.occurrence_by_index(box, box.items[master_id], index)
            exception = self.make_exception(box, occ)
            changed = set()
            for name, value in (("Start", start), ("End", end)):
                if value is not None:
                    exception.fields[name] = el(t(name), value.astimezone(dt.UTC).strftime(FMT))
                    changed.add(name)
            if subject is not None:
                exception.fields["Subject"] = el(t("Subject"), subject)
                changed.add("Subject")
            self._written(box, exception, changed)  # type: ignore[attr-defined]
            self._written(box, occ.master, {"ModifiedOccurrences"})  # type: ignore[attr-defined]
            return exception

    def delete_occurrence_as_user(self, smtp: str, master_id: str, index: int) -> None:
        with self.lock:
            box = self.mailbox(smtp)  # type: ignore[attr-defined]
            self.delete_occurrence(box, self.occurrence_by_index(box, box.items[master_id], index))

    # -- rendering ----------------------------------------------------------------------

    def render_calendar_item(self, box: Mailbox, item: Item, shape: Shape) -> ET.Element:
        if item.master_id:  # an exception fetched by its id
            occ = self.occurrence_by_id(box, item.id)
            if occ is not None:
                return self.render_occurrence(box, occ, shape)
        out = render_item(box, item, shape)
        if "Recurrence" not in item.fields:
            return out
        occurrences = self.occurrences(box, item, until=dt.date.max)
        if shape.wants("IsRecurring"):
            _replace(out, "IsRecurring", "true")
        if occurrences and shape.wants("FirstOccurrence"):
            _occurrence_info(out, "FirstOccurrence", occurrences[0])
        if occurrences and shape.wants("LastOccurrence"):
            _occurrence_info(out, "LastOccurrence", occurrences[-1])
        if item.exceptions and shape.wants("ModifiedOccurrences"):
            holder = sub(out, t("ModifiedOccurrences"))
            for occ in occurrences:
                if occ.index in item.exceptions:
                    _occurrence_info(holder, "Occurrence", occ)
        if item.deleted_occurrences and shape.wants("DeletedOccurrences"):
            holder = sub(out, t("DeletedOccurrences"))
            tz = zone(self.series_zone_name(box, item))
            wall = parse_utc(item.fields["Start"].text).astimezone(tz)
            for index, day in occurrence_dates(item.fields["Recurrence"], dt.date.max):
                if index in item.deleted_occurrences:
                    start = dt.datetime.combine(day, wall.time(), tzinfo=tz).astimezone(dt.UTC)
                    sub(sub(holder, t("DeletedOccurrence")), t("Start"), start.strftime(FMT))
                if index >= max(item.deleted_occurrences):
                    break
        return out

    def render_occurrence(self, box: Mailbox, occ: OccurrenceRef, shape: Shape) -> ET.Element:
        exception = occ.master.exceptions.get(occ.index)
        base = exception or occ.master
        view = copy.copy(base)
        view.fields = {k: v for k, v in base.fields.items() if k != "Recurrence"}
        view.fields["Start"] = el(t("Start"), occ.start.strftime(FMT))
        view.fields["End"] = el(t("End"), occ.end.strftime(FMT))
        view.id = occ.occurrence_id
        view.change_key = exception.change_key if exception else occ.master.change_key
        out = render_item(box, view, shape)
        _replace(out, "CalendarItemType", "Exception" if exception else "Occurrence")
        _replace(out, "IsRecurring", "true")
        if shape.wants("RecurrenceId"):
            _replace(out, "RecurrenceId", occ.original_start.strftime(FMT))
        return out


def _replace(parent: ET.Element, name: str, value: str) -> None:
    found = parent.find(t(name))
    if found is None:
        found = sub(parent, t(name))
    found.text = value


def _occurrence_info(parent: ET.Element, tag: str, occ: OccurrenceRef) -> None:
    holder = sub(parent, t(tag))
    sub(holder, t("ItemId"), Id=occ.occurrence_id, ChangeKey=occ.master.change_key)
    sub(holder, t("Start"), occ.start.strftime(FMT))
    sub(holder, t("End"), occ.end.strftime(FMT))
    sub(holder, t("OriginalStart"), occ.original_start.strftime(FMT))
