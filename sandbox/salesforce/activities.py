"""The people and records of an activity: EventRelation, TaskRelation and their Who views.

Rules from the Object Reference (EventRelation, EventWhoRelation, TaskRelation,
TaskWhoRelation):

- With Shared Activities an event or task relates to up to 50 contacts or one lead
  (IsParent rows) and one other record (IsWhat); WhoId is the primary Who and WhatId the
  What, kept in step with the rows both ways. A person both related and invited is one
  EventRelation row with IsParent and IsInvitee. Deleting the row that is the WhoId promotes
  another Who; deleting the What row clears WhatId.
- Without Shared Activities EventRelation rows are invitees only (User, Contact, Lead) and
  the event's Who is its WhoId alone; TaskRelation and the Who views do not exist.
- A non-recurring event takes up to 1,000 invitees; child (invitee copy) events take no
  relations at all.
- EventWhoRelation / TaskWhoRelation are derived (IsParent and not IsWhat), read-only, and
  share the Id of the relation row they mirror.

The emulator keeps this invariant after every write: WhoId is one of the Who rows, and is
null only when there are none. Rows the platform makes are inserted directly (no hooks),
so a hook never re-enters itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .schema import WHAT_TYPES, WHO_TYPES
from .values import ValidationError

if TYPE_CHECKING:
    from .store import Record, Store

MAX_WHO_CONTACTS = 50
MAX_INVITEES = 1000
STATUSES = ("New", "Accepted", "Declined")
# activity -> (relation table, its key to the activity, derived Who view)
TABLES = {
    "Event": ("EventRelation", "EventId", "EventWhoRelation"),
    "Task": ("TaskRelation", "TaskId", "TaskWhoRelation"),
}
RELATION_TABLES = {rel: parent for parent, (rel, _, _) in TABLES.items()}


def _integrity(message: str, fields: list[str]) -> ValidationError:
    return ValidationError("FIELD_INTEGRITY_EXCEPTION", message, fields)


# -- lookups ----------------------------------------------------------------------------------


def rows(store: Store, parent: str, parent_id: str) -> list[Record]:
    """The live relation rows of one activity, oldest first."""
    table, key, _ = TABLES[parent]
    ids = store.relation_index.get(parent_id, ())
    found = [store.records[table].get(rid) for rid in ids]
    live = [r for r in found if r and not r["IsDeleted"] and r[key] == parent_id]
    return sorted(live, key=lambda r: (r["CreatedDate"], r["Id"]))


def _is_who(row: Record) -> bool:
    # TaskRelation has no IsParent: every non-What row is a Who.
    return bool(row.get("IsParent", True)) and not row["IsWhat"]


def whos(store: Store, parent: str, parent_id: str) -> list[Record]:
    return [r for r in rows(store, parent, parent_id) if _is_who(r)]


def _kind(store: Store, rid: str | None) -> str | None:
    return store.type_of(rid) if rid else None


def check_who_limit(store: Store, parent: str, parent_id: str | None, adding: str) -> None:
    """50 contacts or one lead, never both (the documented Shared Activities limit)."""
    current = [r["RelationId"] for r in whos(store, parent, parent_id)] if parent_id else []
    if adding in current:
        return
    kinds = [_kind(store, rid) for rid in current]
    new_kind = _kind(store, adding)
    if (new_kind == "Lead" and current) or (new_kind == "Contact" and "Lead" in kinds):
        raise _integrity(
            f"You can relate an {parent.lower()} to up to {MAX_WHO_CONTACTS} contacts or one "
            "lead, not both.",
            ["RelationId"],
        )
    if new_kind == "Contact" and len(current) >= MAX_WHO_CONTACTS:
        raise _integrity(
            f"You can't relate more than {MAX_WHO_CONTACTS} contacts to an {parent.lower()}.",
            ["RelationId"],
        )


# -- writes of the relation objects ----------------------------------------------------------


def on_relation_write(
    store: Store, sobject: str, rec: Record, changed: set[str], *, creating: bool
) -> None:
    """Defaults and refusals for a client's EventRelation / TaskRelation write."""
    parent = RELATION_TABLES[sobject]
    _, key, _ = TABLES[parent]
    activity = store.records[parent].get(rec[key]) if rec.get(key) else None
    kind = _kind(store, rec.get("RelationId"))
    is_event = parent == "Event"
    if creating:
        if activity is not None and activity.get("IsChild"):
            raise _integrity("You can't add relations to a child event.", [key])
        rec["IsWhat"] = kind in WHAT_TYPES
        if is_event:
            if "IsInvitee" not in changed:
                rec["IsInvitee"] = not (rec.get("IsParent") or rec["IsWhat"])
            if rec["IsWhat"]:
                rec["IsInvitee"] = rec["IsParent"] = False
        if not store.shared_activities and (rec["IsWhat"] or rec.get("IsParent")):
            raise _integrity(
                "Without Shared Activities an event relation can only be an invitee.",
                ["RelationId", "IsParent"],
            )
        if activity is not None and any(
            r["RelationId"] == rec["RelationId"] for r in rows(store, parent, activity["Id"])
        ):
            existing = next(
                r["Id"]
                for r in rows(store, parent, activity["Id"])
                if r["RelationId"] == rec["RelationId"]
            )
            raise ValidationError(
                "DUPLICATE_VALUE",
                f"duplicate value found: RelationId duplicates value on record with id: {existing}",
                ["RelationId"],
            )
        if (
            activity is not None
            and rec["IsWhat"]
            and any(r["IsWhat"] for r in rows(store, parent, activity["Id"]))
        ):
            raise _integrity(
                f"An {parent.lower()} can be related to only one other record.",
                ["RelationId"],
            )
    if is_event:
        if rec.get("IsParent") and kind not in WHO_TYPES:
            raise _integrity("Only a contact or a lead can be a related Who.", ["IsParent"])
        if rec.get("IsParent") and not store.shared_activities:
            raise _integrity("IsParent requires Shared Activities.", ["IsParent"])
        if rec.get("Status") not in STATUSES:
            raise ValidationError(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"Status: bad value for restricted picklist field: {rec.get('Status')}",
                ["Status"],
            )
        if "Status" in changed and rec["Status"] != "New" and "RespondedDate" not in changed:
            rec["RespondedDate"] = store._tick()
    if activity is None:
        return
    if _is_who(rec) and (creating or "IsParent" in changed):
        check_who_limit(store, parent, activity["Id"], rec["RelationId"])
    if is_event and rec.get("IsInvitee") and (creating or "IsInvitee" in changed):
        invitees = [r for r in rows(store, parent, activity["Id"]) if r.get("IsInvitee")]
        if len(invitees) >= MAX_INVITEES and rec["Id"] not in {r["Id"] for r in invitees}:
            raise _integrity(
                f"An event can have up to {MAX_INVITEES} invitees.", ["RelationId", "IsInvitee"]
            )
    rec["AccountId"] = _account(store, rec["RelationId"])


