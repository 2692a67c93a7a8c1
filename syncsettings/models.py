"""A user's sync settings: what goes down from Salesforce, deletion rules, blocklist, zone."""

from __future__ import annotations

import re
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models

# A host name with at least one dot, labels of letters/digits/hyphens (IDNs as punycode).
_DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.[a-z]{2,63}$"
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


def normalize_blocklist_entry(raw: str) -> str:
    """Return the entry as stored (lower case; "@example.com" means the domain example.com),
    or raise ValidationError saying what is wrong with it."""
    entry = raw.strip().lower()
    if entry.startswith("@"):
        entry = entry[1:]
    if "@" in entry:
        try:
            validate_email(entry)
        except ValidationError:
            raise ValidationError(f"“{raw.strip()}” is not a valid email address.") from None
        return entry
    if not _DOMAIN_RE.match(entry):
        raise ValidationError(
            f"“{raw.strip()}” is neither an email address nor a domain (like example.com)."
        )
    return entry


def parse_blocklist(text: str) -> list[str]:
    """Entries one a line; blank lines and duplicates dropped; raises on the invalid lines."""
    entries: list[str] = []
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = normalize_blocklist_entry(line)
        except ValidationError as exc:
            errors.append(f"Line {number}: {exc.messages[0]}")
            continue
        if entry not in entries:
            entries.append(entry)
    if errors:
        raise ValidationError(errors)
    return entries


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
    blocklist = models.TextField(
        blank=True,
        help_text="Addresses and domains never linked to Salesforce records, one a line.",
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "sync settings"
        verbose_name_plural = "sync settings"

    def __str__(self) -> str:
        return f"Sync settings of {self.user}"

    @classmethod
    def for_user(cls, user: models.Model) -> SyncSettings:
        settings_row, _ = cls.objects.get_or_create(user=user)
        return settings_row

    def clean(self) -> None:
        if self.contact_scope == self.ContactScope.VIEW and not self.contact_view_id:
            raise ValidationError(
                {"contact_view_id": "Choose a view, or pick another set of contacts."}
            )

    def blocked_entries(self) -> list[str]:
        """The blocklist as normalized entries; invalid lines (saved by other means) skipped."""
        entries: list[str] = []
        for line in self.blocklist.splitlines():
            try:
                entry = normalize_blocklist_entry(line)
            except ValidationError:
                continue
            if entry not in entries:
                entries.append(entry)
        return entries
