"""The explainer and the planner agree: same inputs → the planner acts on the item iff the
verdict is synced / waiting (SPEC §9, issue 10). One row per case, every reason code."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from syncengine.emails.blocklist import Blocklist
from syncengine.emails.logging_plan import Skip as EmailSkip
from syncengine.emails.logging_plan import plan as email_plan
from syncengine.emails.records import Address, EmailRecord
from syncengine.explain import ItemError, explain, explain_email, explain_spared
from syncengine.planner import (
    ContactScope,
    CreateMailbox,
    CreateSalesforce,
    DeleteMailbox,
    DeleteSalesforce,
    Forget,
    ItemType,
    LinkPair,
    LinkStatus,
    Origin,
    RefreshLink,
    RestoreMailbox,
    Unfreeze,
    UpdateMailbox,
    UpdateSalesforce,
    plan,
)
from syncengine.planner.rules import Reason

from .factories import NOW, OTHER, USER, edited, link, mb, rules, sf

C, T, E = ItemType.CONTACT, ItemType.TASK, ItemType.EVENT
SYNC_ACTIONS = (
    CreateMailbox,
    UpdateMailbox,
    RestoreMailbox,
    CreateSalesforce,
    UpdateSalesforce,
    DeleteSalesforce,
    LinkPair,
    Forget,
)
LEFT_SCOPE = "left the contact scope"


def touches(action: Any, sf_id: str | None, mailbox_id: str | None) -> bool:
    ids = {getattr(action, name, None) for name in ("sf_id", "mailbox_id", "old_mailbox_id")}
    return bool(ids & ({sf_id, mailbox_id} - {None}))


def acted_on(result: Any, case: dict[str, Any]) -> bool:
    """The planner syncs the item: writes it, links it, propagates its deletion — or,
    for a link, leaves it in sync (no action besides re-stamping)."""
    record, item, pair = case.get("salesforce"), case.get("mailbox"), case.get("link")
    sf_id = record.sf_id if record else (pair.sf_id if pair else None)
    mailbox_id = item.mailbox_id if item else (pair.mailbox_id if pair else None)
    mine = [a for a in result.actions if touches(a, sf_id, mailbox_id)]
    for action in mine:
        if isinstance(action, SYNC_ACTIONS):
            return True
        if isinstance(action, DeleteMailbox) and action.reason != LEFT_SCOPE:
            return True
    in_sync = pair is not None and pair.state != LinkStatus.HELD_DELETION
    return in_sync and all(isinstance(a, (RefreshLink, Unfreeze)) for a in mine)


def run_plan(item_type: ItemType, case: dict[str, Any]) -> Any:
    record, item, pair = case.get("salesforce"), case.get("mailbox"), case.get("link")
    return plan(
        item_type,
        links=[pair] if pair else [],
        sf_changes=[record] if record else [],
        mailbox_changes=[item] if item else [],
        rules=case["rules"],
        now=NOW,
    )


def closed_task(sf_id: str = "t1", days_ago: int = 30, **kw: Any):
    when = NOW - dt.timedelta(days=days_ago)
    return sf(sf_id, T, modified=when, status="completed", due_date=when.date(), **kw)


def event_at(sf_id: str, start: dt.datetime, **kw: Any):
    return sf(sf_id, E, start=start, end=start + dt.timedelta(hours=1), **kw)


def row(name: str, item_type: ItemType, code: Reason, **case: Any):
    return (name, item_type, case, code)


def _cases() -> list[tuple[str, ItemType, dict[str, Any], Reason]]:
    contact, item = sf("c1"), mb("m1")
    task, task_item = sf("t1", T), mb("mt1", T)
    event, event_item = sf("e1", E), mb("me1", E)
    synced = link(contact, item)
    off = {C: False, T: True, E: True}
    far = NOW + dt.timedelta(days=90)
    past = NOW - dt.timedelta(days=40)
    return [
        row("linked, unchanged", C, Reason.SYNCED, link=synced, rules=rules()),
        row("task linked, unchanged", T, Reason.SYNCED, link=link(task, task_item), rules=rules()),
        row("new in scope", C, Reason.WAITING_NEXT_SESSION, salesforce=contact, rules=rules()),
        row(
            "edited in Salesforce",
            C,
            Reason.WAITING_NEXT_SESSION,
            link=synced,
            salesforce=edited(contact, title="CEO"),
            rules=rules(),
        ),
        row(
            "edited in the mailbox",
            C,
            Reason.WAITING_NEXT_SESSION,
            link=synced,
            mailbox=edited(item, title="CTO"),
            rules=rules(),
        ),
        row(
            "new in the mailbox",
            C,
            Reason.WAITING_NEXT_SESSION,
            mailbox=mb("m9", first_name="Grace"),
            rules=rules(),
        ),
        row(
            "invited to an event",
            E,
            Reason.WAITING_NEXT_SESSION,
            salesforce=replace(event, owner_id=OTHER, invitee_ids=frozenset({USER})),
            rules=rules(),
        ),
        row(
            "switch off, new",
            C,
            Reason.DOWN_SYNC_OFF,
            salesforce=contact,
            rules=rules(down_enabled=off),
        ),
        row(
            "switch off, edited in Salesforce",
            C,
            Reason.DOWN_SYNC_OFF,
            link=synced,
            salesforce=edited(contact, title="CEO"),
            rules=rules(down_enabled=off),
        ),
        row(
            "task completed 30 days ago",
            T,
            Reason.OUTSIDE_WINDOW,
            salesforce=closed_task(),
            rules=rules(),
        ),
        row(
            "event 90 days ahead",
            E,
            Reason.OUTSIDE_WINDOW,
            salesforce=event_at("e2", far),
            rules=rules(),
        ),
        row(
            "event 40 days back",
            E,
            Reason.OUTSIDE_WINDOW,
            salesforce=event_at("e3", past),
            rules=rules(),
        ),
        row(
            "task of another user",
            T,
            Reason.NOT_ASSIGNEE,
            salesforce=sf("t2", T, owner=OTHER),
            rules=rules(),
        ),
        row(
            "event of another user",
            E,
            Reason.NOT_OWNER_OR_INVITEE,
            salesforce=replace(event, owner_id=OTHER),
            rules=rules(),
        ),
        row(
            "contact of another owner",
            C,
            Reason.NOT_IN_CONTACT_SCOPE,
            salesforce=sf("c2", owner=OTHER),
            rules=rules(),
        ),
        row(
            "linked contact changed owner",
            C,
            Reason.NOT_IN_CONTACT_SCOPE,
            link=synced,
            salesforce=edited(replace(contact, owner_id=OTHER)),
            rules=rules(),
        ),
        row(
            "contact not in the view",
            C,
            Reason.NOT_IN_VIEW,
            salesforce=contact,
            rules=rules(
                contact_scope=ContactScope.VIEW, view_member_ids=frozenset({"x"}), view_name="VIPs"
            ),
        ),
        row(
            "contact in the view",
            C,
            Reason.WAITING_NEXT_SESSION,
            salesforce=contact,
            rules=rules(contact_scope=ContactScope.VIEW, view_member_ids=frozenset({"c1"})),
        ),
        row(
            "view deleted",
            C,
            Reason.VIEW_MISSING,
            salesforce=contact,
            rules=rules(contact_scope=ContactScope.VIEW, view_name="VIPs"),
        ),
        row(
            "view deleted, edited in Salesforce",
            C,
            Reason.VIEW_MISSING,
            link=synced,
            salesforce=edited(contact, title="CEO"),
            rules=rules(contact_scope=ContactScope.VIEW),
        ),
        row(
            "moved out of the folder, never linked",
            C,
            Reason.NOT_MARKED_FOR_SALESFORCE,
            mailbox=replace(mb("m8"), marked=False),
            rules=rules(),
        ),
        row(
            "deletion held",
            C,
            Reason.HELD_FOR_CONFIRMATION,
            link=replace(synced, state=LinkStatus.HELD_DELETION),
            rules=rules(),
        ),
        row(
            "linked task left its window",
            T,
            Reason.FROZEN,
            link=link(task, task_item),
            salesforce=closed_task(),
            rules=rules(),
        ),
        row(
            "frozen event edited in Salesforce",
            E,
            Reason.FROZEN,
            link=link(event_at("e4", past), event_item, state=LinkStatus.FROZEN),
            salesforce=edited(event_at("e4", past), subject="Moved"),
            rules=rules(),
        ),
        row(
            "frozen event edited in the mailbox",
            E,
            Reason.WAITING_NEXT_SESSION,
            link=link(event_at("e4", past), event_item, state=LinkStatus.FROZEN),
            mailbox=edited(event_item, subject="Mine"),
            rules=rules(),
        ),
        row(
            "deleted in Salesforce",
            C,
            Reason.DELETION_PENDING,
            link=synced,
            salesforce=replace(contact, deleted=True),
            rules=rules(),
        ),
        row(
            "deleted in the mailbox",
            T,
            Reason.DELETION_PENDING,
            link=link(task, task_item),
            mailbox=replace(task_item, deleted=True),
            rules=rules(),
        ),
        row(
            "user's own contact out of scope stays",
            C,
            Reason.SYNCED,
            link=link(sf("c3", owner=OTHER), mb("m3"), origin=Origin.MAILBOX),
            rules=rules(),
        ),
    ]


CASES = _cases()


def test_it_covers_every_reason_code_but_the_runtime_ones():
    covered = {code for *_, code in CASES}
    # blocked_address (emails), error (a refused write) and organized_meeting (a write the
    # mailbox would announce; the executor decides it) have their own tests.
    runtime = {Reason.BLOCKED_ADDRESS, Reason.ERROR, Reason.ORGANIZED_MEETING}
    assert covered | runtime == set(Reason)


def test_it_says_why_a_salesforce_change_stayed_out_of_an_organized_meeting():
    changed = explain_spared(3, deleted=False)
    assert changed.code == Reason.ORGANIZED_MEETING and not changed.acted_on
    assert "email its 3 attendees" in changed.sentence
    assert "change it in your calendar" in changed.sentence
    kept = explain_spared(1, deleted=True)
    assert "its 1 attendee " in kept.sentence and "kept in your calendar" in kept.sentence
    assert kept.state == "excluded"


@pytest.mark.parametrize(("name", "item_type", "case", "code"), CASES, ids=[c[0] for c in CASES])
def test_it_agrees_with_the_planner(name, item_type, case, code):
    verdict = explain(item_type, now=NOW, **case)
    assert verdict.code == code, verdict.sentence
    assert verdict.sentence
    assert acted_on(run_plan(item_type, case), case) is verdict.acted_on, name


def test_it_names_the_owner_and_the_scope():
    verdict = explain(
        C, rules=rules(), now=NOW, salesforce=sf("c2", owner=OTHER), owner_names={OTHER: "Bob"}
    )
    assert (
        verdict.sentence
        == "This contact is owned by Bob (005OTHER); your scope is Only my contacts."
    )


def test_it_dates_when_a_record_left_or_enters_the_window():
    left = explain(T, rules=rules(), now=NOW, salesforce=closed_task(days_ago=30))
    # due 30 days ago, completed then: out 15 days after its due date
    assert left.date == (NOW - dt.timedelta(days=30)).date() + dt.timedelta(days=15)
    assert "left it on" in left.sentence
    ahead = explain(
        E, rules=rules(), now=NOW, salesforce=event_at("e", NOW + dt.timedelta(days=90))
    )
    assert ahead.date == (NOW + dt.timedelta(days=30)).date()
    assert "enters it on" in ahead.sentence
    view = explain(
        C,
        rules=rules(contact_scope=ContactScope.VIEW, view_member_ids=frozenset(), view_name="VIPs"),
        now=NOW,
        salesforce=sf(),
    )
    assert "“VIPs”" in view.sentence


def test_it_reports_the_last_error_and_the_planner_retries():
    """An error is the session's fact, not a rule: the verdict says what the side said and
    when; the planner plans the write again (so the next session retries it)."""
    record = sf("c1")
    error = ItemError(
        "salesforce", "REQUIRED_FIELD_MISSING: Last Name", NOW - dt.timedelta(hours=1)
    )
    verdict = explain(
        C, rules=rules(time_zone="Europe/Paris"), now=NOW, salesforce=record, error=error
    )
    assert verdict.code == Reason.ERROR
    assert "REQUIRED_FIELD_MISSING: Last Name" in verdict.sentence
    assert "2024-03-15 12:00 (Europe/Paris)" in verdict.sentence  # 11:00 UTC, in the user's zone
    case = {"salesforce": record, "rules": rules()}
    assert acted_on(run_plan(C, case), case)


ME = "me@acme.com"
NOW_EMAIL = dt.datetime(2024, 3, 15, 12, tzinfo=dt.UTC)


def _email(*addresses: str) -> EmailRecord:
    return EmailRecord(
        mailbox_id="mb-1",
        message_id="<m1@x>",
        subject="Quote",
        sender=Address(addresses[0]),
        to=tuple(Address(a) for a in addresses[1:]),
        sent_at=NOW_EMAIL,
        in_salesforce_folder=True,
    )


@pytest.mark.parametrize(
    ("participants", "blocked"),
    [
        (("noreply@vendor.com", ME, "x@gmail.com"), True),
        (("bob@customer.com", ME), False),
        (("carol@eu.acme.com", ME), True),  # the user's own domain, subdomains included
    ],
)
def test_it_agrees_with_the_email_plan_on_blocked_addresses(participants, blocked):
    blocklist = Blocklist.merge(org_entries=["vendor.com"], user_own_addresses=[ME])
    record = _email(*participants)
    match = [("0038d0000000001AAA", "Contact", None)]
    actions = email_plan(
        [record],
        user_addresses=[ME],
        blocklist=blocklist,
        logged=(),
        matches={a: match for a in participants},
        now=NOW_EMAIL,
        first_seen={},
    )
    skipped = actions == [EmailSkip(record, "every participant is blocked or internal")]
    verdict = explain_email(participants, own_addresses=[ME], blocklist=blocklist)
    assert skipped is blocked
    assert (verdict is not None) is blocked
    if verdict is not None:
        assert verdict.code == Reason.BLOCKED_ADDRESS
        assert "entry vendor.com" in verdict.sentence or "entry acme.com" in verdict.sentence
