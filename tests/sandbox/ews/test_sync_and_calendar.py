"""SyncFolderItems paging and SyncState, and CalendarView expansion, through exchangelib."""

import datetime as dt

import pytest
from exchangelib import EWSDateTime, EWSTimeZone
from exchangelib.errors import ErrorInvalidSyncStateData
from exchangelib.folders import Contacts

from sandbox.ews import builders

from .conftest import ANN

BERLIN = EWSTimeZone("Europe/Berlin")


def _sync(folder, state, max_changes=512):
    folder.item_sync_state = state
    changes = list(folder.sync_items(max_changes_returned=max_changes))
    return changes, folder.item_sync_state


def test_it_pages_1200_changes_in_three_calls_of_512(account, ews):
    folder = Contacts(parent=account.contacts, name="Salesforce Contacts")
    folder.save()
    made = ews.app.find_folder(ANN, "Salesforce Contacts")
    for n in range(1200):
        ews.app.create_item(ANN, builders.contact("P", f"Person {n}"), made.id)
    ews.app.clear_calls()

    changes, state = _sync(folder, None)

    assert ews.app.operation_counts()["SyncFolderItems"] == 3  # 512 + 512 + 176
    assert [kind for kind, _ in changes] == ["create"] * 1200
    assert len({item.id for _, item in changes}) == 1200
    ids = [item.id for _, item in changes]

    ews.app.touch_item(ANN, ids[5], Surname="Changed")
    ews.app.delete_item_as_user(ANN, ids[7])
    ews.app.create_item(ANN, builders.contact("New", "One"), made.id)
    ews.app.clear_calls()
    later, _ = _sync(folder, state)
    assert ews.app.operation_counts()["SyncFolderItems"] == 1
    kinds = {kind: item for kind, item in later}
    assert sorted(kinds) == ["create", "delete", "update"]
    assert kinds["update"].surname == "Changed"
    assert kinds["delete"].id == ids[7]
    again, _ = _sync(folder, folder.item_sync_state)
    assert again == []  # an idle round: one call, no changes


def test_it_stops_at_max_changes_and_says_more_remain(account, ews):
    for n in range(5):
        ews.app.create_item(ANN, builders.contact("P", f"Person {n}"), "contacts")
    svc_changes, _ = _sync(account.contacts, None, max_changes=2)
    assert len(svc_changes) == 5  # exchangelib follows IncludesLastItemInRange itself
    assert ews.app.operation_counts()["SyncFolderItems"] == 3


def test_it_refuses_an_invalid_sync_state(account, ews):
    with pytest.raises(ErrorInvalidSyncStateData):
        _sync(account.contacts, "bm90IGEgc3luYyBzdGF0ZQ==")
    _, state = _sync(account.contacts, None)
    with pytest.raises(ErrorInvalidSyncStateData):
        _sync(account.calendar, state)  # another folder's state
    ews.app.invalidate_sync_states(ANN)  # e.g. the mailbox was moved to another database
    with pytest.raises(ErrorInvalidSyncStateData):
        _sync(account.contacts, state)
    changes, _ = _sync(account.contacts, None)  # a full pass starts again without a state
    assert changes == []


def test_it_refuses_more_than_512_changes_per_call(account):
    from exchangelib.errors import ErrorSchemaValidation

    with pytest.raises(ErrorSchemaValidation):
        _sync(account.contacts, None, max_changes=513)


def _weekly_series(ews):
    """Mondays 09:00 Berlin from 16 March 2026, 4 times; DST starts on 29 March."""
    start = dt.datetime(2026, 3, 16, 9, 0, tzinfo=BERLIN)
    element = builders.event(
        "Team sync",
        start,
        start + dt.timedelta(hours=1),
        time_zone="W. Europe Standard Time",
        weekly_on=["Monday"],
        occurrences=4,
        categories=["Salesforce"],
    )
    return ews.app.create_item(ANN, element, "calendar")


def _view(account):
    return list(
        account.calendar.view(
            start=EWSDateTime(2026, 3, 1, tzinfo=BERLIN),
            end=EWSDateTime(2026, 4, 30, tzinfo=BERLIN),
        )
    )


def test_it_expands_a_weekly_series_across_a_dst_change(account, ews):
    _weekly_series(ews)
    occurrences = _view(account)
    assert [o.start.astimezone(BERLIN).strftime("%m-%d %H:%M") for o in occurrences] == [
        "03-16 09:00",
        "03-23 09:00",
        "03-30 09:00",
        "04-06 09:00",
    ]
    # The wall clock stays at 09:00, so the UTC time moves by an hour after 29 March.
    assert [o.start.hour for o in occurrences] == [8, 8, 7, 7]
    assert {o.type for o in occurrences} == {"Occurrence"}
    assert {o.categories[0] for o in occurrences} == {"Salesforce"}


