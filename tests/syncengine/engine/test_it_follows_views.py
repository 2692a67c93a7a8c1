"""A chosen contact view, as Salesforce keeps changing it (SPEC §3, issue 12): its
describe rides in the session's one Composite read, so a deleted view is reported and an
edited filter re-evaluated by the very next session, and an idle session still costs
exactly one Salesforce call."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from syncengine.issues import issues_for
from syncengine.models import SyncLogEntry, SyncSession

Status = SyncSession.Status


def emails(world) -> list[str]:
    return sorted(c["email"] for c in world.contacts())


def with_view(world, where: str) -> str:
    world.sf_contact("Vip", "vip@example.com", owner=world.other, Title="VIP")
    world.sf_contact("Ceo", "ceo@example.com", owner=world.other, Title="CEO")
    world.sf_contact("Mine", "mine@example.com")
    view = world.sfapp.add_list_view("Chosen", "Chosen", "everything", where)
    world.settings(contact_scope="view", contact_view_id=view)
    first = world.sync()
    assert first.status == Status.SUCCEEDED, first.error
    settle = world.sync()
    assert settle.status == Status.SUCCEEDED, settle.error
    idle = world.sync()
    assert not idle.changed
    assert idle.api_calls_salesforce == 1 == idle.sf_calls_seen  # the describe rode along
    return view


def test_it_reports_a_deleted_view_at_the_very_next_session_and_deletes_nothing(world):
    view = with_view(world, "Title = 'VIP'")
    assert emails(world) == ["vip@example.com"]

    world.sfapp.delete_list_view(view)  # no contact changes meanwhile
    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert session.api_calls_salesforce == 1 == session.sf_calls_seen
    problems = SyncLogEntry.objects.filter(session=session, kind=SyncLogEntry.Kind.PROBLEM)
    assert "view missing" in problems.get().message
    assert emails(world) == ["vip@example.com"]  # nothing deleted because of it
    assert len(world.sf_live("Contact")) == 3

    assert any("view missing" in p for p in issues_for(world.user).problems)
    client = Client()
    client.force_login(world.user)
    page = client.get(reverse("syncengine:issues")).content.decode()
    assert 'id="sync-problems"' in page and "view missing" in page

    again = world.sync()  # still reported while the view is missing, still one call
    assert again.api_calls_salesforce == 1
    assert SyncLogEntry.objects.filter(session=again, kind=SyncLogEntry.Kind.PROBLEM).exists()


def test_it_re_evaluates_an_edited_view_filter_at_the_very_next_session(world):
    view = with_view(world, "Title = 'VIP'")
    assert emails(world) == ["vip@example.com"]

    world.sfapp.update_list_view(view, where="Title = 'CEO'")  # no contact changes
    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert emails(world) == ["ceo@example.com"]  # VIP left the scope, CEO entered it
    assert len(world.sf_live("Contact")) == 3  # Salesforce untouched

    idle = world.sync()
    assert not idle.changed
    assert idle.api_calls_salesforce == 1 == idle.sf_calls_seen
    assert not issues_for(world.user).problems
