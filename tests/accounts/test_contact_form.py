"""“Get back to us”: the contact form, its limits, and support requests in admin."""

import re

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.contact import services
from accounts.models import SupportRequest
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("contact:form")
LIST_URL = reverse("admin:accounts_supportrequest_changelist")
TOO_MANY = "You have sent us several messages in the last hour"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # LocMemCache (config/settings/test.py) lives as long as the test process.
    cache.clear()
    yield
    cache.clear()


def message_data(**overrides):
    data = {"name": "Carol Client", "email": "carol@customer.example", "message": "How do I…?"}
    data.update(overrides)
    return data


def request(**overrides) -> SupportRequest:
    data = {"name": "Carol", "email": "carol@customer.example", "message": "Help"}
    data.update(overrides)
    return SupportRequest.objects.create(**data)


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


# The form


def test_it_is_linked_from_every_page(client, user):
    for page in (reverse("account_login"), reverse("account_signup"), URL):
        assert f'href="{URL}"' in client.get(page).content.decode(), page
    client.force_login(user)
    for page in (reverse("dashboard"), reverse("syncsettings:detailed"), URL):
        assert f'href="{URL}"' in client.get(page).content.decode(), page


def test_it_takes_a_message_from_someone_signed_out(client):
    page = client.get(URL)
    assert page.status_code == 200
    assert 'name="message"' in page.content.decode()

    response = client.post(URL, message_data(), REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 302
    assert response["Location"] == reverse("contact:thanks")
    stored = SupportRequest.objects.get()
    assert (stored.name, stored.email, stored.message) == (
        "Carol Client",
        "carol@customer.example",
        "How do I…?",
    )
    assert stored.user is None
    assert not stored.handled
    assert re.fullmatch(r"[0-9a-f]{64}", stored.client_ip_hash)
    assert "203.0.113.7" not in str(SupportRequest.objects.values().get())
    thanks = client.get(response["Location"])
    assert "Thank you" in thanks.content.decode()
    assert "We have your message" in thanks.content.decode()


def test_it_prefills_and_links_a_signed_in_user(user_client, user):
    html = user_client.get(URL).content.decode()
    assert f'value="{user.email}"' in html
    response = user_client.post(URL, message_data(email=user.email))
    assert response.status_code == 302
    assert SupportRequest.objects.get().user == user


def test_it_hashes_the_same_ip_the_same_way_and_others_differently(client):
    client.post(URL, message_data(), REMOTE_ADDR="203.0.113.7")
    client.post(URL, message_data(email="dan@x.example"), REMOTE_ADDR="203.0.113.7")
    client.post(URL, message_data(email="eve@x.example"), REMOTE_ADDR="198.51.100.1")
    hashes = list(SupportRequest.objects.order_by("pk").values_list("client_ip_hash", flat=True))
    assert hashes[0] == hashes[1] != hashes[2]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Please tell us your name."),
        ("email", "", "Please give us an email address to answer to."),
        ("message", "  ", "Please write your question or comment."),
        ("email", "carol@", "Please enter a valid email address (like you@example.com)."),
        ("name", "n" * 201, "Please keep it to 200 characters at most (this has 201)."),
        (
            "email",
            "c" * 64 + "@" + "d" * 60 + "." + "e" * 60 + "." + "f" * 60 + ".example",
            "Please keep it to 254 characters at most (this has 255).",
        ),
        ("message", "m" * 5001, "Please keep it to 5000 characters at most (this has 5001)."),
    ],
)
def test_it_explains_bad_input_and_keeps_what_was_typed(client, field, value, message):
    data = message_data(**{field: value})
    response = client.post(URL, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "your message was not sent yet" in html
    for name, typed in data.items():
        if name != field and name != "message":
            assert f'value="{typed}"' in html
    if field != "message":
        assert "How do I…?</textarea>" in html
    assert not SupportRequest.objects.exists()


def test_it_limits_the_size_of_each_field_in_the_page_too(client):
    html = client.get(URL).content.decode()
    assert 'maxlength="200"' in html
    assert 'maxlength="254"' in html
    assert 'maxlength="5000"' in html


def test_it_refuses_an_oversized_request_body(client):
    response = client.post(URL, message_data(message="x" * (64 * 1024 + 1)))
    assert response.status_code == 413
    assert "far too large" in response.content.decode()
    assert not SupportRequest.objects.exists()


def test_it_refuses_a_post_without_a_csrf_token():
    csrf_client = Client(enforce_csrf_checks=True)
    assert csrf_client.post(URL, message_data()).status_code == 403
    assert not SupportRequest.objects.exists()
    # The same client with the token from the page gets through.
    page = csrf_client.get(URL)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    response = csrf_client.post(URL, {**message_data(), "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert SupportRequest.objects.count() == 1


def test_it_limits_each_client_to_five_an_hour(client):
    for n in range(services.RATE_LIMIT):
        response = client.post(URL, message_data(email=f"p{n}@x.example"), REMOTE_ADDR="1.2.3.4")
        assert response.status_code == 302
    response = client.post(URL, message_data(email="p9@x.example"), REMOTE_ADDR="1.2.3.4")
    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    html = response.content.decode()
    assert TOO_MANY in html
    assert 'value="p9@x.example"' in html  # nothing typed is lost
    assert SupportRequest.objects.count() == services.RATE_LIMIT
    # Another client is not affected.
    response = client.post(URL, message_data(email="q@x.example"), REMOTE_ADDR="5.6.7.8")
    assert response.status_code == 302


def test_it_limits_each_email_address_to_five_an_hour(client):
    for n in range(services.RATE_LIMIT):
        response = client.post(URL, message_data(), REMOTE_ADDR=f"10.0.0.{n}")
        assert response.status_code == 302
    response = client.post(
        URL, message_data(email="CAROL@customer.example"), REMOTE_ADDR="10.9.9.9"
    )
    assert response.status_code == 429
    assert TOO_MANY in response.content.decode()
    assert SupportRequest.objects.count() == services.RATE_LIMIT


def test_it_counts_only_sent_messages_towards_the_limit(client):
    for _ in range(services.RATE_LIMIT + 2):
        assert client.post(URL, message_data(email="bad")).status_code == 400
    assert client.post(URL, message_data()).status_code == 302


def test_it_opens_a_new_window_when_the_old_one_expires(client):
    for n in range(services.RATE_LIMIT):
        client.post(URL, message_data(email=f"p{n}@x.example"))
    assert client.post(URL, message_data()).status_code == 429
    cache.clear()  # what the cache's timeout does after RATE_WINDOW
    assert client.post(URL, message_data()).status_code == 302


# Support requests in admin


def test_it_lists_requests_for_support_filtered_by_handled(support_client):
    request(name="Open One")
    request(name="Done One", handled=True)
    html = support_client.get(LIST_URL, {"handled__exact": "0"}).content.decode()
    assert "Open One" in html
    assert "Done One" not in html
    html = support_client.get(LIST_URL, {"handled__exact": "1"}).content.decode()
    assert "Done One" in html
    assert "Open One" not in html


def test_it_lets_support_mark_requests_handled_and_logs_it(support_client, agent):
    first, second = request(), request(name="Dan")
    already = request(name="Old", handled=True)
    response = support_client.post(
        LIST_URL,
        {
            "action": "mark_handled",
            "_selected_action": [first.pk, second.pk, already.pk],
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "2 request(s) marked handled." in response.content.decode()
    for support_request in (first, second):
        support_request.refresh_from_db()
        assert support_request.handled
        assert support_request.handled_by == agent
        assert support_request.handled_at is not None
    entries = LogEntry.objects.filter(user=agent, action_flag=CHANGE)
    assert sorted(int(e.object_id) for e in entries) == sorted([first.pk, second.pk])
    assert {e.get_change_message() for e in entries} == {"Marked handled."}


def test_it_keeps_what_the_sender_wrote_read_only(support_client):
    support_request = request(message="original")
    url = reverse("admin:accounts_supportrequest_change", args=[support_request.pk])
    page = support_client.get(url)
    assert page.status_code == 200
    assert "original" in page.content.decode()
    support_client.post(url, {"message": "edited", "handled": "on"})
    support_request.refresh_from_db()
    assert (support_request.message, support_request.handled) == ("original", False)
    assert support_client.get(reverse("admin:accounts_supportrequest_add")).status_code == 403
    delete_url = reverse("admin:accounts_supportrequest_delete", args=[support_request.pk])
    assert support_client.post(delete_url, {"post": "yes"}).status_code == 403


def test_it_refuses_staff_outside_the_support_group(intern_client):
    support_request = request()
    assert intern_client.get(LIST_URL).status_code == 403
    url = reverse("admin:accounts_supportrequest_change", args=[support_request.pk])
    assert intern_client.get(url).status_code == 403
    response = intern_client.post(
        LIST_URL, {"action": "mark_handled", "_selected_action": [support_request.pk]}
    )
    assert response.status_code == 403
    support_request.refresh_from_db()
    assert not support_request.handled
    assert not LogEntry.objects.exists()
