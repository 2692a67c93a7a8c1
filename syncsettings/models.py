"""A user's sync settings: what goes down from Salesforce, deletion rules, blocklist, zone."""

from __future__ import annotations

import contextlib
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from accounts.models import User
from syncsettings.blocklists import (
    format_entries,
    parse_blocklist,
    parse_free_mail_unblocked,
    validate_blocklist,
    validate_entry,
    validate_free_mail_unblocked,
)


def validate_time_zone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            "%(name)s is not a known time zone; use an IANA name such as Europe/Paris.",
            params={"name": name},
            code="invalid_time_zone",
        ) from None


class SyncSettings(models.Model):
    """One row per user, created on first use by for_user(); defaults are SPEC's."""

    class ContactScope(models.TextChoices):
        ALL = "all", "All contacts"
        MINE = "mine", "Only my contacts"
        VIEW = "view", "Custom view"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sync_settings"
    )
    contacts_down_enabled = models.BooleanField("Sync contacts from Salesforce", default=True)
    tasks_down_enabled = models.BooleanField("Sync tasks from Salesforce", default=True)
    events_down_enabled = models.BooleanField("Sync calendar events from Salesforce", default=True)
    contact_scope = models.CharField(
        max_length=10, choices=ContactScope.choices, default=ContactScope.MINE
    )
    contact_view_id = models.CharField("Contact list view", max_length=64, blank=True)
    contact_view_name = models.CharField(max_length=255, blank=True)
    auto_remove_contacts = models.BooleanField(
        "Auto-removal of contacts from Salesforce", default=True
    )
    auto_remove_tasks = models.BooleanField("Auto-removal of tasks from Salesforce", default=True)
    email_auto_save = models.BooleanField("Save matching emails automatically", default=False)
    create_leads_for_unknown = models.BooleanField(
        "Create a Lead for unknown senders",
        default=False,
        help_text="An email in the Salesforce folder from someone Salesforce does not know "
        "is logged against a new Lead, instead of waiting 30 days for a match.",
    )
    blocklist = models.TextField(
        blank=True,
        validators=[validate_blocklist],
        help_text="Addresses and domains never linked to Salesforce records, one a line.",
    )
    free_mail_unblocked = models.TextField(
        "Free-mail domains allowed",
        blank=True,
        default="",
        validators=[validate_free_mail_unblocked],
        help_text="Free-mail domains (blocked by default) this user allowed, one a line.",
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "sync settings"
        verbose_name_plural = "sync settings"

    def __str__(self) -> str:
        return f"Sync settings of {self.user}"

    @classmethod
    def for_user(cls, user: User) -> SyncSettings:
        settings_row, _ = cls.objects.get_or_create(user=user)
        return settings_row

    def clean(self) -> None:
        # Store the normalized form whatever the entry point (dashboard or admin). A text
        # that does not parse is left as typed: the field's validator reports it.
        with contextlib.suppress(ValidationError):
            self.blocklist = format_entries(parse_blocklist(self.blocklist))
        with contextlib.suppress(ValidationError):
            self.free_mail_unblocked = "\n".join(
                parse_free_mail_unblocked(self.free_mail_unblocked)
            )
        if self.contact_scope == self.ContactScope.VIEW and not self.contact_view_id:
            raise ValidationError(
                {"contact_view_id": "Choose a view, or pick another set of contacts."}
            )

    def blocked_entries(self) -> list[str]:
        """The blocklist as normalized entries; invalid lines (saved by other means) skipped."""
        entries: list[str] = []
        for line in self.blocklist.splitlines():
            try:
                value = validate_entry(line).value
            except ValidationError:
                continue
            if value not in entries:
                entries.append(value)
        return entries

    def free_mail_unblocked_domains(self) -> list[str]:
        """The free-mail domains this user allowed; lines that are not one are skipped."""
        domains: list[str] = []
        for line in self.free_mail_unblocked.splitlines():
            try:
                domains.extend(d for d in parse_free_mail_unblocked(line) if d not in domains)
            except ValidationError:
                continue
        return domains


class OrgBlocklistEntry(models.Model):
    """One address or domain of the org list, kept by support staff in admin (SPEC §6).

    Applies to every user on top of their own list; a user cannot unblock it."""

    class Kind(models.TextChoices):
        ADDRESS = "address", "Address"
        DOMAIN = "domain", "Domain (with its subdomains)"

    value = models.CharField(
        max_length=320,
        unique=True,
        help_text="An address (bob@example.com) or a domain (example.com, @example.com).",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, editable=False)
    note = models.CharField(max_length=200, blank=True, help_text="Why it is blocked.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["value"]
        verbose_name = "org blocklist entry"
        verbose_name_plural = "org blocklist"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["address", "domain"]),
                name="org_blocklist_entry_kind_known",
            )
        ]

    def __str__(self) -> str:
        return self.value

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Whatever the entry point: a row is never stored un-normalized or without a kind.
        entry = validate_entry(self.value)
        self.value, self.kind = entry.value, entry.kind
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # Normalized before the unique check runs, so "@Acme.com" and "acme.com" collide.
        try:
            entry = validate_entry(self.value)
        except ValidationError as exc:
            raise ValidationError({"value": exc.messages}) from None
        self.value, self.kind = entry.value, entry.kind
