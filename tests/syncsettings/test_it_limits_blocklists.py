"""Blocklist limits (SPEC §8): a cap with a clear message, at most 20 errors shown plus a
count, and an org list that stops at 20,000 entries. Costs are measured in bench/."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from syncsettings import blocklists
from syncsettings.blocklists import MAX_ERRORS_SHOWN, USER_BLOCKLIST_MAX_ENTRIES
from syncsettings.models import OrgBlocklistEntry, SyncSettings
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = reverse("syncsettings:detailed")


def post_blocklist(client, text):
    return client.post(URL, {"blocklist": text, "time_zone": "UTC"})


def test_it_saves_the_largest_allowed_blocklist(user_client, user):
    text = "\n".join(f"p{n}@blocked.example" for n in range(USER_BLOCKLIST_MAX_ENTRIES))
    assert post_blocklist(user_client, text).status_code == 302
    assert len(SyncSettings.for_user(user).blocklist.splitlines()) == USER_BLOCKLIST_MAX_ENTRIES


def test_it_refuses_one_entry_more_with_a_clear_message_and_keeps_the_old_list(user_client, user):
    post_blocklist(user_client, "kept.example")
    text = "\n".join(f"p{n}@blocked.example" for n in range(USER_BLOCKLIST_MAX_ENTRIES + 1))
    response = post_blocklist(user_client, text)
    assert response.status_code == 400
    page = response.content.decode()
    assert "The blocklist has 2,001 entries; it takes at most 2,000. Nothing was saved." in page
    assert SyncSettings.for_user(user).blocklist == "kept.example"


def test_it_refuses_a_huge_text_before_reading_its_lines(user_client):
    response = post_blocklist(user_client, "x" * (blocklists.USER_BLOCKLIST_MAX_CHARS + 1))
    assert response.status_code == 400
    assert "characters long; it takes at most 2,000 entries" in response.content.decode()


def test_it_shows_at_most_20_line_errors_and_counts_the_rest(user_client):
    text = "\n".join(f"bad entry {n}" for n in range(500))
    response = post_blocklist(user_client, text)
    page = response.content.decode()
    assert page.count("is neither an email address nor a domain") == MAX_ERRORS_SHOWN
    assert "Line 20:" in page and "Line 21:" not in page
    assert "…and 480 more lines that are not valid entries (500 in all)." in page


def test_it_drops_duplicates_in_any_spelling(user_client, user):
    post_blocklist(user_client, "acme.com\n@ACME.com\n*.acme.com\nbob@x.example\nBOB@x.example")
    assert SyncSettings.for_user(user).blocklist == "acme.com\nbob@x.example"


def test_it_refuses_an_overlong_entry_without_echoing_it_whole(user_client):
    response = post_blocklist(user_client, "a" * 5000 + "@example.com")
    page = response.content.decode()
    assert "5,012 characters long; an entry (an email address or a domain) has at most 254" in page
    assert "Line 1: “" + "a" * 40 + "…” is 5,012" in page  # the error quotes 40 characters


def test_it_stops_the_org_list_at_its_cap(client, monkeypatch):
    agent = UserFactory(username="agent", is_staff=True)
    agent.groups.add(Group.objects.get(name="Support"))
    client.force_login(agent)
    monkeypatch.setattr("syncsettings.admin.ORG_BLOCKLIST_MAX_ENTRIES", 3)
    for domain in ("a.example", "b.example", "c.example"):
        OrgBlocklistEntry.objects.create(value=domain)
    response = client.post(
        reverse("admin:syncsettings_orgblocklistentry_add"), {"value": "d.example"}
    )
    assert response.status_code == 200
    assert "already has 3 entries, the most it takes" in response.content.decode()
    assert OrgBlocklistEntry.objects.count() == 3
