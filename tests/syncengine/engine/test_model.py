"""A Hypothesis stateful test of the whole engine (the vdirsyncer model, DESIGN.md): random
creates, edits, deletions and moves on both sides through the emulators' Python APIs,
settings changes, clock moves and injected faults, with sessions run through the real
clients over TLS. After every clean session (no fault pending) it checks:

- both sides agree within the scope (canonical fields through the mappers);
- a second session writes nothing;
- links are one-to-one and point at live items on both sides;
- no duplicate (the planner's match keys: a contact's email, a task's subject) ever
  appears in the mailbox folder/list or in Salesforce;
- nothing was deleted except by the rules (the model tracks which items they deleted).

One sandbox stack per module; each example starts from emptied emulators and a fresh
Relay user. CI runs a bounded, derandomized budget; for a deeper local run:

    RELAY_MODEL_EXAMPLES=200 RELAY_MODEL_RANDOM=1 \
        .venv/bin/pytest tests/syncengine/engine/test_model.py
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import syncengine.executor as executor
from accounts.models import User
from sandbox.ews import builders as ews_builders
from syncengine.mappers import exchange as emap
from syncengine.mappers import google as gmap
from syncengine.mappers import graph as xmap
from syncengine.mappers import salesforce as smap
from syncengine.models import SyncLink, SyncSession

from .conftest import EMAIL, KINDS, make_world

Status = SyncSession.Status
WRITES = ("created", "updated", "deleted", "restored", "conflicts", "errors")
SCOPES = ("mine", "all", "view")
VIP = "VIP"

EXAMPLES = int(os.environ.get("RELAY_MODEL_EXAMPLES", "6"))
STEPS = int(os.environ.get("RELAY_MODEL_STEPS", "25"))
RANDOM = bool(os.environ.get("RELAY_MODEL_RANDOM"))


def contact_key(fields: dict[str, Any]) -> str:
    return str(fields.get("email") or "").lower()


def task_key(fields: dict[str, Any]) -> str:
    return str(fields.get("subject") or "").split(" ")[0]


class EngineModel(RuleBasedStateMachine):
    """`kind` and `sandbox` are set on a subclass per test."""

    kind = "office365"
    sandbox: Any = None

    def __init__(self) -> None:
        super().__init__()
        User.objects.filter(email=EMAIL).delete()  # a fresh Relay user: no links, cursors
        # The test applied the sandbox settings once: setting them per example would nest
        # one more pytest-django override each time (RecursionError in long runs).
        self.w = make_world(self.kind, self.sandbox, SimpleNamespace())
        self.n = 0
        self.keys: dict[str, set[str]] = {"contact": set(), "task": set()}
        self.deleted: dict[str, set[str]] = {"contact": set(), "task": set()}
        self.fault = False
        self.sf_budget_used: int | None = None
        self.crash_patch: Any = None
        self.view = self.w.sfapp.add_list_view("VIPs", "VIPs", "everything", f"Title = '{VIP}'")
        self.scope = "mine"
        self.down = {"contact": True, "task": True}
        self.checked = True

    @initialize()
    def first_session(self) -> None:
        self.session()

    # -- reading both sides -------------------------------------------------------------

    def sf_rows(self, item_type: str) -> list[dict[str, Any]]:
        if item_type == "contact":
            soql = "SELECT Id, FirstName, LastName, Email, Title, OwnerId FROM Contact"
        else:
            soql = (
                "SELECT Id, Subject, Description, ActivityDate, Status, Priority, OwnerId FROM Task"
            )
        return self.w.sfapp.query(soql, self.w.me)

    def sf_fields(self, item_type: str, row: dict[str, Any]) -> dict[str, Any]:
        if item_type == "contact":
            return dict(smap.contact_from_sf(row))
        return dict(smap.task_from_sf(row))

    def mailbox_items(self, item_type: str) -> list[tuple[str, dict[str, Any]]]:
        """(id, canonical fields) of the items in the Salesforce folder / list / group."""
        w, out = self.w, []
        items = w.contacts() if item_type == "contact" else w.tasks()
        for item in items:
            raw = item["raw"]
            if w.kind == "exchange":
                fields = (
                    emap.contact_from_ews(raw)
                    if item_type == "contact"
                    else emap.task_from_ews(raw)
                )
            elif item_type == "contact":
                fields = (
                    xmap.contact_from_graph(raw)
                    if w.kind == "office365"
                    else gmap.contact_from_google(raw)
                )
            else:
                fields = (
                    xmap.task_from_graph(raw, "UTC")
                    if w.kind == "office365"
                    else gmap.task_from_google(raw, None)
                )
            out.append((item["id"], dict(fields)))
        return out

    def in_scope(self, row: dict[str, Any]) -> bool:
        if self.scope == "all":
            return True
        if self.scope == "mine":
            return row["OwnerId"] == self.w.me
        return row.get("Title") == VIP

    # -- Salesforce, as a person ----------------------------------------------------------

    def has(self, item_type: str) -> bool:
        return SyncLink.objects.filter(user=self.w.user, item_type=item_type).exists()

    def new_key(self) -> int:
        self.n += 1
        return self.n

    @rule(
        owner_me=st.booleans(),
        vip=st.booleans(),
    )
    def sf_create_contact(self, owner_me: bool, vip: bool) -> None:
        n = self.new_key()
        email = f"c{n}@example.com"
        more = {"Title": VIP} if vip else {}
        self.w.sf_contact(f"C{n}", email, owner=None if owner_me else self.w.other, **more)
        self.keys["contact"].add(email)

    @rule()
    def sf_create_task(self) -> None:
        n = self.new_key()
        self.w.sf_task(f"T{n} new")
        self.keys["task"].add(f"T{n}")

    def _pick_sf(self, data: Any, item_type: str) -> dict[str, Any] | None:
        rows = sorted(self.sf_rows(item_type), key=lambda r: r["Id"])
        return data.draw(st.sampled_from(rows)) if rows else None

    @precondition(lambda self: self.has("contact"))
    @rule(data=st.data(), field=st.sampled_from(["name", "vip", "owner"]))
    def sf_edit_contact(self, data: Any, field: str) -> None:
        row = self._pick_sf(data, "contact")
        if row is None:
            return
        if field == "name":
            self.w.sfapp.update(row["Id"], {"LastName": f"{row['LastName']}s"}, self.w.me)
        elif field == "vip":
            title = "" if row.get("Title") == VIP else VIP
            self.w.sfapp.update(row["Id"], {"Title": title or None}, self.w.me)
        else:
            owner = self.w.other if row["OwnerId"] == self.w.me else self.w.me
            self.w.sfapp.update(row["Id"], {"OwnerId": owner}, self.w.me)

    @precondition(lambda self: self.has("task"))
    @rule(data=st.data())
    def sf_edit_task(self, data: Any) -> None:
        row = self._pick_sf(data, "task")
        if row is not None:
            self.w.sfapp.update(row["Id"], {"Subject": f"{row['Subject']}+"}, self.w.me)

    @precondition(lambda self: self.has("contact") or self.has("task"))
    @rule(data=st.data(), item_type=st.sampled_from(["contact", "task"]))
    def sf_delete(self, data: Any, item_type: str) -> None:
        row = self._pick_sf(data, item_type)
        if row is None:
            return
        fields = self.sf_fields(item_type, row)
        key = contact_key(fields) if item_type == "contact" else task_key(fields)
        self.w.sfapp.delete(row["Id"], self.w.me)
        self.deleted[item_type].add(key)

    # -- the mailbox, as the user ---------------------------------------------------------

    @rule()
    def mailbox_create_contact(self) -> None:
        n = self.new_key()
        email = f"c{n}@example.com"
        self.w.add_contact(f"C{n}", email)
        self.keys["contact"].add(email)

    @rule()
    def mailbox_create_task(self) -> None:
        n = self.new_key()
        lid = self.w.container("tasks")
        if self.w.kind == "exchange":
            self.w.mbapp.create_item(EMAIL, ews_builders.task(f"T{n} typed"), lid)
        else:
            self.w.mbapp.create_task(EMAIL, lid, {"title": f"T{n} typed"})
        self.keys["task"].add(f"T{n}")

    def _pick_mailbox(self, data: Any, item_type: str) -> tuple[str, dict[str, Any]] | None:
        items = sorted(self.mailbox_items(item_type))
        return data.draw(st.sampled_from(items)) if items else None

    @precondition(lambda self: self.has("contact"))
    @rule(data=st.data())
    def mailbox_edit_contact(self, data: Any) -> None:
        picked = self._pick_mailbox(data, "contact")
        if picked is not None:
            self.w.edit_contact(picked[0], f"{picked[1]['last_name']}m")

    @precondition(lambda self: self.has("task"))
    @rule(data=st.data())
    def mailbox_edit_task(self, data: Any) -> None:
        picked = self._pick_mailbox(data, "task")
        if picked is not None:
            self.w.edit_task(picked[0], f"{picked[1]['subject']}~")

    @precondition(lambda self: self.has("contact") or self.has("task"))
    @rule(data=st.data(), item_type=st.sampled_from(["contact", "task"]))
    def mailbox_delete(self, data: Any, item_type: str) -> None:
        picked = self._pick_mailbox(data, item_type)
        if picked is None:
            return
        item_id, fields = picked
        if item_type == "contact":
            self.w.delete_contact(item_id)
            self.deleted["contact"].add(contact_key(fields))
        elif self.w.kind == "exchange":
            self.w.mbapp.delete_item_as_user(EMAIL, item_id)
            self.deleted["task"].add(task_key(fields))
        else:
            self.w.mbapp.delete_task(EMAIL, self.w.container("tasks"), item_id)
            self.deleted["task"].add(task_key(fields))

    @precondition(lambda self: self.has("contact"))
    @rule(data=st.data())
    def mailbox_move_contact_out(self, data: Any) -> None:
        picked = self._pick_mailbox(data, "contact")
        if picked is None:
            return
        item_id, fields = picked
        if self.w.kind == "exchange":
            from exchangelib.folders import Contacts, Root

            account = self.w.ews_account()
            [contact] = account.fetch(ids=[(item_id, None)])
            contact.move(Contacts(root=Root(account=account)))  # to the default folder
        elif self.w.kind == "office365":
            self.w.mbapp.move_contact(EMAIL, item_id, None)
        else:
            self.w.mbapp.modify_group(EMAIL, self.w.container("contacts"), remove=[item_id])
        self.deleted["contact"].add(contact_key(fields))

    # -- settings, clock, faults ------------------------------------------------------------

    @rule(
        setting=st.sampled_from(
            ["scope", "contact_down", "task_down", "contact_auto_removal", "task_auto_removal"]
        ),
        data=st.data(),
    )
    def change_setting(self, setting: str, data: Any) -> None:
        if setting == "scope":
            self.scope = data.draw(st.sampled_from(SCOPES))
            view = self.view if self.scope == "view" else ""
            self.w.settings(contact_scope=self.scope, contact_view_id=view)
            return
        item_type, _, what = setting.partition("_")
        on = data.draw(st.booleans())
        if what == "down":
            self.down[item_type] = on
            self.w.settings(**{f"{item_type}s_down_enabled": on})
        else:
            self.w.settings(**{f"auto_remove_{item_type}s": on})

    @rule(hours=st.sampled_from([1, 20, 72]))
    def move_clock(self, hours: int) -> None:
        self.w.clock.advance(hours=hours)

    @rule(
        fault=st.sampled_from(
            ["sf_503", "mailbox_503", "sf_limit", "mailbox_429", "crash", "expire_cursors"]
        ),
        n=st.integers(1, 3),
    )
    def inject_fault(self, fault: str, n: int) -> None:
        app = self.w.sfapp if fault.startswith("sf") else self.w.mbapp
        if fault.endswith("503"):
            app.fail_next(n, 503)
        elif fault == "sf_limit":
            # Salesforce's throttle is 403 REQUEST_LIMIT_EXCEEDED, never 429: the org's
            # daily allocation is spent until the session is over.
            if self.sf_budget_used is None:
                self.sf_budget_used = self.w.sfapp.budget_used
            self.w.sfapp.exhaust_budget()
        elif fault.endswith("429") and self.w.kind == "exchange":
            app.server_busy_next(1, back_off_ms=30_000)  # EWS throttles with ErrorServerBusy
        elif fault.endswith("429"):
            app.throttle_next(1, retry_after=30)
        elif fault == "crash":
            self._crash_after_a_write()
        else:  # an expired cursor is no fault: the session must still be clean
            if self.w.kind == "exchange":
                self.w.mbapp.invalidate_sync_states(EMAIL)
            elif self.w.kind == "office365":
                self.w.mbapp.expire_delta_tokens(EMAIL)
            else:
                self.w.mbapp.expire_sync_tokens(EMAIL)
            return
        self.fault = True

    def _crash_after_a_write(self) -> None:
        """The worker dies between a side write and its link (once)."""
        if self.crash_patch is not None:
            return
        real = self.crash_patch = executor.write_link
        calls = {"n": 0}

        def crash_once(*args: Any, **kwargs: Any) -> None:
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("worker killed")
            real(*args, **kwargs)

        executor.write_link = crash_once

    # -- sessions -----------------------------------------------------------------------------

    @rule()
    def sync(self) -> None:
        self.session()

    @rule()
    def sync_after_more_changes(self) -> None:  # a second rule: sessions come often
        self.session()

    @rule()
    def sync_again(self) -> None:
        self.session()

    def session(self) -> None:
        faulted = self.fault
        try:
            session = self.w.sync()
        finally:
            self.w.sfapp.clear_faults()
            self.w.mbapp.clear_faults()
            self._restore_sf_budget()
            if self.crash_patch is not None:
                executor.write_link = self.crash_patch
                self.crash_patch = None
            self.fault = False
        if faulted:
            assert session.status in (
                Status.RETRY_LATER,
                Status.FAILED,
                Status.SUCCEEDED,
                Status.PARTIAL,
            )
            self.checked = False
            return
        assert session.status == Status.SUCCEEDED, (session.status, session.error)
        self.check_agreement()
        again = self.w.sync()
        assert again.status == Status.SUCCEEDED, (again.status, again.error)
        writes = {
            (t, d, k): n
            for t, per_type in again.counters.items()
            for d, per_dir in per_type.items()
            for k, n in per_dir.items()
            if k in WRITES and n
        }
        assert not writes and not again.changed, writes
        self.checked = True

    def _restore_sf_budget(self) -> None:
        if self.sf_budget_used is not None:
            self.w.sfapp.set_budget(used=self.sf_budget_used)
            self.sf_budget_used = None

    def teardown(self) -> None:
        if self.crash_patch is not None:
            executor.write_link = self.crash_patch
        self.w.sfapp.clear_faults()
        self.w.mbapp.clear_faults()
        self._restore_sf_budget()

    # -- invariants -----------------------------------------------------------------------------

    @invariant()
    def no_duplicates_ever(self) -> None:
        for item_type, key_of in (("contact", contact_key), ("task", task_key)):
            mailbox_keys = [key_of(f) for _, f in self.mailbox_items(item_type)]
            assert len(mailbox_keys) == len(set(mailbox_keys)), (item_type, sorted(mailbox_keys))
            sf_keys = [key_of(self.sf_fields(item_type, r)) for r in self.sf_rows(item_type)]
            assert len(sf_keys) == len(set(sf_keys)), (item_type, sorted(sf_keys))

    @invariant()
    def links_are_one_to_one(self) -> None:
        for item_type in ("contact", "task"):
            rows = list(SyncLink.objects.filter(user=self.w.user, item_type=item_type))
            assert len({r.sf_id for r in rows}) == len(rows)
            assert len({r.mailbox_id for r in rows}) == len(rows)

    def check_agreement(self) -> None:
        for item_type, key_of in (("contact", contact_key), ("task", task_key)):
            links = {
                r.sf_id: r for r in SyncLink.objects.filter(user=self.w.user, item_type=item_type)
            }
            assert all(r.state == "linked" for r in links.values())
            sf = {r["Id"]: r for r in self.sf_rows(item_type)}
            mailbox = dict(self.mailbox_items(item_type))
            by_mailbox = {r.mailbox_id: r for r in links.values()}
            # Every link joins two live items.
            for sf_id, link in links.items():
                assert sf_id in sf, (item_type, "link to a deleted record", sf_id)
                assert link.mailbox_id in mailbox, (item_type, "link to a gone item", sf_id)
            # Up-sync always runs: every marked mailbox item is linked.
            unlinked = [f for i, f in mailbox.items() if i not in by_mailbox]
            assert not unlinked, (item_type, "not sent up", unlinked)
            # Nothing was deleted but by the rules.
            sf_keys = {key_of(self.sf_fields(item_type, r)) for r in sf.values()}
            lost = self.keys[item_type] - self.deleted[item_type] - sf_keys
            assert not lost, (item_type, "deleted without a rule", sorted(lost))
            if not self.down[item_type]:
                continue  # Salesforce changes wait on the links; nothing else goes down
            for sf_id, row in sf.items():
                wanted = item_type == "task" or self.in_scope(row)
                link = links.get(sf_id)
                if wanted:
                    assert link is not None, (item_type, "not brought down", row)
                if link is None:
                    continue
                if item_type == "contact" and link.origin == "salesforce":
                    assert wanted, ("contact left the scope but stayed", row)
                theirs = self.sf_fields(item_type, row)
                ours = mailbox[link.mailbox_id]
                fields = ("last_name", "email", "title") if item_type == "contact" else ("subject",)
                for name in fields:
                    assert (theirs.get(name) or None) == (ours.get(name) or None), (
                        item_type,
                        name,
                        theirs,
                        ours,
                    )


@pytest.mark.parametrize("kind", KINDS)
def test_the_engine_model(kind, sandbox, settings, db):
    for name, value in sandbox.settings().items():
        setattr(settings, name, value)
    machine = type(f"EngineModel_{kind}", (EngineModel,), {"kind": kind, "sandbox": sandbox})
    run_state_machine_as_test(
        machine,
        settings=settings_for_run(),
    )


def settings_for_run() -> hsettings:
    return hsettings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
