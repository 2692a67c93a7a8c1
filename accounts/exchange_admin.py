"""Admin for the organisation's Exchange server settings, with a "Test connection" action.

The password field is write-only: the form never renders the stored value (blank keeps it),
list and detail pages never show it, and the model's str()/repr() leave it out.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .exchange_connect import check_exchange_server
from .exchange_models import ExchangeServerConfig


class ExchangeServerForm(forms.ModelForm):
    # Not the model field's name: that field is not editable, so it is never rendered back.
    service_password = forms.CharField(
        label="Password",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="The service account's password (stored encrypted). Leave blank to keep it.",
    )

    class Meta:
        model = ExchangeServerConfig
        fields = [
            "name",
            "ews_url",
            "username",
            "auth_type",
            "ca_bundle",
            "timeout_seconds",
            "is_active",
        ]

    def clean_service_password(self) -> str:
        value = self.cleaned_data.get("service_password") or ""
        if not value and self.instance.pk:
            return str(self.instance.password or "")  # blank keeps the stored one
        if not value:
            raise forms.ValidationError("The service account needs a password.")
        return value

    def save(self, commit: bool = True) -> ExchangeServerConfig:
        # The model field is not editable (never rendered back); set it from the form.
        self.instance.password = self.cleaned_data["service_password"]
        return super().save(commit=commit)


@admin.register(ExchangeServerConfig)
class ExchangeServerConfigAdmin(admin.ModelAdmin):
    form = ExchangeServerForm
    list_display = ("name", "ews_url", "username", "auth_type", "is_active", "last_check_result")
    readonly_fields = ("last_checked_at", "last_check_result")
    fields = (
        "name",
        "ews_url",
        "username",
        "service_password",
        "auth_type",
        "ca_bundle",
        "timeout_seconds",
        "is_active",
        "last_checked_at",
        "last_check_result",
    )
    actions = ["test_connection"]

    @admin.action(description="Test connection")
    def test_connection(
        self, request: HttpRequest, queryset: QuerySet[ExchangeServerConfig]
    ) -> None:
        for config in queryset:
            result = check_exchange_server(config)
            level = messages.SUCCESS if result.startswith("OK") else messages.ERROR
            self.message_user(request, f"{config.name}: {result}", level)
