"""The pure relation diff (syncengine.relations): who becomes related, what is removed, what
survives because Salesforce made it (issue 9, SPEC §2b)."""

from __future__ import annotations

from syncengine.emails.blocklist import Blocklist
from syncengine.mappers.people import Attendee, MailboxPeople
from syncengine.relations import Current, RelationRow, Wanted, plan_relations, wanted_relations

ME = "ann@acme.example"
MATCHES = {
    "ada@c.example": [("003A", "Contact", "001A")],
    "grace@c.example": [("003G", "Contact", None)],
    "pat@p.example": [("00QP", "Lead", None)],
    "bob@acme.example": [("003B", "Contact", None)],
    "free@gmail.com": [("003F", "Contact", None)],
}


def meeting(*guests: str) -> MailboxPeople:
    return MailboxPeople("uid", ME, tuple(Attendee(g) for g in guests))


def wanted(*guests: str) -> Wanted:
    blocklist = Blocklist.merge(user_own_addresses=[ME])
    return wanted_relations(
        meeting(*guests), user_addresses=[ME], blocklist=blocklist, matches=MATCHES
    )


def test_contacts_win_over_leads_and_internal_and_free_mail_never_match():
    assert wanted(
        "pat@p.example", "ada@c.example", "bob@acme.example", "free@gmail.com"
    ).people == ("003A",)
    assert wanted("pat@p.example", "bob@acme.example").people == ("00QP",)
    assert wanted("bob@acme.example", "free@gmail.com").people == ()


def test_shared_activities_relates_each_contact_and_sets_the_who():
    plan = plan_relations("00UE", Wanted(("003A", "003G")), Current(), (), shared_activities=True)
    assert plan.event_update == {"Id": "00UE", "WhoId": "003A"}
    assert plan.create == [
        {"EventId": "00UE", "RelationId": "003G", "IsParent": True, "IsInvitee": False}
    ]
    assert plan.made == {"003A", "003G"}


def test_without_shared_activities_only_the_who_is_written():
    plan = plan_relations("00UE", Wanted(("003A", "003G")), Current(), (), shared_activities=False)
    assert plan.event_update == {"Id": "00UE", "WhoId": "003A"}
    assert plan.create == [] and plan.made == {"003A"}


def test_a_salesforce_who_is_never_replaced_nor_removed():
    current = Current("003S", {"003S": RelationRow("0RE1", "003S", is_parent=True)})
    plan = plan_relations("00UE", Wanted(()), current, (), shared_activities=True)
    assert plan.empty


def test_a_lead_guest_is_not_added_beside_contacts_related_in_salesforce():
    # Salesforce refuses a Lead beside Contacts (50 Contacts or one Lead): sending it would
    # be refused in every session, so the Lead is left out and nothing is written.
    current = Current("003S", {"003S": RelationRow("0RE1", "003S", is_parent=True)})
    plan = plan_relations("00UE", Wanted(("00QP",)), current, (), shared_activities=True)
    assert plan.empty
    assert plan.made == frozenset()


def test_contact_guests_are_not_added_beside_a_lead_related_in_salesforce():
    current = Current("00QS", {"00QS": RelationRow("0RE1", "00QS", is_parent=True)})
    plan = plan_relations("00UE", Wanted(("003A", "003G")), current, (), shared_activities=True)
    assert plan.empty


def test_a_lead_replaces_contacts_relay_made_once_the_user_removed_them():
    current = Current("003A", {"003A": RelationRow("0RE1", "003A", is_parent=True)})
    plan = plan_relations("00UE", Wanted(("00QP",)), current, {"003A"}, shared_activities=True)
    assert plan.event_update == {"Id": "00UE", "WhoId": "00QP"}
    assert plan.made == {"00QP"}
    # Salesforce refuses a Lead Who beside a Contact: the Contact's row goes first.
    assert plan.delete == ["0RE1"] and plan.unrelate_first


def test_a_who_of_the_same_kind_is_set_before_the_removals():
    # Set after the old Who's row went, the WhoId would replace whom Salesforce promoted.
    current = Current(
        "003A",
        {
            "003A": RelationRow("0RE1", "003A", is_parent=True),
            "003S": RelationRow("0RE2", "003S", is_parent=True),
        },
    )
    plan = plan_relations("00UE", Wanted(("003G",)), current, {"003A"}, shared_activities=True)
    assert plan.event_update == {"Id": "00UE", "WhoId": "003G"}
    assert plan.delete == ["0RE1"] and not plan.unrelate_first
    back = Current("00QP", {"00QP": RelationRow("0RE3", "00QP", is_parent=True)})
    plan = plan_relations("00UE", Wanted(("003A",)), back, {"00QP"}, shared_activities=True)
    assert plan.event_update == {"Id": "00UE", "WhoId": "003A"} and plan.unrelate_first


def test_removing_an_attendee_unrelates_only_what_relay_made():
    current = Current(
        "003A",
        {
            "003A": RelationRow("0RE1", "003A", is_parent=True),
            "003G": RelationRow("0RE2", "003G", is_parent=True),
            "003I": RelationRow("0RE3", "003I", is_parent=True, is_invitee=True),
        },
    )
    plan = plan_relations(
        "00UE", Wanted(("003A",)), current, {"003A", "003G", "003I"}, shared_activities=True
    )
    assert plan.delete == ["0RE2"]
    assert plan.update == [{"Id": "0RE3", "IsParent": False}]  # still invited: row kept
    assert plan.made == {"003A"}


def test_relays_who_removed_with_nobody_in_their_place_loses_the_row():
    # Salesforce promotes another Who when the WhoId's row goes, or clears the WhoId.
    current = Current("003A", {"003A": RelationRow("0RE1", "003A", is_parent=True)})
    plan = plan_relations("00UE", Wanted(()), current, {"003A"}, shared_activities=True)
    assert (plan.event_update, plan.delete, plan.made) == (None, ["0RE1"], frozenset())
    invited = Current("003A", {"003A": RelationRow("0RE1", "003A", True, is_invitee=True)})
    plan = plan_relations("00UE", Wanted(()), invited, {"003A"}, shared_activities=True)
    assert plan.update == [{"Id": "0RE1", "IsParent": False}] and not plan.delete
    plan = plan_relations("00UE", Wanted(()), Current("003A"), {"003A"}, shared_activities=False)
    assert plan.event_update == {"Id": "00UE", "WhoId": None}


def test_an_invited_person_is_flagged_not_duplicated_and_gets_the_reply():
    current = Current("003A", {"003G": RelationRow("0RE2", "003G", is_invitee=True)})
    plan = plan_relations(
        "00UE",
        Wanted(("003A", "003G"), {"003G": "accepted"}),
        current,
        {"003A"},
        shared_activities=True,
    )
    assert plan.create == []
    assert plan.update == [{"Id": "0RE2", "IsParent": True}, {"Id": "0RE2", "Status": "Accepted"}]


def test_tentative_has_no_salesforce_status():
    current = Current("003A", {"003A": RelationRow("0RE1", "003A", True, True, "New")})
    plan = plan_relations(
        "00UE", Wanted(("003A",), {"003A": "tentative"}), current, {"003A"}, shared_activities=True
    )
    assert plan.empty
