"""The org blocklist in admin: kept by the Support group, validated by the logger's rules."""

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse

from syncsettings.models import OrgBlocklistEntry, SyncSettings
from syncsettings.services import blocklist_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:syncsettings_orgblocklistentry_add")
LIST_URL = reverse("admin:syncsettings_orgblocklistentry_changelist")


@pytest.fixture
def agent():
    agent = UserFactory(username="agent", is_staff=True)
    agent.groups.add(Group.objects.get(name="Support"))
    return agent


@pytest.fixture
def support_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def intern_client(client):
    client.force_login(UserFactory(username="intern", is_staff=True))
    return client


def test_it_lets_a_support_member_add_an_entry(support_client, agent, user):
    response = support_client.post(ADD_URL, {"value": " @Rival.COM ", "note": "competitor"})
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = OrgBlocklistEntry.objects.get()
    assert (entry.value, entry.kind, entry.note) == ("rival.com", "domain", "competitor")
    assert entry.created_by == agent
    assert LogEntry.objects.filter(user=agent, action_flag=ADDITION).count() == 1
    # The email logger sees it for every user at once.
    assert blocklist_for(user).reason("sales@eu.rival.com") == "org list"


def test_it_stores_an_address_entry_as_an_address(support_client):
    support_client.post(ADD_URL, {"value": "CEO@Partner.example"})
    entry = OrgBlocklistEntry.objects.get()
    assert (entry.value, entry.kind) == ("ceo@partner.example", "address")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nope", "“nope” is neither an email address nor a domain"),
        ("x@", "“x@” is not a valid email address (like bob@example.com)."),
        ("a b.com", "An entry has no spaces"),
    ],
)
def test_it_refuses_an_invalid_entry_with_the_reason(support_client, value, message):
    response = support_client.post(ADD_URL, {"value": value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not OrgBlocklistEntry.objects.exists()


def test_it_refuses_the_same_entry_in_another_spelling(support_client):
    OrgBlocklistEntry.objects.create(value="rival.com")
    response = support_client.post(ADD_URL, {"value": "*.RIVAL.com"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert OrgBlocklistEntry.objects.count() == 1


def test_it_lets_support_edit_and_delete_entries(support_client):
    entry = OrgBlocklistEntry.objects.create(value="rival.com")
    change_url = reverse("admin:syncsettings_orgblocklistentry_change", args=[entry.pk])
    assert (
        support_client.post(change_url, {"value": "bob@rival.com", "note": ""}).status_code == 302
    )
    entry.refresh_from_db()
    assert (entry.value, entry.kind) == ("bob@rival.com", "address")
    assert support_client.get(LIST_URL).status_code == 200
    assert "Org blocklist" in support_client.get(reverse("admin:index")).content.decode()
    delete_url = reverse("admin:syncsettings_orgblocklistentry_delete", args=[entry.pk])
    assert support_client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not OrgBlocklistEntry.objects.exists()


def test_it_refuses_staff_outside_the_support_group(intern_client):
    entry = OrgBlocklistEntry.objects.create(value="rival.com")
    assert intern_client.get(LIST_URL).status_code == 403
    assert intern_client.get(ADD_URL).status_code == 403
    assert intern_client.post(ADD_URL, {"value": "other.example"}).status_code == 403
    change_url = reverse("admin:syncsettings_orgblocklistentry_change", args=[entry.pk])
    assert intern_client.post(change_url, {"value": "x.example"}).status_code == 403
    assert list(OrgBlocklistEntry.objects.values_list("value", flat=True)) == ["rival.com"]
    assert "Org blocklist" not in intern_client.get(reverse("admin:index")).content.decode()


def test_it_validates_a_users_blocklist_edited_in_admin(support_client, user):
    settings = SyncSettings.for_user(user)
    url = reverse("admin:syncsettings_syncsettings_change", args=[settings.pk])
    data = {
        "contacts_down_enabled": "on",
        "contact_scope": "mine",
        "time_zone": "UTC",
        "blocklist": "ok.example\nnope",
        "free_mail_unblocked": "acme.com",
    }
    html = support_client.post(url, data).content.decode()
    assert "Line 2: “nope” is neither an email address nor a domain" in html
    assert "Line 1: “acme.com” is not one of the free-mail domains" in html
    data.update(blocklist=" Ok.Example \n@Rival.com", free_mail_unblocked="GMAIL.com")
    assert support_client.post(url, data).status_code == 302
    settings.refresh_from_db()
    assert settings.blocklist == "ok.example\nrival.com"
    assert settings.free_mail_unblocked == "gmail.com"
