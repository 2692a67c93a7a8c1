"""Sign-up, login, logout and password reset through django-allauth, in Relay's layout."""

import pytest
from django.core import mail

from accounts.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_it_signs_up_by_email_and_lands_on_the_dashboard(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/"
    assert User.objects.get(email="new@example.com")
    assert "Not connected" in response.content.decode()


def test_it_refuses_a_second_account_with_the_same_email(client, user):
    client.post(
        "/accounts/signup/",
        {"email": user.email, "password1": PASSWORD, "password2": PASSWORD},
    )
    assert User.objects.filter(email=user.email).count() == 1


def test_it_logs_in_and_out(client, user):
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_it_renders_the_login_page_in_relays_layout(client):
    html = client.get("/accounts/login/").content.decode()
    assert "Relay" in html
    assert 'name="login"' in html


def test_it_sends_a_password_reset_email(client, user):
    response = client.post("/accounts/password/reset/", {"email": user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert user.email in mail.outbox[0].to
