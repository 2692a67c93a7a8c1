"""Login hardening (SPEC §8): password rules, rate limits that a stranger cannot turn into a
lockout of the right password, the client address behind the trusted proxy, the admin's
own limit (django-axes)."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
LOGIN = reverse("account_login")
ADMIN_LOGIN = reverse("admin:login")
SITE_LIMITS = {"login_failed": "20/m/ip,5/5m/key"}  # base.py's value (test.py turns it off)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def sign_up(client, password, email="new.person@customer.example"):
    return client.post(
        reverse("account_signup"), {"email": email, "password1": password, "password2": password}
    )


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("123456", "This password is too short. It must contain at least 10 characters."),
        ("1234567890", "This password is entirely numeric."),
        ("password123", "This password is too common."),
        ("new.person.customer", "The password is too similar to the"),
    ],
)
def test_it_refuses_weak_passwords_at_sign_up(client, password, message):
    response = sign_up(client, password)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_it_accepts_a_good_password_at_sign_up(client):
    response = sign_up(client, "long-and-unusual-passphrase")
    assert response.status_code == 302


def attempt(client, email, password, ip, **extra):
    return client.post(LOGIN, {"login": email, "password": password}, REMOTE_ADDR=ip, **extra)


def test_it_stops_guessing_from_one_address_but_not_the_user_elsewhere(client, settings):
    settings.ACCOUNT_RATE_LIMITS = SITE_LIMITS
    victim = UserFactory(username="victim", email="victim@acme.example")
    for _ in range(5):
        assert attempt(client, victim.email, "wrong-guess-123", "203.0.113.66").status_code == 200
    # The guessing address is now refused, even with the right password...
    refused = attempt(client, victim.email, PASSWORD, "203.0.113.66")
    assert refused.status_code in (200, 429)
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in refused.content.decode()
    # ...but the user, from their own address, still logs in with it.
    own = attempt(client, victim.email, PASSWORD, "198.51.100.7")
    assert own.status_code == 302
    assert client.session["_auth_user_id"] == str(victim.pk)


def test_it_counts_the_forwarded_client_behind_the_trusted_proxy(client, settings):
    settings.ACCOUNT_RATE_LIMITS = SITE_LIMITS
    settings.RELAY_TRUSTED_PROXY_COUNT = 1
    victim = UserFactory(username="victim", email="victim@acme.example")
    proxy = "10.0.0.2"  # every request reaches Django from the proxy
    for _ in range(5):
        attempt(client, victim.email, "wrong-guess-123", proxy, HTTP_X_FORWARDED_FOR="203.0.113.66")
    # A client-written left-hand entry changes nothing: the proxy's entry is the address.
    spoofed = attempt(
        client,
        victim.email,
        PASSWORD,
        proxy,
        HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.66",
    )
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in spoofed.content.decode()
    # Another client behind the same proxy is a bucket of its own.
    own = attempt(client, victim.email, PASSWORD, proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert own.status_code == 302


def admin_attempt(client, username, password, ip):
    return client.post(
        ADMIN_LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


def test_it_locks_the_admin_login_per_address_and_username(client):
    staff = UserFactory(username="staffer", email="staffer@relay.example", is_staff=True)
    for _ in range(4):
        assert (
            admin_attempt(client, staff.username, "wrong-guess", "203.0.113.66").status_code == 200
        )
    # The fifth failure locks the pair; so is the right password from that address then.
    assert admin_attempt(client, staff.username, "wrong-guess", "203.0.113.66").status_code == 429
    locked = admin_attempt(client, staff.username, PASSWORD, "203.0.113.66")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    # The stranger's failures do not lock the staff member out from their own address.
    own = admin_attempt(client, staff.username, PASSWORD, "198.51.100.7")
    assert own.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)
