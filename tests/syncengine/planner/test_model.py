"""vdirsyncer's model test for the planner: random edits on both sides, settings changes
and clock moves; after every sync both sides agree within scope, a second plan writes
nothing, links stay one-to-one, no duplicate appears and nothing is deleted but by rule."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections import Counter
from dataclasses import replace

from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from syncengine.planner import (
    ContactScope,
    DeleteMailbox,
    DeleteSalesforce,
    ItemType,
    LinkStatus,
    MailboxRecord,
    Origin,
    SalesforceRecord,
    SyncRules,
    in_scope,
    match_key,
    normalize_fields,
)

from .memory import OTHER, USER, World

START = dt.datetime(2024, 3, 10, 12, 0, tzinfo=dt.UTC)
ZONES = ("UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Berlin")


class PlannerMachine(RuleBasedStateMachine):
    item_type: ItemType = ItemType.CONTACT

    def __init__(self) -> None:
        super().__init__()
        self.world = World(self.item_type, START)
        self.serial = itertools.count(1)
        self.scope = ContactScope.MINE
        self.view_missing = False
        self.down = True
        self.auto_remove = True
        self.zone = "UTC"
        self.synced = False
        # Deletions the user caused, so the sync may carry them across.
        self.user_deleted_sf: set[str] = set()
        self.user_gone_mb: set[str] = set()

    # --- helpers ---------------------------------------------------------------------------

    def sync_rules(self) -> SyncRules:
        w = self.world
        members = frozenset(
            i for i, r in w.sf.items() if not r.deleted and r.fields.get("department") == "Sales"
        )
        return SyncRules(
            user_sf_id=USER,
            down_enabled={t: (self.down if t == self.item_type else True) for t in ItemType},
            contact_scope=self.scope,
            view_member_ids=None if self.view_missing else members,
            auto_remove={t: self.auto_remove for t in ItemType},
            time_zone=self.zone,
        )

    def tick(self) -> dt.datetime:
        # Every user action happens a second after the previous one: "later" is well defined.
        self.world.now += dt.timedelta(seconds=1)
        return self.world.now

    def fresh_fields(self, data: st.DataObject) -> dict[str, object]:
        n = next(self.serial)
        now = self.world.now
        if self.item_type == ItemType.CONTACT:
            return {
                "first_name": data.draw(st.sampled_from(["Ann", "Bob", None])),
                "last_name": f"Person {n}",
                "email": f"p{n}@example.com",
                "phone": data.draw(st.sampled_from(["+1 555 0100", "", None])),
                "department": data.draw(st.sampled_from(["Sales", "Ops"])),
            }
        if self.item_type == ItemType.TASK:
            due = data.draw(st.one_of(st.none(), st.integers(-30, 30)))
            return {
                "subject": f"Task {n}",
                "due_date": None if due is None else now.date() + dt.timedelta(days=due),
                "status": data.draw(st.sampled_from(["not_started", "completed", "waiting"])),
                "priority": data.draw(st.sampled_from(["low", "normal", "high"])),
            }
        offset = dt.timedelta(hours=data.draw(st.integers(-40 * 24, 90 * 24)))
        if data.draw(st.booleans()):
            day = (now + offset).date()
            return {
                "subject": f"Event {n}",
                "all_day": True,
                "start_date": day,
                "end_date": day + dt.timedelta(days=data.draw(st.integers(1, 3))),
            }
        start = (now + offset).replace(minute=0, second=0)
        duration = dt.timedelta(hours=data.draw(st.integers(1, 48)))
        return {"subject": f"Event {n}", "all_day": False, "start": start, "end": start + duration}

    def edit_fields(self, fields: dict, data: st.DataObject) -> dict[str, object]:
        fields = dict(fields)
        if data.draw(st.booleans(), label="new key"):
            fresh = self.fresh_fields(data)
            key = {"contact": "email"}.get(self.item_type.value, "subject")
            fields[key] = fresh[key]
        if self.item_type == ItemType.CONTACT:
            fields["department"] = data.draw(st.sampled_from(["Sales", "Ops"]))
            fields["phone"] = data.draw(st.sampled_from(["+1 555 0199", None]))
        elif self.item_type == ItemType.TASK:
            fields["status"] = data.draw(st.sampled_from(["in_progress", "completed"]))
            fields["description"] = data.draw(st.sampled_from(["call back", None]))
        else:
            fields["location"] = data.draw(st.sampled_from(["Room 1", "Room 2", None]))
        return fields

    def live_sf(self) -> list[str]:
        return sorted(i for i, r in self.world.sf.items() if not r.deleted)

    def live_mb(self) -> list[str]:
        return sorted(i for i, r in self.world.mb.items() if not r.gone)

    # --- Salesforce side ---------------------------------------------------------------------

    @rule(data=st.data())
    def sf_create(self, data: st.DataObject) -> None:
        now = self.tick()
        owner = data.draw(st.sampled_from([USER, USER, OTHER]))
        invitees = frozenset({USER}) if data.draw(st.booleans()) else frozenset()
        sf_id = self.world.new_id("sf")
        self.world.put_sf(
            SalesforceRecord(
                sf_id, self.item_type, self.fresh_fields(data), owner, now, invitee_ids=invitees
            )
        )

    @precondition(lambda self: self.live_sf())
    @rule(data=st.data())
    def sf_edit(self, data: st.DataObject) -> None:
        now = self.tick()
        sf_id = data.draw(st.sampled_from(self.live_sf()))
        record = self.world.sf[sf_id]
        fields = self.edit_fields(dict(record.fields), data)
        owner = data.draw(st.sampled_from([record.owner_id, USER, OTHER]))
        self.world.put_sf(replace(record, fields=fields, owner_id=owner, modified_at=now))

    @precondition(lambda self: self.live_sf())
    @rule(data=st.data())
    def sf_delete(self, data: st.DataObject) -> None:
        now = self.tick()
        sf_id = data.draw(st.sampled_from(self.live_sf()))
        self.world.put_sf(replace(self.world.sf[sf_id], deleted=True, modified_at=now))
        self.user_deleted_sf.add(sf_id)

    # --- mailbox side --------------------------------------------------------------------------

    @rule(data=st.data())
    def mb_create(self, data: st.DataObject) -> None:
        now = self.tick()
        item = MailboxRecord(self.world.new_id("mb"), self.item_type, self.fresh_fields(data), now)
        self.world.put_mb(item)

    def copyable(self) -> list[str]:
        # Salesforce records with no copy in the mailbox (by key): a copy the user already
        # had, or makes, must be matched, never duplicated.
        mailbox_keys = {
            match_key(self.item_type, r.fields) for r in self.world.mb.values() if not r.gone
        }
        return [
            i
            for i in self.live_sf()
            if i not in self.world.links
            and match_key(self.item_type, self.world.sf[i].fields) not in mailbox_keys
        ]

    @precondition(lambda self: self.copyable())
    @rule(data=st.data(), edit=st.booleans())
    def mb_create_copy_of_sf(self, data: st.DataObject, edit: bool) -> None:
        now = self.tick()
        record = self.world.sf[data.draw(st.sampled_from(self.copyable()))]
        fields = dict(record.fields)
        if edit and self.item_type == ItemType.CONTACT:
            fields["phone"] = "+1 555 0123"
        elif edit:
            fields["description"] = "my copy"
        self.world.put_mb(MailboxRecord(self.world.new_id("mb"), self.item_type, fields, now))

    @precondition(lambda self: self.live_mb())
    @rule(data=st.data())
    def mb_edit(self, data: st.DataObject) -> None:
        now = self.tick()
        item = self.world.mb[data.draw(st.sampled_from(self.live_mb()))]
        fields = self.edit_fields(dict(item.fields), data)
        self.world.put_mb(replace(item, fields=fields, modified_at=now))

    @precondition(lambda self: self.live_mb())
    @rule(data=st.data(), move_out=st.booleans())
    def mb_delete_or_move_out(self, data: st.DataObject, move_out: bool) -> None:
        now = self.tick()
        item = self.world.mb[data.draw(st.sampled_from(self.live_mb()))]
        gone = replace(item, marked=False) if move_out else replace(item, deleted=True)
        self.world.put_mb(replace(gone, modified_at=now))
        self.user_gone_mb.add(item.mailbox_id)

    def movable(self) -> list[str]:
        # An item moved out comes back in (Graph gives it a new id; our marker travels
        # with it), unless the record it names already has a live copy again.
        w = self.world
        live_linked = {ln.sf_id for ln in w.links.values() if not w.mb[ln.mailbox_id].gone}
        return sorted(
            i
            for i, r in w.mb.items()
            if not r.marked
            and not r.deleted
            and r.sf_id_marker not in live_linked
            and not self.key_taken(r)
        )

    def key_taken(self, item: MailboxRecord) -> bool:
        key = match_key(self.item_type, item.fields)
        return any(
            match_key(self.item_type, r.fields) == key for r in self.world.mb.values() if not r.gone
        )

    @precondition(lambda self: self.movable())
    @rule(data=st.data())
    def mb_move_back_in(self, data: st.DataObject) -> None:
        now = self.tick()
        old = self.world.mb[data.draw(st.sampled_from(self.movable()))]
        self.world.mb[old.mailbox_id] = replace(old, deleted=True)  # its old id is gone
        self.world.put_mb(
            replace(old, mailbox_id=self.world.new_id("mb"), marked=True, modified_at=now)
        )

    # --- settings and clock --------------------------------------------------------------------

    @rule(
        scope=st.sampled_from(ContactScope),
        view_missing=st.booleans(),
        down=st.booleans(),
        auto_remove=st.booleans(),
        zone=st.sampled_from(ZONES),
    )
    def change_settings(self, scope, view_missing, down, auto_remove, zone) -> None:
        self.scope, self.view_missing, self.down = scope, view_missing, down
        self.auto_remove, self.zone = auto_remove, zone

    @rule(hours=st.integers(1, 24 * 20))
    def move_clock(self, hours: int) -> None:
        self.world.now += dt.timedelta(hours=hours)

    # --- sync and its invariants ------------------------------------------------------------------

    @rule()
    def sync(self) -> None:
        w = self.world
        rules = self.sync_rules()
        links_before = dict(w.links)
        first = w.plan(rules)
        allowed_sf = {
            ln.sf_id for ln in links_before.values() if ln.mailbox_id in self.user_gone_mb
        }
        allowed_mb = {
            ln.mailbox_id for ln in links_before.values() if ln.sf_id in self.user_deleted_sf
        }
        for action in first.actions:
            if isinstance(action, DeleteSalesforce):
                assert action.sf_id in allowed_sf, action
                assert rules.auto_removal(self.item_type), action
            if isinstance(action, DeleteMailbox) and action.mailbox_id not in allowed_mb:
                # Otherwise only a contact brought down that left the scope.
                link = links_before[action.sf_id]
                assert self.item_type == ItemType.CONTACT and link.origin == Origin.SALESFORCE
                assert in_scope(w.sf[action.sf_id], rules, w.now) is False, action
        for action in first.actions:
            event(type(action).__name__)
        w.sync(rules)
        self.synced = not w.held
        if w.held:
            return
        second = w.plan(rules)
        if second.writes and os.environ.get("PLANNER_DEBUG"):
            with open(os.environ["PLANNER_DEBUG"], "w") as out:
                print("FIRST", *first.actions, sep="\n", file=out)
                print("LINKS", *links_before.values(), sep="\n", file=out)
                print("SF", *w.sf.values(), sep="\n", file=out)
                print("MB", *w.mb.values(), sep="\n", file=out)
        assert second.writes == [], second.writes
        assert not second.held
        w.apply(second)
        self.check_agreement(rules)

    def check_agreement(self, rules: SyncRules) -> None:
        w = self.world
        down = rules.down_allowed(self.item_type)
        for link in w.links.values():
            record, item = w.sf[link.sf_id], w.mb[link.mailbox_id]
            assert not record.deleted and not item.gone, link
            assert item.sf_id_marker == link.sf_id
            scope = in_scope(record, rules, w.now)
            if self.item_type != ItemType.CONTACT:
                expected = LinkStatus.FROZEN if scope is False else LinkStatus.LINKED
                assert link.state == expected, (link, scope)
            if down and link.state == LinkStatus.LINKED:
                assert normalize_fields(record.fields) == normalize_fields(item.fields), link
            if self.item_type == ItemType.CONTACT and down and link.origin == Origin.SALESFORCE:
                assert scope is not False, link
        linked_mb = {ln.mailbox_id for ln in w.links.values()}
        for mailbox_id in self.live_mb():
            assert mailbox_id in linked_mb, w.mb[mailbox_id]
        if down:
            for sf_id in self.live_sf():
                if in_scope(w.sf[sf_id], rules, w.now) is True:
                    assert sf_id in w.links, w.sf[sf_id]

    @invariant()
    def links_are_one_to_one(self) -> None:
        mailbox_ids = [ln.mailbox_id for ln in self.world.links.values()]
        assert len(mailbox_ids) == len(set(mailbox_ids))
        assert all(sf_id == ln.sf_id for sf_id, ln in self.world.links.items())

    @invariant()
    def no_duplicates(self) -> None:
        for store in (
            [r.fields for r in self.world.sf.values() if not r.deleted],
            [r.fields for r in self.world.mb.values() if not r.gone],
        ):
            keys = Counter(match_key(self.item_type, f) for f in store)
            keys.pop(None, None)
            assert all(count == 1 for count in keys.values()), keys


# Deterministic in CI; PLANNER_EXPLORE=N runs N random examples per machine instead.
EXPLORE = int(os.environ.get("PLANNER_EXPLORE", "0"))
MODEL_SETTINGS = settings(
    max_examples=EXPLORE or 150,
    derandomize=not EXPLORE,
    report_multiple_bugs=False,
    phases=[p for p in Phase if p != Phase.shrink or not os.environ.get("PLANNER_NO_SHRINK")],
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


class ContactMachine(PlannerMachine):
    item_type = ItemType.CONTACT


class TaskMachine(PlannerMachine):
    item_type = ItemType.TASK


class EventMachine(PlannerMachine):
    item_type = ItemType.EVENT


ContactMachine.TestCase.settings = MODEL_SETTINGS
TaskMachine.TestCase.settings = MODEL_SETTINGS
EventMachine.TestCase.settings = MODEL_SETTINGS
test_it_keeps_contacts_in_step = ContactMachine.TestCase
test_it_keeps_tasks_in_step = TaskMachine.TestCase
test_it_keeps_events_in_step = EventMachine.TestCase
