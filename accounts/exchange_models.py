"""The organisation's Exchange Server (EWS) settings, entered once by staff in admin.

Relay is self-hosted by one organisation, so there is normally one row; each Exchange
mailbox connection names the row it was verified against (`Connection.extra["exchange_server"]`).
The service account's password is encrypted at rest (EncryptedTextField, as the OAuth
tokens) and never part of str()/repr(), admin forms' initial values, or templates.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from .fields import EncryptedTextField
from .providers.exchange import ExchangeServer


class ExchangeServerConfig(models.Model):
    class AuthType(models.TextChoices):
        NTLM = "NTLM", "NTLM"
        BASIC = "Basic", "Basic (over TLS)"

    name = models.CharField(max_length=100, unique=True, default="Exchange Server")
    ews_url = models.URLField(
        max_length=500,
        help_text="The EWS endpoint, e.g. https://mail.corp.example/EWS/Exchange.asmx",
    )
    username = models.CharField(
        max_length=255,
        help_text="The service account holding the ApplicationImpersonation role "
        "(CORP\\svc-relay or svc-relay@corp.example).",
    )
    password = EncryptedTextField()
    auth_type = models.CharField(max_length=10, choices=AuthType.choices, default=AuthType.NTLM)
    ca_bundle = models.CharField(
        max_length=500,
        blank=True,
        help_text="Path of a PEM file with your certificate authority (empty: the system's).",
    )
    timeout_seconds = models.PositiveIntegerField(default=30)
    is_active = models.BooleanField(default=True)
    last_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_check_result = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "accounts"
        verbose_name = "Exchange server"

    def __str__(self) -> str:
        return f"{self.name} ({self.ews_url})"

    def __repr__(self) -> str:
        return f"<ExchangeServerConfig id={self.pk} name={self.name!r} auth={self.auth_type}>"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.name = (self.name or "").strip() or "Exchange Server"
        super().save(*args, **kwargs)

    def server(self) -> ExchangeServer:
        """The connection settings with the password decrypted (raises ValueError when
        they are incomplete or not https)."""
        return ExchangeServer(
            ews_url=self.ews_url,
            username=self.username,
            password=self.password or "",
            auth_type=self.auth_type,  # type: ignore[arg-type]
            ca_bundle=self.ca_bundle or None,
            timeout=float(self.timeout_seconds or 30),
        )

    @classmethod
    def active(cls) -> ExchangeServerConfig | None:
        return cls.objects.filter(is_active=True).order_by("pk").first()
