"""A mailbox that holds a limited number of items (`mailbox_capacity`): the planner creates
only what fits, counting what the mailbox holds already (linked copies and the user's own
unlinked items), and skips the rest, the same records from session to session."""

from __future__ import annotations

from syncengine.planner import CreateMailbox, CreateSalesforce, ItemType, Skip, plan

from .factories import NOW, link, mb, rules, sf

C = ItemType.CONTACT


def contacts(n: int, start: int = 0) -> list:
    return [sf(f"sf{i:02}", email=f"c{i}@example.com") for i in range(start, start + n)]


def test_it_creates_only_what_fits_counting_links_and_unlinked_items():
    linked = [link(sf("sf90"), mb("mb90"))]
    own = mb("mb-own", email="own@example.com")  # the user's, going up: it takes a place
    result = plan(
        C,
        links=linked,
        sf_changes=contacts(6),
        mailbox_changes=[own],
        rules=rules(),
        now=NOW,
        mailbox_capacity=5,
    )
    created = [a.sf_id for a in result.of(CreateMailbox)]
    assert created == ["sf00", "sf01", "sf02"]  # 5 - 1 link - 1 unlinked item
    assert len(result.of(CreateSalesforce)) == 1  # the user's item still goes up
    assert {a.sf_id for a in result.of(Skip)} == {"sf03", "sf04", "sf05"}
    assert result.left_out == 3


def test_the_same_records_stay_in_whatever_the_input_order():
    records = contacts(4)
    first = plan(C, links=[], sf_changes=records, mailbox_changes=[], rules=rules(), now=NOW,
                 mailbox_capacity=2)  # fmt: skip
    again = plan(C, links=[], sf_changes=records[::-1], mailbox_changes=[], rules=rules(),
                 now=NOW, mailbox_capacity=2)  # fmt: skip
    assert [a.sf_id for a in first.of(CreateMailbox)] == ["sf00", "sf01"]
    assert first.of(CreateMailbox) == again.of(CreateMailbox)


def test_no_capacity_means_no_limit_and_a_full_mailbox_creates_nothing():
    unlimited = plan(C, links=[], sf_changes=contacts(4), mailbox_changes=[], rules=rules(),
                     now=NOW)  # fmt: skip
    assert len(unlimited.of(CreateMailbox)) == 4 and unlimited.left_out == 0
    linked = [link(r, mb(f"mb{r.sf_id}")) for r in contacts(3, start=10)]
    full = plan(C, links=linked, sf_changes=contacts(2), mailbox_changes=[], rules=rules(),
                now=NOW, mailbox_capacity=2)  # fmt: skip
    assert full.of(CreateMailbox) == [] and full.left_out == 2
