from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from accounts.management.commands.ensure_demo_user import DEMO_EMAIL, DEMO_PASSWORD
from accounts.models import User
from syncsettings.models import SyncSettings

pytestmark = pytest.mark.django_db


def test_it_creates_the_demo_user_once_and_prints_how_to_sign_in():
    out = StringIO()
    call_command("ensure_demo_user", stdout=out)
    call_command("ensure_demo_user", stdout=out)
    assert User.objects.filter(email=DEMO_EMAIL).count() == 1
    text = out.getvalue()
    assert "http://127.0.0.1:8000/" in text
    assert DEMO_EMAIL in text and DEMO_PASSWORD in text
    user = User.objects.get(email=DEMO_EMAIL)
    assert SyncSettings.objects.filter(user=user).exists()
    assert authenticate(username="demo", password=DEMO_PASSWORD) == user


def test_it_signs_the_demo_user_in_by_email(client):
    call_command("ensure_demo_user", stdout=StringIO())
    response = client.post(
        "/accounts/login/", {"login": DEMO_EMAIL, "password": DEMO_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert "Dashboard" in response.content.decode()
