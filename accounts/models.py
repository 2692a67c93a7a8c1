"""Users and their connections to Salesforce and to a mailbox (Office 365 or Gmail)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from accounts.fields import EncryptedTextField
from config import db_turns


class User(AbstractUser):
    """Django's user, as our own model so fields can be added later without a painful swap.

    People sign in with their email address (django-allauth); the username is generated.
    """


class ConnectionManager(models.Manager["Connection"]):
    def salesforce_for(self, user: User) -> Connection | None:
        return self.filter(user=user, side=Connection.Side.SALESFORCE).first()

    def mailbox_for(self, user: User) -> Connection | None:
        return self.filter(user=user, side=Connection.Side.MAILBOX).first()


class Connection(models.Model):
    """One OAuth connection of a user to Salesforce or to their mailbox.

    A user has at most one connection per side (a database constraint). Tokens are stored
    encrypted and are never part of str()/repr(), forms, admin or templates.
    """

    class Provider(models.TextChoices):
        SALESFORCE = "salesforce", "Salesforce"
        OFFICE365 = "office365", "Office 365"
        GMAIL = "gmail", "Gmail"
        EXCHANGE = "exchange", "Exchange Server"

    class Side(models.TextChoices):
        SALESFORCE = "salesforce", "Salesforce"
        MAILBOX = "mailbox", "Mailbox"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        NEEDS_RECONNECT = "needs_reconnect", "Needs reconnecting"
        DISCONNECTED = "disconnected", "Disconnected"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="connections"
    )
    provider = models.CharField(max_length=20, choices=Provider.choices)
    side = models.CharField(max_length=20, choices=Side.choices, editable=False)
    external_account_id = models.CharField(
        max_length=255, blank=True, help_text="The user's id at the provider."
    )
    external_address = models.CharField(
        max_length=255, blank=True, help_text="The account's email address or username."
    )
    instance_url = models.URLField(
        max_length=500, blank=True, help_text="API base URL (Salesforce instance URL)."
    )
    access_token = EncryptedTextField()
    refresh_token = EncryptedTextField()
    token_expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConnectionManager()

    class Meta:
        ordering = ["user_id", "side"]
        constraints = [
            models.UniqueConstraint(fields=["user", "side"], name="one_connection_per_user_side"),
            # The side follows from the provider; the database refuses a mismatch too.
            models.CheckConstraint(
                condition=(
                    models.Q(provider="salesforce", side="salesforce")
                    | models.Q(provider__in=["office365", "gmail", "exchange"], side="mailbox")
                ),
                name="connection_side_matches_provider",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} connection of {self.user} ({self.status})"

    def __repr__(self) -> str:
        return (
            f"<Connection id={self.pk} user_id={self.user_id} provider={self.provider} "
            f"status={self.status}>"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.side = self.side_for(self.provider)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "side", "updated_at"}
        # A token refreshed on a sync session's helper thread is stored on the session's
        # turn (config.db_turns); everywhere else this does nothing.
        with db_turns.on_turn():
            super().save(*args, **kwargs)

    @staticmethod
    def side_for(provider: str) -> str:
        if provider == Connection.Provider.SALESFORCE:
            return Connection.Side.SALESFORCE
        return Connection.Side.MAILBOX

    def store_tokens(
        self,
        access_token: str,
        refresh_token: str | None = None,
        expires_at: datetime | None = None,
    ) -> None:
        """Keep new tokens. Providers often omit the refresh token on refresh: keep the old."""
        self.access_token = access_token
        if refresh_token is not None:
            self.refresh_token = refresh_token
        self.token_expires_at = expires_at
        self.save(update_fields=["access_token", "refresh_token", "token_expires_at"])

    def mark_needs_reconnect(self, message: str) -> None:
        """The provider refused our tokens: sessions stop until the user reconnects."""
        self.status = self.Status.NEEDS_RECONNECT
        self.last_error = message
        self.last_error_at = timezone.now()
        self.save(update_fields=["status", "last_error", "last_error_at"])

    def mark_active(self) -> None:
        """Healthy again. last_error describes the current problem only, so it is cleared;
        the history of errors lives in the sync sessions."""
        self.status = self.Status.ACTIVE
        self.last_error = ""
        self.last_error_at = None
        self.save(update_fields=["status", "last_error", "last_error_at"])

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class SupportRequest(models.Model):
    """A message sent through "Get back to us", signed in or not; support marks it handled.

    The client's IP address is kept only as a keyed hash (enough to spot one sender's
    flood, useless to anyone without the secret key)."""

    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    message = models.TextField("question or comment", max_length=5000)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_requests",
        help_text="The signed-in account that sent it, if any.",
    )
    client_ip_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    handled = models.BooleanField(default=False, db_index=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Support request from {self.name} <{self.email}>"


from .exchange_models import ExchangeServerConfig  # noqa: E402, F401  (a model of this app)
