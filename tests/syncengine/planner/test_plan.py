"""The planner's rules as tables: deletion and restore, the guards, conflicts, matching,
marker healing, merges, windows, scopes and the down-sync switch (SPEC §2 to §5)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from syncengine.planner import (
    Conflict,
    ContactScope,
    CreateMailbox,
    CreateSalesforce,
    DeleteMailbox,
    DeleteSalesforce,
    Forget,
    Freeze,
    HoldDeletions,
    ItemType,
    LinkPair,
    LinkStatus,
    Origin,
    RefreshLink,
    Relink,
    RestoreMailbox,
    Side,
    Skip,
    Unfreeze,
    UpdateMailbox,
    plan,
)

from .factories import EARLIER, NOW, OTHER, edited, link, mb, rules, sf

CONTACT, TASK, EVENT = ItemType.CONTACT, ItemType.TASK, ItemType.EVENT
DAY = dt.timedelta(days=1)


def run(item_type=CONTACT, *, links=(), sf_changes=(), mailbox_changes=(), rules_=None, **kw):
    return plan(
        item_type,
        links=links,
        sf_changes=sf_changes,
        mailbox_changes=mailbox_changes,
        rules=rules_ or rules(),
        now=NOW,
        **kw,
    )


def kinds(result) -> list[str]:
    """The action kinds, without link bookkeeping and skip counters."""
    return [type(a).__name__ for a in result.actions if not isinstance(a, Skip | RefreshLink)]


def deleted(record):
    return replace(record, deleted=True, modified_at=NOW)


def moved_out(item):
    return replace(item, marked=False, modified_at=NOW)


# --- the deletion table (SPEC §4) ----------------------------------------------------------------


@pytest.mark.parametrize("item_type", [CONTACT, TASK, EVENT])
def test_it_deletes_the_mailbox_copy_of_a_record_deleted_in_salesforce(item_type):
    record, item = sf("s", item_type), mb("m", item_type)
    result = run(item_type, links=[link(record, item)], sf_changes=[deleted(record)])
    assert result.actions == (DeleteMailbox("m", "s", "deleted in Salesforce"),)


@pytest.mark.parametrize(
    ("item_type", "auto_remove", "down", "expected"),
    [
        (CONTACT, True, True, DeleteSalesforce),
        (CONTACT, True, False, DeleteSalesforce),
        (CONTACT, False, True, RestoreMailbox),
        (CONTACT, False, False, Forget),
        (TASK, True, True, DeleteSalesforce),
        (TASK, False, True, RestoreMailbox),
        (TASK, False, False, Forget),
        # Calendar events follow the "auto-removal on" row whatever the switch says.
        (EVENT, False, True, DeleteSalesforce),
        (EVENT, False, False, DeleteSalesforce),
    ],
)
@pytest.mark.parametrize("how", ["deleted", "moved out"])
def test_it_applies_the_deletion_table_to_mailbox_deletions(
    item_type, auto_remove, down, expected, how
):
    record, item = sf("s", item_type), mb("m", item_type)
    gone = deleted(item) if how == "deleted" else moved_out(item)
    settings = rules(
        auto_remove={t: auto_remove for t in ItemType},
        down_enabled={t: down for t in ItemType},
    )
    result = run(item_type, links=[link(record, item)], mailbox_changes=[gone], rules_=settings)
    assert kinds(result) == [expected.__name__]
    if expected is RestoreMailbox:
        # Restored from the link's snapshot: the record itself did not change.
        (restore,) = result.actions
        assert restore.old_mailbox_id == "m" and restore.fields == record.fields


def test_it_forgets_a_pair_deleted_on_both_sides():
    record, item = sf("s"), mb("m")
    result = run(
        links=[link(record, item)], sf_changes=[deleted(record)], mailbox_changes=[deleted(item)]
    )
    assert kinds(result) == ["Forget"]


# --- guard 1: an edit beats a deletion -----------------------------------------------------------


@pytest.mark.parametrize("item_type", [CONTACT, TASK, EVENT])
def test_it_recreates_salesforce_when_the_mailbox_copy_was_edited(item_type):
    record, item = sf("s", item_type), mb("m", item_type)
    changed = edited(item, description="edited in the mailbox")
    result = run(
        item_type,
        links=[link(record, item)],
        sf_changes=[deleted(record)],
        mailbox_changes=[changed],
    )
    (create,) = result.actions
    assert isinstance(create, CreateSalesforce)
    assert create.replaces_sf_id == "s" and create.fields == changed.fields


@pytest.mark.parametrize("auto_remove", [True, False])
@pytest.mark.parametrize("item_type", [CONTACT, TASK, EVENT])
def test_it_restores_the_mailbox_copy_when_salesforce_was_edited(item_type, auto_remove):
    record, item = sf("s", item_type), mb("m", item_type)
    changed = edited(record, description="edited in Salesforce")
    result = run(
        item_type,
        links=[link(record, item)],
        sf_changes=[changed],
        mailbox_changes=[deleted(item)],
        rules_=rules(auto_remove={t: auto_remove for t in ItemType}),
    )
    assert result.of(RestoreMailbox) == [
        RestoreMailbox("s", "m", changed.fields, changed.content_hash, changed.facts)
    ]
    assert kinds(result) == ["RestoreMailbox"]


# --- guard 2: the mass-deletion brake ------------------------------------------------------------


def linked_pairs(count: int, item_type=CONTACT):
    pairs = []
    for n in range(count):
        record = sf(f"s{n:04d}", item_type, email=f"p{n}@example.com")
        item = mb(f"m{n:04d}", item_type, email=f"p{n}@example.com")
        pairs.append((record, item))
    return pairs


@pytest.mark.parametrize(
    ("link_count", "deletions", "held"),
    [
        (10, 10, False),  # max(25, 2): ten deletions of ten links pass
        (100, 25, False),
        (100, 26, True),
        (1000, 200, False),
        (1000, 201, True),
    ],
)
@pytest.mark.parametrize("side", [Side.SALESFORCE, Side.MAILBOX])
def test_it_holds_mass_deletions_above_the_threshold(link_count, deletions, held, side):
    pairs = linked_pairs(link_count)
    links = [link(r, i) for r, i in pairs]
    doomed = pairs[:deletions]
    if side == Side.MAILBOX:  # deleted in Salesforce: the mailbox copies would go
        changes = {"sf_changes": [deleted(r) for r, _ in doomed]}
    else:
        changes = {"mailbox_changes": [deleted(i) for _, i in doomed]}
    # Something else happens in the same plan and must not wait.
    extra_record = sf("new", email="new@example.com")
    changes.setdefault("sf_changes", []).append(extra_record)
    result = run(links=links, **changes)
    assert len(result.of(CreateMailbox)) == 1
    kind = DeleteMailbox if side == Side.MAILBOX else DeleteSalesforce
    if held:
        (hold,) = result.held
        assert hold.side == side and len(hold.deletions) == deletions
        assert result.of(kind) == []
    else:
        assert result.held == [] and len(result.of(kind)) == deletions


def test_it_leaves_held_deletions_alone_until_confirmed():
    record, item = sf("s"), mb("m")
    held = replace(link(record, item), state=LinkStatus.HELD_DELETION)
    result = run(links=[held], sf_changes=[edited(record, phone="1")])
    assert kinds(result) == [] and result.of(Skip)


# --- conflicts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sf_time", "mb_time", "winner"),
    [
        (NOW, NOW - dt.timedelta(seconds=1), Side.SALESFORCE),
        (NOW - dt.timedelta(seconds=1), NOW, Side.MAILBOX),
        (NOW, NOW, Side.SALESFORCE),  # a tie goes to Salesforce
    ],
)
def test_it_lets_the_later_modification_win_a_conflict(sf_time, mb_time, winner):
    record, item = sf("s"), mb("m")
    sf_new = edited(record, sf_time, phone="111")
    mb_new = edited(item, mb_time, phone="222")
    result = run(links=[link(record, item)], sf_changes=[sf_new], mailbox_changes=[mb_new])
    (conflict,) = result.of(Conflict)
    assert conflict.winner == winner
    if winner == Side.SALESFORCE:
        assert kinds(result) == ["UpdateMailbox", "Conflict"]
        assert conflict.loser_fields == mb_new.fields
    else:
        assert kinds(result) == ["UpdateSalesforce", "Conflict"]
        assert conflict.loser_fields == sf_new.fields


def test_it_sees_no_conflict_when_both_sides_made_the_same_edit():
    record, item = sf("s"), mb("m")
    result = run(
        links=[link(record, item)],
        sf_changes=[edited(record, phone="1")],
        mailbox_changes=[edited(item, phone="1")],
    )
    assert result.writes == [] and result.of(Conflict) == []


def test_it_does_not_see_an_echo_of_its_own_write_as_a_change():
    record, item = sf("s"), mb("m")
    # Read back after our write: newer timestamps, same content (and "" for None).
    echo_sf = replace(record, modified_at=NOW)
    echo_mb = replace(item, modified_at=NOW, fields={**item.fields, "phone": ""})
    result = run(links=[link(record, item)], sf_changes=[echo_sf], mailbox_changes=[echo_mb])
    assert result.writes == []


# --- the down-sync switch and up-sync ------------------------------------------------------------


@pytest.mark.parametrize("item_type", [CONTACT, TASK, EVENT])
def test_it_syncs_marked_items_up_with_the_down_switch_off(item_type):
    record, item = sf("s", item_type), mb("m", item_type)
    new_item = mb("m2", item_type, subject="Mine", email="mine@example.com")
    off = rules(down_enabled={t: False for t in ItemType})
    result = run(
        item_type,
        links=[link(record, item)],
        sf_changes=[sf("s2", item_type, subject="Theirs", email="theirs@example.com")],
        mailbox_changes=[edited(item, description="up"), new_item],
        rules_=off,
    )
    assert kinds(result) == ["UpdateSalesforce", "CreateSalesforce"]


def test_it_does_not_sync_down_with_the_switch_off():
    record, item = sf("s"), mb("m")
    off = rules(down_enabled={t: False for t in ItemType})
    result = run(links=[link(record, item)], sf_changes=[edited(record, phone="9")], rules_=off)
    assert result.writes == []


# --- contact scopes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "members", "owner", "created"),
    [
        (ContactScope.ALL, None, OTHER, True),
        (ContactScope.MINE, None, OTHER, False),
        (ContactScope.MINE, None, "005USER", True),
        (ContactScope.VIEW, frozenset({"s"}), OTHER, True),
        (ContactScope.VIEW, frozenset(), "005USER", False),
    ],
)
def test_it_syncs_down_contacts_in_scope(scope, members, owner, created):
    settings = rules(contact_scope=scope, view_member_ids=members)
    result = run(sf_changes=[sf("s", owner=owner)], rules_=settings)
    assert bool(result.of(CreateMailbox)) is created


@pytest.mark.parametrize(
    ("origin", "expected"),
    [(Origin.SALESFORCE, ["DeleteMailbox"]), (Origin.MAILBOX, [])],
)
def test_it_removes_a_contact_brought_down_that_leaves_the_scope(origin, expected):
    record, item = sf("s"), mb("m")
    moved = replace(record, owner_id=OTHER, modified_at=NOW)  # the owner changed
    result = run(links=[link(record, item, origin=origin)], sf_changes=[moved])
    assert kinds(result) == expected


def test_it_removes_contacts_after_the_scope_narrows_from_links_alone():
    record, item = sf("s", owner=OTHER), mb("m")
    result = run(links=[link(record, item)], rules_=rules(contact_scope=ContactScope.MINE))
    assert result.actions == (DeleteMailbox("m", "s", "left the contact scope"),)


def test_it_reports_a_missing_view_and_neither_syncs_down_nor_deletes():
    record, item = sf("s"), mb("m")
    missing = rules(contact_scope=ContactScope.VIEW, view_member_ids=None)
    result = run(
        links=[link(record, item)],
        sf_changes=[edited(record, phone="1"), sf("s2", email="x@example.com")],
        rules_=missing,
    )
    assert result.writes == []
    assert result.problems and "view" in result.problems[0]


# --- windows: freeze and unfreeze ----------------------------------------------------------------


def test_it_freezes_a_task_that_leaves_its_window_and_deletes_nothing():
    record = sf(
        "s", TASK, status="completed", due_date=dt.date(2024, 1, 1), modified=NOW - 30 * DAY
    )
    item = mb("m", TASK, **record.fields)
    result = run(TASK, links=[link(record, item)])
    assert result.actions == (Freeze("s", "m"),)


def test_it_keeps_syncing_a_frozen_item_up_but_not_down():
    old = NOW - 30 * DAY
    record = sf("s", EVENT, start=old, end=old + DAY)
    item = mb("m", EVENT, **record.fields)
    frozen = link(record, item, state=LinkStatus.FROZEN)
    up = run(EVENT, links=[frozen], mailbox_changes=[edited(item, location="Room 2")])
    assert kinds(up) == ["UpdateSalesforce"]
    down = run(EVENT, links=[frozen], sf_changes=[edited(record, location="Room 3")])
    assert down.writes == []


def test_it_unfreezes_an_event_that_comes_back_into_the_window():
    far = NOW + 61 * DAY
    record = sf("s", EVENT, start=far, end=far + DAY)
    item = mb("m", EVENT, **record.fields)
    frozen = link(record, item, state=LinkStatus.FROZEN)
    assert run(EVENT, links=[frozen]).actions == ()  # still outside
    later = plan(
        EVENT, links=[frozen], sf_changes=[], mailbox_changes=[], rules=rules(), now=NOW + 2 * DAY
    )
    assert later.actions == (Unfreeze("s", "m"),)


def test_it_syncs_down_a_change_made_while_frozen_once_unfrozen():
    old = NOW - 30 * DAY
    record = sf("s", TASK, status="completed", due_date=old.date(), modified=old)
    item = mb("m", TASK, **record.fields)
    frozen = link(record, item, state=LinkStatus.FROZEN)
    reopened = edited(record, status="in_progress")
    result = run(TASK, links=[frozen], sf_changes=[reopened])
    assert kinds(result) == ["Unfreeze", "UpdateMailbox"]


# --- first session: matching before creating -----------------------------------------------------


@pytest.mark.parametrize(
    ("item_type", "sf_fields", "mb_fields"),
    [
        (CONTACT, {"email": "Ada@Example.com "}, {"email": "ada@example.com"}),
        (TASK, {"subject": "Call  Ada"}, {"subject": "call ada"}),
        (
            EVENT,
            {"subject": "Lunch"},
            {
                "subject": "lunch",
                "start": (NOW + 2 * DAY).astimezone(dt.timezone(dt.timedelta(hours=2))),
            },
        ),
    ],
)
def test_it_matches_existing_copies_instead_of_creating(item_type, sf_fields, mb_fields):
    record = sf("s", item_type, **sf_fields)
    item = mb("m", item_type, **mb_fields)
    result = run(item_type, sf_changes=[record], mailbox_changes=[item], full_pass=True)
    (pair,) = result.of(LinkPair)
    assert (pair.sf_id, pair.mailbox_id, pair.matched_by) == ("s", "m", "key")
    assert result.of(CreateMailbox) == [] and result.of(CreateSalesforce) == []


@pytest.mark.parametrize(
    ("item_type", "other"),
    [
        (TASK, {"due_date": dt.date(2024, 3, 21)}),
        (EVENT, {"start": NOW + 3 * DAY, "end": NOW + 3 * DAY}),
        (CONTACT, {"email": "someone@example.com"}),
    ],
)
def test_it_does_not_match_different_keys(item_type, other):
    result = run(
        item_type, sf_changes=[sf("s", item_type)], mailbox_changes=[mb("m", item_type, **other)]
    )
    assert kinds(result) == ["CreateSalesforce", "CreateMailbox"]


def test_it_reconciles_a_matched_pair_by_the_later_modification():
    record = sf("s", phone="1", modified=EARLIER)
    item = mb("m", phone="2", modified=NOW)
    (pair,) = run(sf_changes=[record], mailbox_changes=[item]).of(LinkPair)
    assert pair.winner == Side.MAILBOX and pair.write_to == Side.SALESFORCE


# --- marker healing and merges -------------------------------------------------------------------


def test_it_heals_a_crash_between_a_write_and_its_link_by_the_marker():
    record = sf("s", email="a@example.com")
    item = mb("m", email="different@example.com", marker="s")
    result = run(sf_current={"s": record}, mailbox_changes=[item])
    (pair,) = result.of(LinkPair)
    assert (pair.sf_id, pair.matched_by) == ("s", "marker")
    assert result.of(CreateMailbox) == [] and result.of(CreateSalesforce) == []


def test_it_relinks_an_item_moved_back_into_the_folder():
    record, item = sf("s"), mb("m")
    back = replace(mb("m2", marker="s"), modified_at=NOW)
    result = run(links=[link(record, item)], mailbox_changes=[moved_out(item), back])
    assert kinds(result) == ["Forget", "LinkPair"]


def test_it_relinks_a_merged_contact_to_its_master():
    loser, master = sf("s1"), sf("s2", phone="5")
    item = mb("m")
    gone = replace(deleted(loser), merged_into="s2")
    result = run(links=[link(loser, item)], sf_changes=[gone, master])
    assert result.of(Relink) == [Relink("s1", "s2", "m")]
    (update,) = result.of(UpdateMailbox)
    assert update.sf_id == "s2" and update.fields == master.fields
    assert result.of(DeleteMailbox) == [] and result.of(CreateMailbox) == []


# --- absence is not deletion ---------------------------------------------------------------------


def test_it_deletes_nothing_a_full_pass_did_not_see():
    record, item = sf("s"), mb("m")
    result = run(links=[link(record, item)], full_pass=True)
    assert result.writes == [] and result.of(Skip)


def test_it_requires_pending_salesforce_changes_to_be_read():
    record, item = sf("s"), mb("m")
    pending = replace(link(record, item), sf_facts=edited(record, phone="1").facts)
    assert pending.sf_pending
    result = run(links=[pending])
    assert result.writes == [] and "pending" in result.of(Skip)[0].reason
    fetched = run(links=[pending], sf_current={"s": edited(record, phone="1")})
    assert kinds(fetched) == ["UpdateMailbox"]


def test_it_never_syncs_unmarked_mailbox_items_up():
    result = run(mailbox_changes=[replace(mb("m"), marked=False)])
    assert result.actions == ()


def test_it_orders_updates_before_deletions():
    pairs = linked_pairs(2)
    (r0, _), (r1, _) = pairs
    result = run(
        links=[link(r, i) for r, i in pairs], sf_changes=[deleted(r0), edited(r1, phone="3")]
    )
    assert kinds(result) == ["UpdateMailbox", "DeleteMailbox"]
    assert HoldDeletions not in {type(a) for a in result.actions}


def test_it_removes_the_merged_away_copy_when_the_master_has_its_own():
    loser, master = sf("s1"), sf("s2", email="master@example.com")
    item1, item2 = mb("m1"), mb("m2", email="master@example.com")
    gone = replace(deleted(loser), merged_into="s2")
    result = run(links=[link(loser, item1), link(master, item2)], sf_changes=[gone])
    assert kinds(result) == ["DeleteMailbox"]
    assert result.of(DeleteMailbox)[0].mailbox_id == "m1"


def test_it_skips_a_copy_carrying_the_marker_of_a_linked_record():
    record, item = sf("s"), mb("m")
    copy = mb("m2", email="copy@example.com", marker="s")
    result = run(links=[link(record, item)], mailbox_changes=[copy])
    assert result.writes == [] and result.of(Skip)
