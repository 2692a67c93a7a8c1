"""The logging plan at its edges (SPEC §6): who is linked, what is skipped, retried, given up."""

from datetime import UTC, date, datetime, timedelta

from syncengine.emails.blocklist import Blocklist
from syncengine.emails.logging_plan import (
    CreateLead,
    GiveUp,
    LogEmail,
    Retry,
    Skip,
    plan,
)
from syncengine.emails.records import Address, EmailRecord

NOW = datetime(2024, 5, 15, 12, 0, tzinfo=UTC)
ME = "alice@acme.com"
BLOCKLIST = Blocklist.merge(user_entries=["noreply@vendor.com"], user_own_addresses=[ME])

CONTACT = ("0038d0000000001AAA", "Contact", "0018d0000000001AAA")
CONTACT2 = ("0038d0000000002AAA", "Contact", "0018d0000000002AAA")
LEAD = ("00Q8d0000000001AAA", "Lead", None)


def email(
    mid="<m1@x>",
    sender="bob@customer.com",
    to=(ME,),
    cc=(),
    incoming=True,
    folder=True,
    sent_at=NOW - timedelta(hours=1),
    name="Bob Buyer",
):
    return EmailRecord(
        mailbox_id=f"mb-{mid}",
        message_id=mid,
        subject="Quote",
        sender=Address(sender, name) if sender else None,
        to=tuple(Address(a) for a in to),
        cc=tuple(Address(a) for a in cc),
        sent_at=sent_at,
        incoming=incoming,
        in_salesforce_folder=folder,
    )


def run(records, matches=None, logged=(), first_seen=None, **kw):
    return plan(
        records,
        user_addresses=[ME],
        blocklist=kw.pop("blocklist", BLOCKLIST),
        logged=logged,
        matches=matches or {},
        now=kw.pop("now", NOW),
        first_seen=first_seen or {},
        **kw,
    )


def test_a_matching_contact_is_linked_with_its_account():
    [action] = run([email()], {"bob@customer.com": [CONTACT]})
    assert isinstance(action, LogEmail)
    assert action.who_ids == (CONTACT[0],)
    assert action.what_id == CONTACT[2]
    assert action.form == "email_message"
    assert action.ids("from") == [CONTACT[0]]
    assert action.activity_date == date(2024, 5, 15)


def test_contacts_are_preferred_over_leads_across_the_message():
    record = email(to=(ME, "lead@prospect.com"), cc=("carol@customer.com",))
    matches = {
        "bob@customer.com": [LEAD],
        "lead@prospect.com": [("00Q8d0000000002AAA", "Lead", None)],
        "carol@customer.com": [CONTACT2],
    }
    [action] = run([record], matches)
    assert action.who_ids == (CONTACT2[0],)
    assert action.ids("cc") == [CONTACT2[0]]
    assert action.what_id == CONTACT2[2]


def test_leads_are_linked_when_no_contact_matches():
    [action] = run([email()], {"bob@customer.com": [LEAD]})
    assert action.who_ids == (LEAD[0],)
    assert action.what_id is None


def test_an_address_with_a_contact_and_a_lead_links_the_contact():
    [action] = run([email()], {"Bob@Customer.com".lower(): [LEAD, CONTACT]})
    assert action.who_ids == (CONTACT[0],)


def test_the_senders_account_wins_and_duplicates_link_once():
    record = email(to=(ME, "carol@customer.com", "bob@customer.com"))
    [action] = run([record], {"bob@customer.com": [CONTACT], "carol@customer.com": [CONTACT2]})
    assert action.who_ids == (CONTACT[0], CONTACT2[0])
    assert action.what_id == CONTACT[2]


def test_task_form_when_enhanced_email_is_off():
    [action] = run([email()], {"bob@customer.com": [CONTACT]}, enhanced_email=False)
    assert action.form == "task"


def test_blocked_and_internal_addresses_never_link():
    record = email(sender="noreply@vendor.com", to=(ME, "bob@acme.com", "x@gmail.com"))
    matches = {
        "noreply@vendor.com": [CONTACT],
        "bob@acme.com": [CONTACT2],
        "x@gmail.com": [LEAD],
        ME: [CONTACT],
    }
    [action] = run([record], matches)
    assert action == Skip(record, "every participant is blocked or internal")


def test_internal_only_mail_is_skipped_even_when_colleagues_are_contacts():
    record = email(sender="bob@acme.com", to=(ME,), cc=("carol@eu.acme.com",))
    [action] = run([record], {"bob@acme.com": [CONTACT]})
    assert isinstance(action, Skip)


