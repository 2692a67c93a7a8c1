"""`sync_explain` after real sessions (SPEC §9): every case answers with the code the
engine acted on — synced, out of window, other owner, not in view, blocked, held, error —
for both mailbox kinds, and the sessions' ledger holds a row per item touched or skipped."""

from __future__ import annotations

import datetime as dt
import io
import json

from django.core.management import call_command

from syncengine.held import confirm_held_deletions
from syncengine.models import ItemLedgerEntry, SyncSession

from .conftest import EMAIL
from .test_it_logs_emails import deliver

Status = SyncSession.Status


def explain(world, query: str, *extra: str) -> list[dict]:
    out = io.StringIO()
    call_command("sync_explain", world.user.email, query, *extra, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def only(world, query: str, *extra: str) -> dict:
    [answer] = explain(world, query, *extra)
    return answer


def test_it_explains_each_case_after_real_sessions(world):
    world.sf_contact("Mine", "mine@example.com")
    world.sf_contact("Theirs", "theirs@example.com", owner=world.other)
    # completed 30 days ago, due then: out of the 14-day window since 15 days after its due date
    world.clock.advance(days=-30)
    world.sf_task("Old report", due=world.clock().date(), Status="Completed")
    world.clock.advance(days=30)
    world.sf_event("Offsite", world.clock() + dt.timedelta(days=90))
    their_task = {"Subject": "Their call", "Status": "Not Started", "Priority": "Normal"}
    world.sfapp.create("Task", their_task, world.other)
    first = world.sync()
    assert first.status == Status.SUCCEEDED, first.error
    first.refresh_from_db()  # the org's allocation as Sforce-Limit-Info said it
    assert first.sf_org_api_limit == world.sfapp.budget_max
    assert 0 < first.sf_org_api_used <= world.sfapp.budget_max

    mine = only(world, "mine@example.com")
    assert (mine["reason_code"], mine["state"], mine["last_action"]) == (
        "synced",
        "synced",
        "created",
    )
    assert mine["mailbox_id"] and mine["salesforce_id"] and mine["last_synced_at"]
    assert mine["last_session_id"] == first.pk

    theirs = only(world, "Theirs")
    assert theirs["reason_code"] == "not_in_contact_scope"
    assert world.other in theirs["reason"] and "Only my contacts" in theirs["reason"]
    assert theirs["mailbox_id"] == ""

    old = only(world, "Old report")
    assert old["type"] == "task" and old["reason_code"] == "outside_window"
    assert "left it on" in old["reason"]

    offsite = only(world, "Offsite")
    assert offsite["reason_code"] == "outside_window" and "enters it on" in offsite["reason"]

    # Never read by a session (tasks are read for their assignee only): one lookup.
    assert explain(world, "Their call") == []
    theirs_task = only(world, "Their call", "--lookup", "task")
    assert theirs_task["reason_code"] == "not_assignee" and world.other in theirs_task["reason"]

    # A last name longer than Salesforce's 80 characters is refused: the error, as said.
    world.add_contact("Long" * 25, "refused@example.com")
    # An email from a blocked domain filed to the Salesforce folder.
    world.settings(blocklist="blocked.example")
    deliver(world, "Spam offer", sender="zed@blocked.example", to=(EMAIL,))
    second = world.sync()
    refused = only(world, "refused@example.com")
    assert refused["reason_code"] == "error", refused
    assert refused["state"] == "error" and "STRING_TOO_LONG" in refused["reason"]
    assert refused["last_session_id"] == second.pk
    blocked = only(world, "Spam offer")
    assert blocked["type"] == "email" and blocked["reason_code"] == "blocked_address"
    assert "entry blocked.example" in blocked["reason"]


def test_it_explains_view_exclusions_and_held_deletions(world):
    view = world.sfapp.add_list_view("VIPs", "VIPs", "everything", "Title = 'VIP'")
    world.settings(contact_scope="view", contact_view_id=view, contact_view_name="VIPs")
    world.sf_contact("Vip", "vip@example.com", Title="VIP")
    world.sf_contact("Plain", "plain@example.com")
    for n in range(30):
        world.sf_contact(f"Person{n}", f"p{n}@example.com", Title="VIP")
    assert world.sync().status == Status.SUCCEEDED

    plain = only(world, "plain@example.com")
    assert plain["reason_code"] == "not_in_view" and "“VIPs”" in plain["reason"]
    assert only(world, "vip@example.com")["reason_code"] == "synced"

    for row in world.sf_live("Contact"):
        world.sfapp.delete(row["Id"], world.me)
    held = world.sync()
    assert held.status == Status.NEEDS_CONFIRMATION
    answer = only(world, "p7@example.com")
    assert (answer["reason_code"], answer["state"], answer["last_action"]) == (
        "held_for_confirmation",
        "held",
        "held",
    )
    rows = ItemLedgerEntry.objects.filter(session=held)
    assert rows.filter(action="held").count() == 31
    assert all(r.name for r in rows)

    done = confirm_held_deletions(world.user, now=world.clock())
    assert done.status == Status.SUCCEEDED, done.error
    answer = only(world, "p7@example.com")
    assert (answer["last_action"], answer["state"], answer["last_session_id"]) == (
        "deleted",
        "gone",
        done.pk,
    )
    assert "Held deletion confirmed." in answer["reason"]
    assert ItemLedgerEntry.objects.filter(session=done, action="deleted").count() == 31
