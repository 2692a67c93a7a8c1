"""The org's records: ids, validation, audit fields, soft delete, merge, getUpdated/getDeleted.

Values are stored typed (datetime, date, bytes) and rendered on the way out, so SOQL
compares real dates rather than strings.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from . import activities, rules
from .schema import PREFIX_TO_TYPE, SHARED_ACTIVITIES_ONLY, SObject, build_schema
from .values import ValidationError, coerce, make_id, render, to_18

Record = dict[str, Any]
AUDIT = ("CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp")
RECYCLE_BIN_DAYS = 15  # deleted records are purged after 15 days (Recycle Bin help)
REPLICATION_DAYS = 30  # getUpdated / getDeleted reach back at most 30 days


class Store:
    def __init__(self, now: Callable[[], datetime], api_version: str = "59.0") -> None:
        self.now = now
        self.api_version = api_version
        self.schema: dict[str, SObject] = build_schema()
        self.records: dict[str, dict[str, Record]] = {name: {} for name in self.schema}
        self.deleted_at: dict[str, datetime] = {}
        self.seq = 0
        self.org_id = make_id("00D", 1)
        self.created_at = self._tick()
        self.enhanced_email = True
        self.shared_activities = True
        # Relation rows that skip the Recycle Bin when deleted directly (not by their
        # activity's deletion): TaskRelation as documented; EventRelation too by default,
        # the reference being silent on it (FIDELITY.md, "Activities and their relations").
        self.bin_skipping_relations = {"TaskRelation", "EventRelation"}
        # activity id -> ids of its relation rows (an index, rebuilt on rollback)
        self.relation_index: dict[str, set[str]] = {}
        # sObject -> deletion time of the last record physically purged from the bin
        self.purged_through: dict[str, datetime] = {}

    # -- ids and lookups -----------------------------------------------------------------

    def new_id(self, sobject: str) -> str:
        self.seq += 1
        return make_id(self.schema[sobject].prefix, self.seq)

    def type_of(self, rid: str) -> str | None:
        return PREFIX_TO_TYPE.get(rid[:3])

    def find(self, rid: str) -> tuple[str, Record] | None:
        sobject = self.type_of(rid)
        if sobject is None:
            return None
        rec = self.records[sobject].get(rid)
        return (sobject, rec) if rec is not None else None

    def sobject(self, name: str) -> SObject | None:
        """An object by case-insensitive name, hiding EmailMessage when the org lacks it."""
        for key, obj in self.schema.items():
            if key.lower() == name.lower():
                if not self.enhanced_email and key in ("EmailMessage", "EmailMessageRelation"):
                    return None
                if not self.shared_activities and key in SHARED_ACTIVITIES_ONLY:
                    return None
                return obj
        return None

    def users(self) -> list[Record]:
        return [r for r in self.records["User"].values() if not r["IsDeleted"]]

    def default_user(self) -> str:
        users = self.users()
        if users:
            return users[0]["Id"]
        return self.create(
            "User",
            {
                "Username": "admin@relay-sandbox.example",
                "LastName": "Admin",
                "Email": "admin@relay-sandbox.example",
            },
            actor="",
        )

    def _tick(self) -> datetime:
        """Now, at the millisecond precision Salesforce stores."""
        now = self.now()
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    # -- writes --------------------------------------------------------------------------

    def _coerce_all(
        self, obj: SObject, values: dict[str, Any], *, creating: bool, system: bool
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        unknown = [k for k in values if k != "attributes" and obj.lookup(k) is None]
        if unknown:
            raise ValidationError(
                "INVALID_FIELD",
                f"No such column '{unknown[0]}' on sobject of type {obj.name}",
                [unknown[0]],
            )
        readonly = []
        for key, value in values.items():
            if key == "attributes":
                continue
            f = obj.lookup(key)
            assert f is not None
            allowed = f.createable if creating else f.updateable
            if not allowed and not (system and f.name != "Id"):
                readonly.append(f.name)
                continue
            out[f.name] = coerce(f, value)
        if readonly:
            raise ValidationError(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(readonly)}. Please check the "
                "security settings of this field and verify that it is read/write for your "
                "profile or permission set.",
                readonly,
            )
        for name, value in out.items():
            f = obj.fields[name]
            if f.type == "reference" and value is not None:
                self._check_reference(obj, name, value, f.reference_to)
        return out

    def _check_reference(self, obj: SObject, name: str, rid: str, targets: tuple[str, ...]) -> None:
        sobject = self.type_of(rid)
        if sobject not in targets:
            raise ValidationError(
                "FIELD_INTEGRITY_EXCEPTION",
                f"{name}: id value of incorrect type: {rid}",
                [name],
            )
        rec = self.records[sobject].get(rid)
        if rec is None:
            raise ValidationError(
                "INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: {rid}", [name]
            )
        if rec["IsDeleted"]:
            raise ValidationError("ENTITY_IS_DELETED", "entity is deleted", [name])

    def _missing_required(self, obj: SObject, rec: Record) -> None:
        missing = [
            f.name for f in obj.fields.values() if f.required and rec.get(f.name) in (None, "")
        ]
        if missing:
            raise ValidationError(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )

    def create(
        self,
        sobject: str,
        values: dict[str, Any],
        actor: str | None = None,
        *,
        system: bool = False,
    ) -> str:
        obj = self.schema[sobject]
        if not obj.createable:
            raise _refused("inserted", obj)
        clean = self._coerce_all(obj, values, creating=True, system=system)
        actor = actor if actor is not None else self.default_user()
        now = self._tick()
        rid = self.new_id(sobject)
        rec: Record = {f: None for f, fd in obj.fields.items() if fd.type != "junctionidlist"}
        rec.update(
            Id=rid,
            IsDeleted=False,
            CreatedDate=now,
            LastModifiedDate=now,
            SystemModstamp=now,
            CreatedById=actor or rid,
            LastModifiedById=actor or rid,
        )
        if "OwnerId" in obj.fields:
            rec["OwnerId"] = actor or rid
        junctions = {k: v for k, v in clean.items() if obj.fields[k].type == "junctionidlist"}
        rec.update({k: v for k, v in clean.items() if k not in junctions})
        rules.on_write(self, sobject, rec, set(clean), creating=True)
        self._missing_required(obj, rec)
        self.records[sobject][rid] = rec
        rules.after_create(self, sobject, rec, junctions, actor or rid)
        return rid

    def update(
        self,
        sobject: str,
        rid: str,
        values: dict[str, Any],
        actor: str | None = None,
        *,
        system: bool = False,
    ) -> None:
        obj = self.schema[sobject]
        if not obj.updateable:
            raise _refused("updated", obj)
        rec = self.live(sobject, rid)
        clean = self._coerce_all(obj, values, creating=False, system=system)
        before = dict(rec)
        draft = dict(rec)
        draft.update({k: v for k, v in clean.items() if obj.fields[k].type != "junctionidlist"})
        rules.on_write(self, sobject, draft, set(clean), creating=False)
        self._missing_required(obj, draft)
        now = self._tick()
        draft["LastModifiedDate"] = clean.get("LastModifiedDate", now)
        draft["SystemModstamp"] = clean.get("SystemModstamp", now)
        draft["LastModifiedById"] = actor or self.default_user()
        rec.clear()
        rec.update(draft)
        rules.after_update(self, sobject, rec, before)

    def live(self, sobject: str, rid: str) -> Record:
        """The non-deleted record, or the 404 Salesforce answers for it."""
        rec = self.records[sobject].get(rid)
        if rec is None or rec.get("_no_bin"):
            raise ValidationError("NOT_FOUND", "The requested resource does not exist", status=404)
        if rec["IsDeleted"]:
            raise ValidationError("ENTITY_IS_DELETED", "entity is deleted", status=404)
        return rec

    def insert_raw(self, sobject: str, values: dict[str, Any], actor: str | None) -> Record:
        """A row the platform itself makes (no validation, no hooks): relations, copies."""
        obj = self.schema[sobject]
        now = self._tick()
        actor = actor or self.default_user()
        rec: Record = {f: None for f, fd in obj.fields.items() if fd.type != "junctionidlist"}
        rec.update(
            Id=self.new_id(sobject),
            IsDeleted=False,
            CreatedDate=now,
            LastModifiedDate=now,
            SystemModstamp=now,
            CreatedById=actor,
            LastModifiedById=actor,
        )
        rec.update(values)
        self.records[sobject][rec["Id"]] = rec
        return rec

    def delete(self, sobject: str, rid: str, actor: str | None = None) -> None:
        if not self.schema[sobject].deletable:
            raise _refused("deleted", self.schema[sobject])
        rec = self.live(sobject, rid)
        self._soft_delete(sobject, rec, actor)
        if sobject in self.bin_skipping_relations:
            # A directly deleted relation row skips the Recycle Bin: gone from queryAll and
            # GET at once, still reported by getDeleted (Object Reference, TaskRelation
            # IsDeleted: "Don't use the IsDeleted field to detect deleted records in SOQL
            # queries or queryAll() calls on directly deleted relation records").
            rec["_no_bin"] = True
        rules.after_delete(self, sobject, rec, actor)

    def _soft_delete(self, sobject: str, rec: Record, actor: str | None) -> None:
        now = self._tick()
        rec.update(
            IsDeleted=True,
            SystemModstamp=now,
            LastModifiedDate=now,
            LastModifiedById=actor or self.default_user(),
        )
        self.deleted_at[rec["Id"]] = now

    def merge_contacts(
        self, master_id: str, loser_ids: list[str], actor: str | None = None
    ) -> None:
        master = self.live("Contact", master_id)
        for lid in loser_ids:
            loser = self.live("Contact", lid)
            # Related records follow the master, as a merge does in Salesforce.
            for sobject in ("Task", "Event", "EventRelation", "EmailMessageRelation"):
                key = "WhoId" if sobject in ("Task", "Event") else "RelationId"
                for rec in self.records[sobject].values():
                    if rec.get(key) == lid:
                        rec[key] = master["Id"]
                        rec["SystemModstamp"] = self._tick()
            loser["MasterRecordId"] = master["Id"]
            self._soft_delete("Contact", loser, actor)
        master["SystemModstamp"] = master["LastModifiedDate"] = self._tick()

    def purge_deleted(self, older_than: timedelta | None = None) -> int:
        """Empty the Recycle Bin (of records deleted more than `older_than` ago): queryAll and
        getDeleted stop seeing them, a GET answers NOT_FOUND, and getDeleted's
        earliestDateAvailable moves to the deletion time of the last record purged."""
        horizon = self._tick() - older_than if older_than is not None else None
        due = [r for r, when in self.deleted_at.items() if horizon is None or when <= horizon]
        for rid in due:
            when = self.deleted_at.pop(rid)
            for name, table in self.records.items():  # derived views share their row's id
                if rid in table and table[rid]["IsDeleted"]:
                    del table[rid]
                    last = self.purged_through.get(name)
                    self.purged_through[name] = max(last, when) if last else when
        return len(due)

    def purge_expired(self) -> int:
        """What Salesforce does on its own: records leave the bin after 15 days."""
        if not self.deleted_at:
            return 0
        return self.purge_deleted(timedelta(days=RECYCLE_BIN_DAYS))

    def earliest_date_available(self, sobject: str) -> datetime:
        return max(self.created_at, self.purged_through.get(sobject, self.created_at))

    def set_shared_activities(self, on: bool) -> None:
        if on and not self.shared_activities:
            self.shared_activities = True
            activities.backfill(self)
        elif not on and self.shared_activities:
            activities.strip(self)
            self.shared_activities = False

    # -- transactions (allOrNone) --------------------------------------------------------

    def snapshot(self) -> Any:
        return (
            {t: {k: dict(r) for k, r in tbl.items()} for t, tbl in self.records.items()},
            dict(self.deleted_at),
            self.seq,
        )

    def restore(self, snap: Any) -> None:
        records, deleted, seq = copy.copy(snap)
        self.records, self.deleted_at, self.seq = records, deleted, seq
        self.relation_index = {}
        for table, key, _ in activities.TABLES.values():
            for rid, row in self.records[table].items():
                self.relation_index.setdefault(row[key], set()).add(rid)

    # -- reads ---------------------------------------------------------------------------

    def record_url(self, sobject: str, rid: str) -> str:
        return f"/services/data/v{self.api_version}/sobjects/{sobject}/{rid}"

    def to_json(self, sobject: str, rec: Record, fields: list[str] | None = None) -> dict[str, Any]:
        obj = self.schema[sobject]
        out: dict[str, Any] = {
            "attributes": {"type": sobject, "url": self.record_url(sobject, rec["Id"])}
        }
        names = fields or [f.name for f in obj.fields.values() if f.queryable]
        for name in names:
            f = obj.lookup(name)
            if f is None:
                raise ValidationError(
                    "INVALID_FIELD", f"No such column '{name}' on entity '{sobject}'"
                )
            value = rec.get(f.name)
            if f.type == "base64" and value is not None:
                out[f.name] = self.record_url(sobject, rec["Id"]) + f"/{f.name}"
            else:
                out[f.name] = render(value)
        return out

    def window(self, start: str, end: str) -> tuple[datetime, datetime]:
        """getUpdated/getDeleted bounds: seconds truncated, start < end, ≤ 30 days back."""
        from .values import parse_datetime

        try:
            s = parse_datetime(start).replace(second=0, microsecond=0)
            e = parse_datetime(end).replace(second=0, microsecond=0)
        except ValueError:
            raise ValidationError("INVALID_REPLICATION_DATE", "invalid start or end date") from None
        if s >= e:
            raise ValidationError(
                "INVALID_REPLICATION_DATE", "startDate must chronologically precede endDate"
            )
        if s < self._tick() - timedelta(days=REPLICATION_DAYS):
            raise ValidationError(
                "INVALID_REPLICATION_DATE",
                "startDate cannot be more than 30 days ago",
            )
        latest = min(e, self._tick().replace(second=0, microsecond=0))
        return s, latest

    def updated_ids(self, sobject: str, start: datetime, end: datetime) -> list[str]:
        return [
            r["Id"]
            for r in self.records[sobject].values()
            if not r["IsDeleted"] and start <= r["SystemModstamp"] < end
        ]

    def deleted_records(
        self, sobject: str, start: datetime, end: datetime
    ) -> list[tuple[str, datetime]]:
        return [
            (r["Id"], self.deleted_at[r["Id"]])
            for r in self.records[sobject].values()
            if r["IsDeleted"] and start <= self.deleted_at[r["Id"]] < end
        ]

    def resolve_id(self, raw: str) -> str | None:
        return to_18(raw)


def _refused(what: str, obj: SObject) -> ValidationError:
    """The refusal for an object that does not support the call (e.g. EventWhoRelation)."""
    return ValidationError(
        "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be {what}: {obj.label}"
    )
