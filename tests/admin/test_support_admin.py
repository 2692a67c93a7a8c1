import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from accounts.models import Connection
from syncsettings.models import SyncSettings
from tests.factories import ConnectionFactory, UserFactory

pytestmark = pytest.mark.django_db

ACCESS = "ACCESS-tok-9f8e7d6c5b4a"
REFRESH = "REFRESH-tok-0a1b2c3d4e5f"


@pytest.fixture
def support_client(client):
    agent = UserFactory(username="agent", is_staff=True)
    agent.groups.add(Group.objects.get(name="Support"))
    client.force_login(agent)
    return client


@pytest.fixture
def customer():
    customer = UserFactory(username="customer", email="customer@acme.example")
    ConnectionFactory(
        user=customer, provider="salesforce", access_token=ACCESS, refresh_token=REFRESH
    )
    ConnectionFactory(
        user=customer, provider="office365", access_token=ACCESS + "-mb", refresh_token=REFRESH
    )
    return customer


def assert_no_token(html: str) -> None:
    assert ACCESS not in html
    assert REFRESH not in html
    assert "access_token" not in html
    assert "refresh_token" not in html


def inline_post_data(customer: "UserFactory", **settings_overrides) -> dict:
    """The user change form as the browser would post it, with the inlines' management data."""
    settings = SyncSettings.for_user(customer)
    connections = list(customer.connections.order_by("side"))
    data = {
        "sync_settings-TOTAL_FORMS": "1",
        "sync_settings-INITIAL_FORMS": "1",
        "sync_settings-MIN_NUM_FORMS": "0",
        "sync_settings-MAX_NUM_FORMS": "1",
        "sync_settings-0-id": settings.pk,
        "sync_settings-0-user": customer.pk,
        "sync_settings-0-contacts_down_enabled": "on",
        "sync_settings-0-tasks_down_enabled": "on",
        "sync_settings-0-events_down_enabled": "on",
        "sync_settings-0-contact_scope": "mine",
        "sync_settings-0-auto_remove_contacts": "on",
        "sync_settings-0-auto_remove_tasks": "on",
        "sync_settings-0-time_zone": "UTC",
        "sync_settings-0-blocklist": "",
        "connections-TOTAL_FORMS": str(len(connections)),
        "connections-INITIAL_FORMS": str(len(connections)),
        "connections-MIN_NUM_FORMS": "0",
        "connections-MAX_NUM_FORMS": "1000",
    }
    for index, conn in enumerate(connections):
        data[f"connections-{index}-id"] = conn.pk
        data[f"connections-{index}-user"] = customer.pk
        data[f"connections-{index}-status"] = conn.status
    data.update({f"sync_settings-0-{k}": v for k, v in settings_overrides.items()})
    return {k: v for k, v in data.items() if v is not None}


def test_it_gives_the_support_group_exactly_its_permissions():
    perms = Group.objects.get(name="Support").permissions.all()
    assert sorted(f"{p.content_type.app_label}.{p.codename}" for p in perms) == [
        "accounts.change_connection",
        "accounts.change_supportrequest",
        "accounts.change_user",
        "accounts.view_connection",
        "accounts.view_supportrequest",
        "accounts.view_user",
        # the beat interval, without being superuser (issue 10)
        "django_celery_beat.add_intervalschedule",
        "django_celery_beat.change_intervalschedule",
        "django_celery_beat.change_periodictask",
        "django_celery_beat.view_intervalschedule",
        "django_celery_beat.view_periodictask",
        "syncengine.change_usersyncstate",
        "syncengine.run_support_actions",
        "syncengine.view_itemledgerentry",
        "syncengine.view_synclink",
        "syncengine.view_synclogentry",
        "syncengine.view_syncsession",
        "syncengine.view_usersyncstate",
        "syncsettings.add_orgblocklistentry",
        "syncsettings.change_orgblocklistentry",
        "syncsettings.change_syncsettings",
        "syncsettings.delete_orgblocklistentry",
        "syncsettings.view_orgblocklistentry",
        "syncsettings.view_syncsettings",
    ]