def after_relation_change(store: Store, sobject: str, rec: Record) -> None:
    """A relation row was created, updated or deleted: keep the activity and views in step."""
    parent = RELATION_TABLES[sobject]
    _, key, _ = TABLES[parent]
    store.relation_index.setdefault(rec[key], set()).add(rec["Id"])
    activity = store.records[parent].get(rec[key])
    if activity is not None and not activity["IsDeleted"]:
        settle(store, parent, activity)


def _account(store: Store, rid: str | None) -> str | None:
    kind = _kind(store, rid)
    if kind == "Account":
        return rid
    if kind in ("Contact", "Opportunity"):
        rec = store.records[kind].get(rid or "")
        return rec.get("AccountId") if rec else None
    return None


# -- writes of the activity ------------------------------------------------------------------


def check_activity_write(store: Store, parent: str, rec: Record, changed: set[str]) -> None:
    """Refuse a WhoId that breaks the limit before the activity is saved."""
    if not store.shared_activities or rec.get("IsChild") or "WhoId" not in changed:
        return
    if rec.get("WhoId"):
        check_who_limit(store, parent, rec.get("Id"), rec["WhoId"])


def after_activity_write(store: Store, parent: str, rec: Record, before: Record | None) -> None:
    """WhoId / WhatId set, changed or cleared on the activity: move the relation rows."""
    if not store.shared_activities or rec.get("IsChild"):
        return
    old_who = before.get("WhoId") if before else None
    old_what = before.get("WhatId") if before else None
    if rec.get("WhoId") != old_who:
        if old_who:
            _unrelate(store, parent, rec["Id"], old_who, flag="who")
        if rec.get("WhoId"):
            _relate(store, parent, rec, rec["WhoId"], what=False)
    if rec.get("WhatId") != old_what:
        if old_what:
            _unrelate(store, parent, rec["Id"], old_what, flag="what")
        if rec.get("WhatId"):
            _relate(store, parent, rec, rec["WhatId"], what=True)
    settle(store, parent, rec)


def _relate(store: Store, parent: str, activity: Record, rid: str, *, what: bool) -> None:
    table, key, _ = TABLES[parent]
    for row in rows(store, parent, activity["Id"]):
        if row["RelationId"] == rid:
            if parent == "Event" and not what and not row["IsParent"]:
                row["IsParent"] = True  # an invitee becomes a related Who too: still one row
                _touch(store, row)
            return
    values: dict[str, Any] = {key: activity["Id"], "RelationId": rid, "IsWhat": what}
    if parent == "Event":
        values.update(IsInvitee=False, IsParent=not what, Status="New")
    values["AccountId"] = _account(store, rid)
    new = store.insert_raw(table, values, activity.get("LastModifiedById"))
    store.relation_index.setdefault(activity["Id"], set()).add(new["Id"])


