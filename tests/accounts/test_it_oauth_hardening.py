"""OAuth hardening (SPEC §8): the state is checked before the pending connect is used up,
and a reconnect revokes the refresh token it replaces. Real consent pages of the sandbox."""

from django.urls import reverse

from accounts.models import Connection
from tests.connections.conftest import approve_consent

MAILBOX = "mia@mailbox.example"


def start_gmail_connect(client, stack):
    start = client.post(reverse("oauth:start", args=["gmail"]))
    assert start.status_code == 302
    return approve_consent(start.url, MAILBOX, stack.ca.ca_bundle)


def test_it_keeps_a_connect_in_progress_when_a_forged_callback_arrives_first(
    providers, user_client, user
):
    providers.google_app.add_account(MAILBOX, "Mia Mailbox")
    answer = start_gmail_connect(user_client, providers)
    # An attacker's link (their own code, a state they made up) is opened by the user first.
    forged = user_client.get(
        reverse("oauth:callback", args=["gmail"]),
        {"code": "attacker-code", "state": "attacker-state"},
        follow=True,
    )
    assert "state did not match" in forged.content.decode()
    assert not Connection.objects.filter(user=user).exists()
    # The user's own answer from the consent page still completes their connect.
    done = user_client.get(reverse("oauth:callback", args=["gmail"]), answer, follow=True)
    assert f"connected as {MAILBOX}" in done.content.decode()
    assert Connection.objects.get(user=user).status == Connection.Status.ACTIVE


def test_it_revokes_the_replaced_refresh_token_on_reconnect(providers, user_client, user):
    providers.google_app.add_account(MAILBOX, "Mia Mailbox")
    answer = start_gmail_connect(user_client, providers)
    user_client.get(reverse("oauth:callback", args=["gmail"]), answer)
    first = Connection.objects.get(user=user).refresh_token
    assert providers.google_app.tokens.refresh(first) is not None  # live before reconnect

    answer = start_gmail_connect(user_client, providers)
    user_client.get(reverse("oauth:callback", args=["gmail"]), answer)
    second = Connection.objects.get(user=user).refresh_token
    assert second and second != first
    assert providers.google_app.tokens.refresh(first) is None  # revoked at Google
    assert providers.google_app.tokens.refresh(second) is not None