def test_it_shows_an_exception_across_a_dst_change_and_drops_a_deleted_occurrence(account, ews):
    from exchangelib.items import SEND_TO_NONE

    master = _weekly_series(ews)
    first = _view(account)
    moved = first[2]
    moved.subject = "Team sync (moved)"
    moved.start += dt.timedelta(hours=2)
    moved.end += dt.timedelta(hours=2)
    moved.save(send_meeting_invitations=SEND_TO_NONE)
    first[1].delete(send_meeting_cancellations=SEND_TO_NONE)

    after = _view(account)
    assert [(o.start.astimezone(BERLIN).strftime("%m-%d %H:%M"), o.type) for o in after] == [
        ("03-16 09:00", "Occurrence"),
        ("03-30 11:00", "Exception"),
        ("04-06 09:00", "Occurrence"),
    ]
    assert after[1].subject == "Team sync (moved)"
    # Across the DST change of 29 March: CET before it, CEST for the exception and after.
    assert [o.start.astimezone(EWSTimeZone("UTC")).hour for o in after] == [8, 9, 7]
    series = account.calendar.get(id=master.id)
    assert series.type == "RecurringMaster"
    assert [o.original_start.astimezone(BERLIN).hour for o in series.modified_occurrences] == [9]
    assert [d.start.astimezone(BERLIN).day for d in series.deleted_occurrences] == [23]
    # SyncFolderItems reports the master, never occurrences.
    changes, _ = _sync(account.calendar, None)
    assert [(kind, item.id) for kind, item in changes] == [("create", master.id)]


def test_it_refuses_a_calendar_view_longer_than_two_years(account):
    from exchangelib.errors import ErrorCalendarViewRangeTooBig

    with pytest.raises(ErrorCalendarViewRangeTooBig):
        list(
            account.calendar.view(
                start=EWSDateTime(2026, 1, 1, tzinfo=BERLIN),
                end=EWSDateTime(2029, 1, 1, tzinfo=BERLIN),
            )
        )


def test_it_costs_one_call_per_folder_for_an_idle_round(ews, account):
    """The lower bound for an idle Exchange session: SyncFolderItems takes one folder, so
    four synced folders (contacts, tasks, calendar, emails) cost four calls and nothing
    else, once the folder ids and SyncStates are stored."""
    from exchangelib.folders import Calendar, Contacts, Folder, Tasks

    box = ews.app.mailbox(ANN)
    emails = ews.app.create_folder(ANN, "Salesforce Emails", "IPF.Note")
    folders = [
        (Contacts, box.distinguished("contacts").id),
        (Tasks, box.distinguished("tasks").id),
        (Calendar, box.distinguished("calendar").id),
        (Folder, emails.id),
    ]
    root = account.root
    states = [_sync(cls(root=root, id=folder_id), None)[1] for cls, folder_id in folders]
    ews.app.clear_calls()
    for (cls, folder_id), state in zip(folders, states, strict=True):
        changes, _ = _sync(cls(root=root, id=folder_id), state)
        assert changes == []
    assert ews.app.operation_counts() == {"SyncFolderItems": 4}


def test_it_reports_moves_between_folders_and_read_flag_changes(account, ews):
    from exchangelib.folders import Folder

    emails = Folder(parent=account.msg_folder_root, name="Salesforce Emails")
    emails.save()
    mime = b"From: bob@client.example\r\nTo: ann@corp.example\r\nSubject: Hi\r\n\r\nHello\r\n"
    made = ews.app.create_item(ANN, builders.el(builders.t("Message")), "inbox", mime=mime)
    inbox_id = made.id
    _, inbox_state = _sync(account.inbox, None)
    _, emails_state = _sync(emails, None)

    ews.app.touch_item(ANN, inbox_id, IsRead="true")
    read, inbox_state = _sync(account.inbox, inbox_state)
    assert [kind for kind, _ in read] == ["read_flag_change"]

    [message] = list(account.inbox.all())
    message.move(emails)  # the user files the mail for Salesforce
    left, _ = _sync(account.inbox, inbox_state)
    arrived, _ = _sync(emails, emails_state)
    assert [(kind, getattr(item, "id", None)) for kind, item in left] == [("delete", inbox_id)]
    assert [(kind, item.subject) for kind, item in arrived] == [("create", "Hi")]