def _unrelate(store: Store, parent: str, parent_id: str, rid: str, *, flag: str) -> None:
    for row in rows(store, parent, parent_id):
        if row["RelationId"] != rid:
            continue
        if flag == "who" and row.get("IsInvitee"):
            row["IsParent"] = False  # still invited: the row stays, as an invitee only
            _touch(store, row)
        else:
            store._soft_delete(TABLES[parent][0], row, None)


def _touch(store: Store, row: Record) -> None:
    row["SystemModstamp"] = row["LastModifiedDate"] = store._tick()


def settle(store: Store, parent: str, activity: Record) -> None:
    """WhoId is a Who row (promoting the oldest), WhatId the What row; views rebuilt."""
    if not store.shared_activities or activity.get("IsChild"):
        return
    current = rows(store, parent, activity["Id"])
    who_ids = [r["RelationId"] for r in current if _is_who(r)]
    what_ids = [r["RelationId"] for r in current if r["IsWhat"]]
    who = activity.get("WhoId") if activity.get("WhoId") in who_ids else None
    who = who or (who_ids[0] if who_ids else None)
    what = what_ids[0] if what_ids else None
    if (who, what) != (activity.get("WhoId"), activity.get("WhatId")):
        activity.update(WhoId=who, WhatId=what)
        from .rules import account_of

        activity["AccountId"] = account_of(store, activity)
        _touch(store, activity)
    _sync_view(store, parent, activity["Id"], current)


def _sync_view(store: Store, parent: str, parent_id: str, current: list[Record]) -> None:
    _, key, view = TABLES[parent]
    wanted = {r["Id"]: r for r in current if _is_who(r)}
    derived = store.records[view]
    for rid in store.relation_index.get(parent_id, ()):
        mirror = derived.get(rid)
        if mirror is not None and rid not in wanted and not mirror["IsDeleted"]:
            mirror.update(IsDeleted=True, SystemModstamp=store._tick())
            store.deleted_at.setdefault(rid, mirror["SystemModstamp"])
    for rid, row in wanted.items():
        mirror = derived.get(rid)
        if mirror is None or mirror["IsDeleted"]:
            derived[rid] = {
                "Id": rid,
                "IsDeleted": False,
                key: parent_id,
                "RelationId": row["RelationId"],
                "Type": store.type_of(row["RelationId"]),
                "AccountId": row.get("AccountId"),
                **{f: row[f] for f in ("CreatedById", "LastModifiedById")},
                "CreatedDate": row["CreatedDate"],
                "LastModifiedDate": row["LastModifiedDate"],
                "SystemModstamp": store._tick(),
            }


def after_activity_delete(store: Store, parent: str, rec: Record, actor: str | None) -> None:
    """Deleting an event or task deletes its relations (they go to the Recycle Bin with it)."""
    table, _, view = TABLES[parent]
    for row in rows(store, parent, rec["Id"]):
        store._soft_delete(table, row, actor)
        mirror = store.records[view].get(row["Id"])
        if mirror is not None and not mirror["IsDeleted"]:
            mirror.update(IsDeleted=True, SystemModstamp=row["SystemModstamp"])


def after_person_delete(store: Store, rid: str, actor: str | None) -> None:
    """A deleted contact, lead or record leaves the activities it was related to."""
    touched: list[tuple[str, str]] = []
    for parent, (table, key, _) in TABLES.items():
        for row in store.records[table].values():
            if row["RelationId"] == rid and not row["IsDeleted"]:
                store._soft_delete(table, row, actor)
                touched.append((parent, row[key]))
    for parent, parent_id in touched:
        activity = store.records[parent].get(parent_id)
        if activity is not None and not activity["IsDeleted"]:
            settle(store, parent, activity)


def backfill(store: Store) -> None:
    """Shared Activities switched on: every WhoId / WhatId becomes its relation row."""
    for parent in TABLES:
        for rec in list(store.records[parent].values()):
            if rec["IsDeleted"] or rec.get("IsChild"):
                continue
            for rid, what in ((rec.get("WhoId"), False), (rec.get("WhatId"), True)):
                if rid:
                    _relate(store, parent, rec, rid, what=what)
            settle(store, parent, rec)


def strip(store: Store) -> None:
    """Shared Activities switched off (a test knob: real orgs cannot turn it off)."""
    for parent, (table, _, view) in TABLES.items():
        for rid, row in list(store.records[table].items()):
            if parent == "Task" or row["IsWhat"] or not row.get("IsInvitee"):
                store.records[table].pop(rid)
            else:
                row["IsParent"] = False
        store.records[view].clear()