def test_it_finds_users_by_email(support_client, customer):
    UserFactory(username="someone-else")
    response = support_client.get(reverse("admin:accounts_user_changelist"), {"q": "acme.example"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "customer@acme.example" in html
    assert "someone-else" not in html


def test_it_lets_support_edit_settings_from_the_user_page_without_showing_tokens(
    support_client, customer
):
    url = reverse("admin:accounts_user_change", args=[customer.pk])
    page = support_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert_no_token(html)
    assert "Sync settings" in html or "sync settings" in html
    assert "Salesforce" in html and "Office 365" in html

    data = inline_post_data(customer, tasks_down_enabled=None, blocklist="rival.example")
    mailbox = Connection.objects.mailbox_for(customer)
    index = list(customer.connections.order_by("side")).index(mailbox)
    data[f"connections-{index}-status"] = "disconnected"
    response = support_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]

    settings = SyncSettings.for_user(customer)
    assert not settings.tasks_down_enabled
    assert settings.blocklist == "rival.example"
    mailbox.refresh_from_db()
    assert mailbox.status == "disconnected"
    assert mailbox.access_token == ACCESS + "-mb"  # tokens untouched by the admin save

    # Whatever support looks at afterwards: lists, change pages, history.
    for page_url in (
        url,
        reverse("admin:accounts_user_history", args=[customer.pk]),
        reverse("admin:accounts_connection_changelist"),
        reverse("admin:accounts_connection_change", args=[mailbox.pk]),
        reverse("admin:syncsettings_syncsettings_changelist"),
        reverse("admin:index"),
    ):
        response = support_client.get(page_url)
        assert response.status_code == 200, page_url
        assert_no_token(response.content.decode())


def test_it_keeps_user_fields_read_only_for_support(support_client, customer):
    url = reverse("admin:accounts_user_change", args=[customer.pk])
    data = inline_post_data(customer)
    data.update({"email": "hijack@evil.example", "is_superuser": "on", "is_staff": "on"})
    assert support_client.post(url, data).status_code == 302
    customer.refresh_from_db()
    assert customer.email == "customer@acme.example"
    assert not customer.is_superuser and not customer.is_staff
    html = support_client.get(url).content.decode()
    assert "md5$" not in html  # no password hash either
    password_url = reverse("admin:auth_user_password_change", args=[customer.pk])
    assert support_client.get(password_url).status_code == 403


def test_it_lets_support_change_only_a_connections_status(support_client, customer):
    conn = Connection.objects.salesforce_for(customer)
    url = reverse("admin:accounts_connection_change", args=[conn.pk])
    response = support_client.post(
        url, {"status": "disconnected", "external_address": "x@evil.example", "last_error": "x"}
    )
    assert response.status_code == 302
    conn.refresh_from_db()
    assert conn.status == "disconnected"
    assert conn.external_address != "x@evil.example"
    assert conn.last_error == ""
    assert support_client.get(reverse("admin:accounts_connection_add")).status_code == 403
    delete_url = reverse("admin:accounts_connection_delete", args=[conn.pk])
    assert support_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert Connection.objects.filter(pk=conn.pk).exists()


def test_it_gives_non_staff_no_admin(client, customer):
    client.force_login(customer)
    for url in (
        reverse("admin:index"),
        reverse("admin:accounts_user_change", args=[customer.pk]),
        reverse("admin:accounts_connection_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_it_shows_staff_outside_support_none_of_these_models(client, customer):
    staff = UserFactory(username="intern", is_staff=True)
    client.force_login(staff)
    index = client.get(reverse("admin:index")).content.decode()
    assert "Connections" not in index
    assert "Sync settings" not in index
    assert "Users" not in index
    conn = Connection.objects.salesforce_for(customer)
    for url in (
        reverse("admin:accounts_user_changelist"),
        reverse("admin:accounts_user_change", args=[customer.pk]),
        reverse("admin:accounts_connection_changelist"),
        reverse("admin:accounts_connection_change", args=[conn.pk]),
        reverse("admin:syncsettings_syncsettings_changelist"),
    ):
        assert client.get(url).status_code == 403, url


def test_it_still_gives_superusers_the_full_user_form(client, customer):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    html = client.get(reverse("admin:accounts_user_change", args=[customer.pk])).content.decode()
    assert 'name="is_superuser"' in html
    assert_no_token(html)
    assert Permission.objects.filter(codename="view_connection").exists()
