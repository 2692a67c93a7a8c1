"""Forms of the Sync settings pages; validation messages land next to their field."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache
from typing import Any, cast

from django import forms

from syncsettings.blocklists import (
    USER_BLOCKLIST_MAX_CHARS,
    USER_BLOCKLIST_MAX_ENTRIES,
    format_entries,
    free_mail_choices,
    parse_blocklist,
)
from syncsettings.models import SyncSettings
from syncsettings.services import ContactViewChoices


class SwitchInput(forms.CheckboxInput):
    """A plain checkbox announced as a switch; CSS draws it, it works without JavaScript."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"role": "switch", "class": "switch", **(attrs or {})})


class FiltersForm(forms.ModelForm):
    contact_view_id = forms.ChoiceField(label="Contact list view", required=False)

    class Meta:
        model = SyncSettings
        fields = [
            "contacts_down_enabled",
            "tasks_down_enabled",
            "events_down_enabled",
            "contact_scope",
            "contact_view_id",
        ]
        widgets = {
            "contacts_down_enabled": SwitchInput(),
            "tasks_down_enabled": SwitchInput(),
            "events_down_enabled": SwitchInput(),
            "contact_scope": forms.RadioSelect(),
        }

    def __init__(self, *args: Any, view_choices: ContactViewChoices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        views = list(view_choices.views)
        # The stored view stays a valid choice even when Salesforce returns no list (an
        # outage, a revoked connection), so saving other switches never loses it.
        stored_id = self.instance.contact_view_id
        if stored_id and stored_id not in {view_id for view_id, _ in views}:
            views.insert(0, (stored_id, self.instance.contact_view_name or stored_id))
        self.view_labels = dict(views)
        cast(forms.ChoiceField, self.fields["contact_view_id"]).choices = [
            ("", "— choose a view —"),
            *views,
        ]

    def save(self, commit: bool = True) -> SyncSettings:
        sync_settings: SyncSettings = super().save(commit=False)
        sync_settings.contact_view_name = self.view_labels.get(sync_settings.contact_view_id, "")
        if commit:
            sync_settings.save()
        return sync_settings


@lru_cache(maxsize=1)
def time_zone_choices() -> list[tuple[str, str]]:
    names = sorted(zoneinfo.available_timezones() - {"localtime"})
    return [(name, name.replace("_", " ")) for name in names]


class DetailedSettingsForm(forms.ModelForm):
    time_zone = forms.ChoiceField(label="Time zone")
    # Ticked = allowed. A post without the field keeps every free-mail domain blocked,
    # the safe default (SPEC §6), rather than silently unblocking them all.
    free_mail_unblocked = forms.MultipleChoiceField(
        label="Allow these free-mail domains",
        required=False,
        choices=free_mail_choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "free-mail"}),
        error_messages={
            "invalid_choice": (
                "“%(value)s” is not one of the free-mail domains Relay blocks by default, "
                "so there is nothing to unblock; to block or allow other domains use the "
                "blocklist."
            )
        },
    )

    class Meta:
        model = SyncSettings
        fields = [
            "auto_remove_contacts",
            "auto_remove_tasks",
            "email_auto_save",
            "create_leads_for_unknown",
            "blocklist",
            "free_mail_unblocked",
            "time_zone",
        ]
        widgets = {
            "auto_remove_contacts": SwitchInput(),
            "auto_remove_tasks": SwitchInput(),
            "email_auto_save": SwitchInput(),
            "create_leads_for_unknown": SwitchInput(),
            "blocklist": forms.Textarea(
                attrs={"rows": 6, "placeholder": "someone@example.com\nexample.org"}
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = time_zone_choices()
        stored = self.instance.time_zone
        if stored and stored not in dict(choices):
            choices = [(stored, stored), *choices]
        cast(forms.ChoiceField, self.fields["time_zone"]).choices = choices
        if not self.is_bound:
            self.initial["free_mail_unblocked"] = self.instance.free_mail_unblocked_domains()

    def clean_blocklist(self) -> str:
        # The logger's own rules (parse_entry): one message per bad line, under the field.
        text = self.cleaned_data["blocklist"]
        if len(text) > USER_BLOCKLIST_MAX_CHARS:
            raise forms.ValidationError(
                f"The blocklist is {len(text):,} characters long; it takes at most "
                f"{USER_BLOCKLIST_MAX_ENTRIES:,} entries ({USER_BLOCKLIST_MAX_CHARS:,} "
                "characters). Nothing was saved.",
                code="blocklist_too_long",
            )
        return format_entries(parse_blocklist(text))

    def clean_free_mail_unblocked(self) -> str:
        return "\n".join(sorted(self.cleaned_data["free_mail_unblocked"]))
