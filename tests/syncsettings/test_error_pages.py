"""Friendly error pages in the site's style, and the skip link (issue 10 item 8)."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=False)
def test_a_missing_page_is_a_friendly_404(user_client):
    response = user_client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and "Skip to content" in html


@override_settings(DEBUG=False)
def test_another_users_session_is_a_friendly_404(user_client, other_user):
    from syncengine.models import SyncSession

    session = SyncSession.objects.create(user=other_user, trigger="schedule")
    response = user_client.get(reverse("syncengine:session", args=[session.pk]))
    assert response.status_code == 404 and "Page not found" in response.content.decode()


def test_the_500_page_renders_without_context():
    from django.template.loader import get_template

    html = get_template("500.html").render()
    assert "Something went wrong on our side" in html


def test_the_403_page_is_in_the_sites_style():
    from django.template.loader import get_template

    html = get_template("403.html").render({})
    assert "Not allowed" in html and "Relay" in html


def test_every_page_has_a_skip_link_to_main(user_client):
    html = user_client.get(reverse("dashboard")).content.decode()
    assert '<a class="skip-link" href="#main">' in html and '<main id="main"' in html


def test_anonymous_pages_render_too():
    assert Client().get(reverse("account_login")).status_code == 200