def test_the_users_own_address_never_links_even_on_a_free_mail_domain():
    blocklist = Blocklist.merge(
        user_own_addresses=["alice@gmail.com"], free_mail_removed=["gmail.com"]
    )
    record = email(sender="client@gmail.com", to=("alice@gmail.com",))
    matches = {"alice@gmail.com": [CONTACT2], "client@gmail.com": [CONTACT]}
    [action] = plan(
        [record],
        user_addresses=["alice@gmail.com"],
        blocklist=blocklist,
        logged=(),
        matches=matches,
        now=NOW,
        first_seen={},
    )
    assert action.who_ids == (CONTACT[0],)


def test_already_logged_is_skipped_in_any_bracket_form():
    [action] = run([email(mid="<m1@x>")], {"bob@customer.com": [CONTACT]}, logged={"m1@x"})
    assert action == Skip(email(mid="<m1@x>"), "already logged")


def test_two_copies_are_planned_once_and_the_folder_copy_wins():
    auto = email(folder=False)
    filed = email(folder=True)
    auto = EmailRecord(**{**auto.__dict__, "mailbox_id": "copy-in-inbox"})
    actions = run([auto, filed], {"bob@customer.com": [CONTACT]})
    logs = [a for a in actions if isinstance(a, LogEmail)]
    assert [a.record.mailbox_id for a in logs] == [filed.mailbox_id]
    assert [a.record.mailbox_id for a in actions if isinstance(a, Skip)] == ["copy-in-inbox"]


def test_a_message_without_message_id_is_skipped():
    [action] = run([email(mid="")], {"bob@customer.com": [CONTACT]})
    assert isinstance(action, Skip) and "Message-ID" in action.reason


def test_unmatched_is_retried_for_30_days_then_given_up_exactly():
    record = email()
    first = NOW - timedelta(days=30) + timedelta(seconds=1)
    [action] = run([record], first_seen={"<m1@x>": first})
    assert action == Retry(record, "no matching Contact or Lead yet", first + timedelta(days=30))
    [action] = run([record], first_seen={"m1@x": NOW - timedelta(days=30)})
    assert isinstance(action, GiveUp)
    [action] = run([record])  # first seen now
    assert isinstance(action, Retry) and action.until == NOW + timedelta(days=30)


def test_unmatched_then_matched_on_a_later_session_is_logged():
    record = email()
    assert isinstance(run([record])[0], Retry)
    later = NOW + timedelta(days=3)
    [action] = run([record], {"bob@customer.com": [CONTACT]}, now=later, first_seen={"m1@x": NOW})
    assert isinstance(action, LogEmail)


def test_auto_saved_mail_is_logged_only_when_someone_matches():
    matched = email(mid="<a@x>", folder=False)
    unmatched = email(mid="<b@x>", sender="stranger@else.com", folder=False)
    actions = run([matched, unmatched], {"bob@customer.com": [CONTACT]})
    assert isinstance(actions[0], LogEmail)
    assert isinstance(actions[1], Skip) and "auto-save" in actions[1].reason


def test_auto_saved_outgoing_mail_to_a_contact_is_logged():
    record = email(sender=ME, to=("bob@customer.com",), incoming=False, folder=False)
    [action] = run([record], {"bob@customer.com": [CONTACT]})
    assert action.ids("to") == [CONTACT[0]]


def test_create_lead_for_an_unknown_sender():
    record = email(sender="new@prospect.io", name="Nina van Dam")
    second = email(mid="<m2@x>", sender="NEW@prospect.io", name="Nina van Dam")
    actions = run([record, second], create_leads_for_unknown=True)
    assert actions[0] == CreateLead("new@prospect.io", "Nina van Dam", "prospect.io")
    assert actions[0].last_name == "Dam" and actions[0].first_name == "Nina van"
    assert isinstance(actions[1], LogEmail) and actions[1].new_lead == "new@prospect.io"
    assert isinstance(actions[2], LogEmail) and actions[2].new_lead == "new@prospect.io"
    assert len(actions) == 3  # one lead for both messages


def test_create_lead_covers_senders_only_and_not_auto_save_or_blocked():
    outgoing = email(sender=ME, to=("new@prospect.io",), incoming=False)
    auto = email(mid="<m2@x>", sender="new@prospect.io", folder=False)
    blocked_sender = email(mid="<m3@x>", sender="someone@gmail.com", cc=("x@prospect.io",))
    actions = run([outgoing, auto, blocked_sender], create_leads_for_unknown=True)
    assert [type(a) for a in actions] == [Retry, Skip, Retry]


def test_at_most_50_people_are_linked():
    to = tuple(f"p{i}@customer.com" for i in range(60))
    matches = {a: [(f"0038d00000{i:05d}AAA", "Contact", None)] for i, a in enumerate(to)}
    [action] = run([email(sender=ME, to=to, incoming=False)], matches)
    assert len(action.links) == 50


def test_the_activity_date_is_the_utc_day_of_sending():
    from datetime import timezone

    paris_1am = datetime(2024, 5, 15, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    [action] = run([email(sent_at=paris_1am)], {"bob@customer.com": [CONTACT]})
    assert action.activity_date == date(2024, 5, 14)
