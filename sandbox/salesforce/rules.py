"""Per-object behaviour Salesforce applies on save: defaults, derived fields, side records.

Kept apart from the generic store so each documented rule sits next to its object:
Task.IsClosed from Status, Event times kept consistent, EmailMessage junction ids becoming
EmailMessageRelation rows (plus the Email task), ContentVersion creating its document,
invitee EventRelations creating the invitee's child Event.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import activities
from .schema import TASK_CLOSED_STATUSES
from .values import ValidationError

if TYPE_CHECKING:
    from .store import Record, Store

_DEFAULTS: dict[str, dict[str, Any]] = {
    "Task": {
        "Status": "Not Started",
        "Priority": "Normal",
        "TaskSubtype": "Task",
        "IsReminderSet": False,
        "IsArchived": False,
        "IsRecurrence": False,
    },
    "Event": {
        "IsAllDayEvent": False,
        "ShowAs": "Busy",
        "IsPrivate": False,
        "IsChild": False,
        "IsGroupEvent": False,
        "IsReminderSet": False,
        "IsArchived": False,
        "EventSubtype": "Event",
        "IsRecurrence": False,
    },
    "Lead": {"Status": "Open - Not Contacted", "IsConverted": False},
    "User": {"IsActive": True, "TimeZoneSidKey": "America/Los_Angeles"},
    "EventRelation": {"IsInvitee": True, "IsParent": False, "IsWhat": False, "Status": "New"},
    "TaskRelation": {"IsWhat": False},
    "EmailMessage": {"Status": "3", "Incoming": False},
    "ContentVersion": {"IsLatest": True},
    "ContentDocumentLink": {"ShareType": "V", "Visibility": "AllUsers"},
}


def on_write(store: Store, sobject: str, rec: Record, changed: set[str], *, creating: bool) -> None:
    if creating:
        for key, value in _DEFAULTS.get(sobject, {}).items():
            if rec.get(key) is None:
                rec[key] = value
    if sobject in ("Contact", "Lead", "User"):
        rec["Name"] = " ".join(p for p in (rec.get("FirstName"), rec.get("LastName")) if p)
    if sobject == "User" and not rec.get("Alias"):
        rec["Alias"] = ((rec.get("FirstName") or "")[:1] + (rec.get("LastName") or ""))[:8]
    if sobject == "User" and "TimeZoneSidKey" in changed:
        _time_zone(rec)
    if sobject == "Task":
        _task(store, rec)
    elif sobject == "Event":
        _event(rec, changed, creating)
    elif sobject == "ContentVersion" and not rec.get("Title"):
        rec["Title"] = (rec.get("PathOnClient") or "").rsplit(".", 1)[0]
    elif sobject in activities.RELATION_TABLES:
        activities.on_relation_write(store, sobject, rec, changed, creating=creating)
    if sobject in ("Task", "Event"):
        activities.check_activity_write(store, sobject, rec, changed)
        rec["AccountId"] = account_of(store, rec)


def _time_zone(rec: Record) -> None:
    """TimeZoneSidKey is a restricted picklist of IANA zone ids."""
    try:
        ZoneInfo(rec["TimeZoneSidKey"] or "")
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"Time Zone: bad value for restricted picklist field: {rec['TimeZoneSidKey']}",
            ["TimeZoneSidKey"],
        ) from None


def _task(store: Store, rec: Record) -> None:
    closed = rec["Status"] in TASK_CLOSED_STATUSES
    if closed and not rec.get("IsClosed"):
        rec["CompletedDateTime"] = store._tick()
    if not closed:
        rec["CompletedDateTime"] = None
    rec["IsClosed"] = closed


def account_of(store: Store, rec: Record) -> str | None:
    """Event/Task.AccountId: the What's account, else the contact Who's account."""
    what = rec.get("WhatId")
    if what and what.startswith("001"):
        return what
    if what and what.startswith("006"):
        opportunity = store.records["Opportunity"].get(what)
        return opportunity.get("AccountId") if opportunity else None
    who = rec.get("WhoId")
    if who and who.startswith("003"):
        contact = store.records["Contact"].get(who)
        return contact.get("AccountId") if contact else None
    return None


def _event(rec: Record, changed: set[str], creating: bool) -> None:
    """Salesforce keeps StartDateTime/EndDateTime/DurationInMinutes/ActivityDate agreeing."""
    if "ActivityDateTime" in changed and "StartDateTime" not in changed:
        rec["StartDateTime"] = rec["ActivityDateTime"]
    if rec["IsAllDayEvent"]:
        day = rec.get("ActivityDate")
        if (
            "ActivityDate" not in changed
            and rec.get("StartDateTime")
            and "StartDateTime" in changed
        ):
            day = rec["StartDateTime"].date()
        if day is None:
            raise ValidationError(
                "REQUIRED_FIELD_MISSING",
                "Required fields are missing: [ActivityDate]",
                ["ActivityDate"],
            )
        days = 1
        if "EndDateTime" in changed and rec.get("EndDateTime"):
            days = max(1, (rec["EndDateTime"].date() - day).days + 1)
        elif rec.get("DurationInMinutes"):
            days = max(1, round(rec["DurationInMinutes"] / 1440))
        start = datetime.combine(day, time(), UTC)
        rec.update(
            ActivityDate=day,
            StartDateTime=start,
            ActivityDateTime=start,
            DurationInMinutes=days * 1440,
            EndDateTime=start + timedelta(days=days - 1),
        )
        return
    start = rec.get("StartDateTime")
    if start is None:
        raise ValidationError(
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [StartDateTime]",
            ["StartDateTime"],
        )
    end, dur = rec.get("EndDateTime"), rec.get("DurationInMinutes")
    end_given = "EndDateTime" in changed and end is not None
    dur_given = "DurationInMinutes" in changed and dur is not None
    if end_given and dur_given and start + timedelta(minutes=dur) != end:
        raise ValidationError(
            "FIELD_INTEGRITY_EXCEPTION",
            "Event duration doesn't match the given start and end times",
            ["DurationInMinutes"],
        )
    if end_given:
        dur = int((end - start).total_seconds() // 60)
    elif dur_given or (dur is not None and not creating):
        end = start + timedelta(minutes=dur)  # a moved start keeps the duration
    elif end is not None:
        dur = int((end - start).total_seconds() // 60)
    else:
        raise ValidationError(
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [DurationInMinutes]",
            ["DurationInMinutes"],
        )
    if dur < 0:
        raise ValidationError(
            "FIELD_INTEGRITY_EXCEPTION", "End time can't be before start time", ["EndDateTime"]
        )
    rec.update(
        EndDateTime=end, DurationInMinutes=dur, ActivityDateTime=start, ActivityDate=start.date()
    )


def after_create(
    store: Store, sobject: str, rec: Record, junctions: dict[str, list[str]], actor: str
) -> None:
    if sobject == "EmailMessage":
        _email(store, rec, junctions, actor)
    elif sobject == "ContentVersion":
        _content_version(store, rec, actor)
    elif sobject == "EventRelation":
        _invite(store, rec, actor)
    if sobject in activities.RELATION_TABLES:
        activities.after_relation_change(store, sobject, rec)
    elif sobject in ("Event", "Task"):
        activities.after_activity_write(store, sobject, rec, None)


def _email(store: Store, rec: Record, junctions: dict[str, list[str]], actor: str) -> None:
    kinds = {"ToIds": "ToAddress", "CcIds": "CcAddress", "BccIds": "BccAddress"}
    who = None
    for key, relation_type in kinds.items():
        for rid in junctions.get(key) or []:
            found = store.find(rid)
            if found is None or found[0] not in ("Contact", "Lead", "User"):
                raise ValidationError("INVALID_ID_FIELD", f"{key}: invalid id: {rid}", [key])
            who = who or (rid if found[0] in ("Contact", "Lead") else None)
            rel_id = store.create(
                "EmailMessageRelation",
                {
                    "EmailMessageId": rec["Id"],
                    "RelationId": rid,
                    "RelationType": relation_type,
                    "RelationAddress": found[1].get("Email"),
                },
                actor,
                system=True,
            )
            store.records["EmailMessageRelation"][rel_id]["RelationObjectType"] = found[0]
    if rec.get("FromAddress"):
        store.create(
            "EmailMessageRelation",
            {
                "EmailMessageId": rec["Id"],
                "RelationType": "FromAddress",
                "RelationAddress": rec["FromAddress"],
            },
            actor,
            system=True,
        )
    # Enhanced Email files a completed Email-subtype task beside a non-case email.
    when = rec.get("MessageDate") or rec["CreatedDate"]
    task_id = store.create(
        "Task",
        {
            "Subject": f"Email: {rec.get('Subject') or ''}"[:255],
            "Status": "Completed",
            "TaskSubtype": "Email",
            "WhoId": who,
            "ActivityDate": when.date(),
            "WhatId": rec.get("RelatedToId")
            if (rec.get("RelatedToId") or "").startswith("001")
            else None,
            "Description": (rec.get("TextBody") or "")[:32000],
        },
        actor,
        system=True,
    )
    rec["ActivityId"] = task_id


def _content_version(store: Store, rec: Record, actor: str) -> None:
    data: bytes = rec.get("VersionData") or b""
    ext = rec["PathOnClient"].rsplit(".", 1)[1].lower() if "." in rec["PathOnClient"] else ""
    rec.update(ContentSize=len(data), FileExtension=ext)
    doc_id = _new_doc(store, rec, actor)
    rec["ContentDocumentId"] = doc_id
    if rec.get("FirstPublishLocationId"):
        store.create(
            "ContentDocumentLink",
            {"ContentDocumentId": doc_id, "LinkedEntityId": rec["FirstPublishLocationId"]},
            actor,
            system=True,
        )


def _new_doc(store: Store, version: Record, actor: str) -> str:
    # ContentDocument is not createable through the API; the platform makes it.
    now = store._tick()
    doc_id = store.new_id("ContentDocument")
    doc = {f: None for f in store.schema["ContentDocument"].fields}
    doc.update(
        Id=doc_id,
        IsDeleted=False,
        CreatedDate=now,
        LastModifiedDate=now,
        SystemModstamp=now,
        CreatedById=actor,
        LastModifiedById=actor,
        OwnerId=version["OwnerId"],
        Title=version["Title"],
        FileExtension=version["FileExtension"],
        ContentSize=version["ContentSize"],
        LatestPublishedVersionId=version["Id"],
    )
    store.records["ContentDocument"][doc_id] = doc
    return doc_id


_CHILD_FIELDS = (
    "Subject",
    "Description",
    "Location",
    "StartDateTime",
    "EndDateTime",
    "ActivityDateTime",
    "ActivityDate",
    "DurationInMinutes",
    "IsAllDayEvent",
    "ShowAs",
    "IsPrivate",
    "WhoId",
    "WhatId",
)


def _invite(store: Store, rel: Record, actor: str) -> None:
    """A User invitee gets a child copy of the event on their calendar (IsChild = true)."""
    parent = store.records["Event"][rel["EventId"]]
    if not rel["IsInvitee"]:
        return
    parent["IsGroupEvent"] = True
    if not rel["RelationId"].startswith("005"):
        return
    now = store._tick()
    child_id = store.new_id("Event")
    child = dict(parent)
    child.update(
        Id=child_id,
        OwnerId=rel["RelationId"],
        IsChild=True,
        CreatedDate=now,
        LastModifiedDate=now,
        SystemModstamp=now,
        _parent=parent["Id"],
    )
    store.records["Event"][child_id] = child
    parent["SystemModstamp"] = now


def after_update(store: Store, sobject: str, rec: Record, before: Record) -> None:
    if sobject in activities.RELATION_TABLES:
        activities.after_relation_change(store, sobject, rec)
        if sobject == "EventRelation" and before["IsInvitee"] != rec["IsInvitee"]:
            if rec["IsInvitee"]:
                _invite(store, rec, rec["LastModifiedById"])
            else:
                _uninvite(store, rec, rec["LastModifiedById"])
    elif sobject in ("Event", "Task"):
        activities.after_activity_write(store, sobject, rec, before)
    if sobject == "Event" and not rec["IsChild"] and rec["IsGroupEvent"]:
        # Only a group event (one with invitees) has child copies to keep in step.
        for child in store.records["Event"].values():
            if child.get("_parent") == rec["Id"] and not child["IsDeleted"]:
                child.update({k: rec[k] for k in _CHILD_FIELDS})
                child["SystemModstamp"] = child["LastModifiedDate"] = rec["SystemModstamp"]


def after_delete(store: Store, sobject: str, rec: Record, actor: str | None) -> None:
    if sobject in ("Event", "Task") and not rec.get("IsChild"):
        if sobject == "Event":
            for child in list(store.records["Event"].values()):
                if child.get("_parent") == rec["Id"] and not child["IsDeleted"]:
                    store._soft_delete("Event", child, actor)
        activities.after_activity_delete(store, sobject, rec, actor)
    elif sobject in activities.RELATION_TABLES:
        if sobject == "EventRelation" and rec["IsInvitee"]:
            _uninvite(store, rec, actor)
        activities.after_relation_change(store, sobject, rec)
    elif sobject in ("Contact", "Lead", "Account", "Opportunity"):
        activities.after_person_delete(store, rec["Id"], actor)


def _uninvite(store: Store, rel: Record, actor: str | None) -> None:
    """A User no longer invited loses the child copy of the event on their calendar."""
    for child in list(store.records["Event"].values()):
        if (
            child.get("_parent") == rel["EventId"]
            and child["OwnerId"] == rel["RelationId"]
            and not child["IsDeleted"]
        ):
            store._soft_delete("Event", child, actor)
