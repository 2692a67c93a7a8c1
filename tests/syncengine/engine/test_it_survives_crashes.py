"""Issue 16: a create whose worker dies (at every write boundary) or whose response is lost,
then an edit of the item's matching field before the next session, ends with exactly one
copy on each side and the edit applied — for tasks (subject, due date), contacts (email)
and events (start, subject), in both directions, for every mailbox kind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from syncengine.faults import (
    AFTER_LINK,
    AFTER_MARKER,
    AFTER_WRITE,
    BEFORE_WRITE,
    crash_at,
    injected,
)
from syncengine.models import SyncLink, SyncSession, WriteIntent

from .conftest import EMAIL, NOW, World

Status = SyncSession.Status
DAY = dt.timedelta(days=1)
DUE = (NOW + 3 * DAY).date()
START = NOW.replace(hour=9, minute=0) + 2 * DAY
N = 3  # items created in the one batch

# (boundary, index in the batch): index 0 of AFTER_LINK is the mid-batch crash.
CRASHES = [
    (BEFORE_WRITE, 0),
    (AFTER_WRITE, 0),
    (AFTER_LINK, 0),
    (AFTER_LINK, N - 1),
    (AFTER_MARKER, 0),
]
CRASH_IDS = ["before-write", "after-write", "mid-batch", "after-links", "after-marker"]
# (item type, matching field edited before the next session)
EDITS = [
    ("task", "subject"),
    ("task", "due"),
    ("contact", "email"),
    ("event", "start"),
    ("event", "subject"),
]
EDIT_IDS = [f"{t}-{f}" for t, f in EDITS]


# -- the user, in the mailbox ------------------------------------------------------------


def _graph_when(value: dt.datetime) -> dict[str, str]:
    return {"dateTime": value.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def _google_when(value: dt.datetime) -> dict[str, str]:
    return {"dateTime": value.strftime("%Y-%m-%dT%H:%M:%SZ")}


def mailbox_create(world: World, item_type: str, n: int) -> str:
    app = world.mbapp
    if item_type == "contact":
        return world.add_contact(f"Person{n}", f"p{n}@example.com")
    if world.kind == "exchange":  # the kind-neutral helpers of World
        start = START + n * dt.timedelta(hours=2)
        if item_type == "task":
            return world.add_task(f"Task {n}", DUE)
        return world.add_event(f"Meeting {n}", start, start + dt.timedelta(hours=1))
    if item_type == "task":
        lid = world.container("tasks")
        due = dt.datetime.combine(DUE, dt.time(), tzinfo=dt.UTC)
        if world.kind == "office365":
            fields = {"title": f"Task {n}", "dueDateTime": _graph_when(due)}
        else:
            fields = {"title": f"Task {n}", "due": f"{DUE.isoformat()}T00:00:00.000Z"}
        return app.create_task(EMAIL, lid, fields)["id"]
    start = START + n * dt.timedelta(hours=2)
    end = start + dt.timedelta(hours=1)
    if world.kind == "office365":
        item = app.create_event(
            EMAIL,
            {
                "subject": f"Meeting {n}",
                "start": _graph_when(start),
                "end": _graph_when(end),
                "categories": ["Salesforce"],
            },
        )
    else:
        item = app.create_event(
            EMAIL,
            {
                "summary": f"Meeting {n}",
                "start": _google_when(start),
                "end": _google_when(end),
                "extendedProperties": {"private": {"relaySalesforce": "1"}},
            },
        )
    return item["id"]


def mailbox_edit(world: World, item_type: str, item_id: str, field: str) -> None:
    app, graph = world.mbapp, world.kind == "office365"
    if world.kind == "exchange":  # the kind-neutral helpers of World
        start = START + 5 * DAY
        if item_type == "contact":
            world.edit_contact_email(item_id, "edited@example.com")
        elif item_type == "task" and field == "subject":
            world.edit_task(item_id, "Renamed task")
        elif item_type == "task":
            world.edit_task_due(item_id, DUE + 5 * DAY)
        elif field == "subject":
            world.edit_event(item_id, subject="Renamed meeting")
        else:
            world.edit_event(item_id, start=start, end=start + dt.timedelta(hours=1))
        return
    if item_type == "contact":
        address = "edited@example.com"
        change = (
            {"emailAddresses": [{"address": address, "name": "Edited"}]}
            if graph
            else {"emailAddresses": [{"value": address}]}
        )
        app.update_contact(EMAIL, item_id, change)
    elif item_type == "task":
        lid = world.container("tasks")
        if field == "subject":
            change = {"title": "Renamed task"}
        else:
            moved = DUE + 5 * DAY
            change = (
                {"dueDateTime": _graph_when(dt.datetime.combine(moved, dt.time()))}
                if graph
                else {"due": f"{moved.isoformat()}T00:00:00.000Z"}
            )
        app.update_task(EMAIL, lid, item_id, change)
    elif field == "subject":
        app.update_event(
            EMAIL,
            item_id,
            {"subject": "Renamed meeting"} if graph else {"summary": "Renamed meeting"},
        )
    else:
        start = START + 5 * DAY
        when = _graph_when if graph else _google_when
        app.update_event(
            EMAIL,
            item_id,
            {"start": when(start), "end": when(start + dt.timedelta(hours=1))},
        )


def mailbox_count(world: World, item_type: str) -> int:
    if item_type == "contact":
        return len(world.contacts())
    if item_type == "task":
        return len(world.tasks())
    return len(world.events())


# -- Salesforce ----------------------------------------------------------------------------

SOBJECT = {"contact": "Contact", "task": "Task", "event": "Event"}
FIELDS = {
    "contact": "Id, Email, LastName",
    "task": "Id, Subject, ActivityDate",
    "event": "Id, Subject, StartDateTime",
}


def sf_rows(world: World, item_type: str) -> list[dict[str, Any]]:
    query = f"SELECT {FIELDS[item_type]} FROM {SOBJECT[item_type]}"
    return world.sfapp.query(query, world.me)


def sf_create(world: World, item_type: str, n: int) -> str:
    if item_type == "contact":
        return world.sf_contact(f"Person{n}", f"p{n}@example.com")
    if item_type == "task":
        return world.sf_task(f"Task {n}", DUE)
    return world.sf_event(f"Meeting {n}", START + n * dt.timedelta(hours=2))


def sf_edit(world: World, item_type: str, sf_id: str, field: str) -> None:
    if item_type == "contact":
        change = {"Email": "edited@example.com"}
    elif item_type == "task":
        due = (DUE + 5 * DAY).isoformat()
        change = {"Subject": "Renamed task"} if field == "subject" else {"ActivityDate": due}
    elif field == "subject":
        change = {"Subject": "Renamed meeting"}
    else:
        start = START + 5 * DAY
        stamp = "%Y-%m-%dT%H:%M:%S.000+0000"
        change = {
            "StartDateTime": start.strftime(stamp),
            "EndDateTime": (start + dt.timedelta(hours=1)).strftime(stamp),
        }
    world.sfapp.update(sf_id, change, world.me)


def edited_value(item_type: str, field: str, row: dict[str, Any]) -> bool:
    """Whether the Salesforce row carries the edit made before the healing session."""
    if item_type == "contact":
        return row["Email"] == "edited@example.com"
    if field == "subject":
        return row["Subject"].startswith("Renamed")
    if item_type == "task":
        return row["ActivityDate"] == (DUE + 5 * DAY).isoformat()
    return row["StartDateTime"].startswith((START + 5 * DAY).strftime("%Y-%m-%dT%H:%M"))


# -- the scenario ----------------------------------------------------------------------------


def assert_healed(world: World, item_type: str, field: str) -> None:
    healed = world.sync()
    assert healed.status == Status.SUCCEEDED, healed.error
    rows = sf_rows(world, item_type)
    assert len(rows) == N, rows  # no duplicate in Salesforce
    assert mailbox_count(world, item_type) == N  # none in the mailbox
    assert sum(edited_value(item_type, field, r) for r in rows) == 1  # the edit arrived
    assert SyncLink.objects.filter(user=world.user, item_type=item_type).count() == N
    assert not WriteIntent.objects.filter(user=world.user).exists()
    quiet = world.sync()
    assert quiet.status == Status.SUCCEEDED, quiet.error
    assert not quiet.changed, (healed.counters["contact"], quiet.counters["contact"])


def crash_up(world: World, item_type: str, fail: Callable[[], SyncSession]) -> list[str]:
    """Steps 1-2: the user creates N items in the mailbox; the session that creates them
    in Salesforce dies (or loses the create's answer)."""
    world.sync()  # the containers
    ids = [mailbox_create(world, item_type, n) for n in range(N)]
    fail()
    return ids


@pytest.mark.parametrize(("boundary", "index"), CRASHES, ids=CRASH_IDS)
@pytest.mark.parametrize(("item_type", "field"), EDITS, ids=EDIT_IDS)
def test_it_makes_no_duplicate_when_a_salesforce_create_crashes_and_the_user_edits(
    world, item_type, field, boundary, index
):
    def crash() -> SyncSession:
        with injected(crash_at(boundary, item_type, "create_salesforce", index)):
            session = world.sync()
        assert session.status == Status.FAILED
        assert "worker killed" in session.error
        return session

    ids = crash_up(world, item_type, crash)
    mailbox_edit(world, item_type, ids[1], field)  # step 3
    assert_healed(world, item_type, field)  # step 4


@pytest.mark.parametrize(("item_type", "field"), EDITS, ids=EDIT_IDS)
def test_it_makes_no_duplicate_when_a_salesforce_create_answer_is_lost(world, item_type, field):
    def lose() -> SyncSession:
        world.sfapp.lose_response_next(1, match="composite/sobjects", method="POST")
        session = world.sync()
        assert session.status == Status.RETRY_LATER, session.error
        assert len(sf_rows(world, item_type)) == N  # Salesforce applied it
        return session

    ids = crash_up(world, item_type, lose)
    mailbox_edit(world, item_type, ids[1], field)
    assert_healed(world, item_type, field)


@pytest.mark.parametrize("fault", ["after-write", "lost-answer"])
@pytest.mark.parametrize(
    ("item_type", "field"),
    [("task", "subject"), ("task", "due"), ("contact", "email"), ("event", "start")],
)
def test_it_finds_a_lost_salesforce_create_the_user_edited_in_salesforce(
    world, item_type, field, fault
):
    """The created record itself is edited in Salesforce before the next session: its
    content no longer is what was sent, nor matches the mailbox item."""

    def fail() -> SyncSession:
        if fault == "lost-answer":
            world.sfapp.lose_response_next(1, match="composite/sobjects", method="POST")
            return world.sync()
        with injected(crash_at(AFTER_WRITE, item_type, "create_salesforce")):
            return world.sync()

    crash_up(world, item_type, fail)
    rows = sorted(sf_rows(world, item_type), key=lambda r: r["Id"])
    assert len(rows) == N
    sf_edit(world, item_type, rows[1]["Id"], field)
    assert_healed(world, item_type, field)


def crash_down(world: World, item_type: str, fail: Callable[[], SyncSession]) -> list[str]:
    """The same the other way: records created in Salesforce, the session bringing them
    down dies (or loses the mailbox's answer)."""
    world.sync()  # the containers
    ids = [sf_create(world, item_type, n) for n in range(N)]
    fail()
    return ids


def _mailbox_create_call(world: World, item_type: str) -> tuple[str, str]:
    """(path, body text) of the call that creates mailbox items of the type: Graph and
    Google batches carry reads too, a batch of creates holds POST requests; People
    creates contacts with batchCreateContacts; EWS has one endpoint, CreateItem the SOAP
    operation."""
    if world.kind == "office365":
        return "$batch", '"POST"'
    if world.kind == "exchange":
        return "Exchange.asmx", "CreateItem"
    if item_type == "contact":
        return "batchCreateContacts", ""
    return "batch", "POST "


@pytest.mark.parametrize(("boundary", "index"), CRASHES, ids=CRASH_IDS)
@pytest.mark.parametrize(("item_type", "field"), EDITS, ids=EDIT_IDS)
def test_it_makes_no_duplicate_when_a_mailbox_create_crashes_and_the_user_edits(
    world, item_type, field, boundary, index
):
    def crash() -> SyncSession:
        with injected(crash_at(boundary, item_type, "create_mailbox", index)):
            session = world.sync()
        assert session.status == Status.FAILED
        return session

    ids = crash_down(world, item_type, crash)
    sf_edit(world, item_type, ids[1], field)
    assert_healed(world, item_type, field)


@pytest.mark.parametrize(("item_type", "field"), EDITS, ids=EDIT_IDS)
def test_it_makes_no_duplicate_when_a_mailbox_create_answer_is_lost(world, item_type, field):
    def lose() -> SyncSession:
        path, body = _mailbox_create_call(world, item_type)
        world.mbapp.lose_response_next(1, path, "POST", body_match=body)
        session = world.sync()
        assert session.status in (Status.RETRY_LATER, Status.FAILED), session.error
        assert mailbox_count(world, item_type) >= 1  # the mailbox applied it
        return session

    ids = crash_down(world, item_type, lose)
    sf_edit(world, item_type, ids[1], field)
    assert_healed(world, item_type, field)


def test_it_logs_an_email_once_when_the_create_answer_is_lost(world):
    """Email logging keys by Message-ID: a lost answer is found by it next session."""
    from .test_it_logs_emails import customer, deliver, logged, ok

    customer(world)
    ok(world.sync())
    deliver(world, "Lost answer")
    world.sfapp.lose_response_next(1, match="composite/sobjects", method="POST")
    lost = world.sync()
    assert lost.status == Status.RETRY_LATER, lost.error
    assert [e["Subject"] for e in logged(world)] == ["Lost answer"]  # Salesforce has it
    ok(world.sync())
    assert [e["Subject"] for e in logged(world)] == ["Lost answer"]
    assert not world.sync().changed
