"""The dashboard pages. Each view: parse, authorize (only request.user's rows), call, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.models import Connection
from accounts.requests import SignedInRequest
from syncengine import status as sync_status
from syncengine.status import in_user_time_zone
from syncsettings import services
from syncsettings.forms import DetailedSettingsForm, FiltersForm
from syncsettings.models import SyncSettings


@login_required
@in_user_time_zone
def dashboard(request: SignedInRequest) -> HttpResponse:
    from syncengine.pictures import changes_chart

    context = {
        "salesforce": Connection.objects.salesforce_for(request.user),
        "mailbox": Connection.objects.mailbox_for(request.user),
        "last_sync": services.last_sync_summary(request.user),
        "status": sync_status.status_for(request.user),
        "chart": changes_chart(request.user),
    }
    return render(request, "syncsettings/dashboard.html", context)


@login_required
@in_user_time_zone
def sync_progress(request: SignedInRequest) -> HttpResponse:
    """The progress fragment the dashboard's small script reloads while a sync runs."""
    return render(
        request,
        "syncsettings/_progress.html",
        {"status": sync_status.status_for(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def filters(request: SignedInRequest) -> HttpResponse:
    # Settings are always the signed-in user's own: no id is taken from the request.
    sync_settings = SyncSettings.for_user(request.user)
    view_choices = services.contact_view_choices(request.user)
    form = FiltersForm(
        request.POST if request.method == "POST" else None,
        instance=sync_settings,
        view_choices=view_choices,
    )
    if request.method == "POST" and form.is_valid():
        services.save_sync_settings(form.save(commit=False))
        messages.success(request, "Filters saved. They apply from the next sync.")
        return redirect("syncsettings:filters")
    return render(
        request,
        "syncsettings/filters.html",
        {"form": form, "view_error": view_choices.error, "settings_page": "filters"},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def detailed(request: SignedInRequest) -> HttpResponse:
    sync_settings = SyncSettings.for_user(request.user)
    form = DetailedSettingsForm(
        request.POST if request.method == "POST" else None, instance=sync_settings
    )
    if request.method == "POST" and form.is_valid():
        services.save_sync_settings(form.save(commit=False))
        messages.success(request, "Detailed settings saved. They apply from the next sync.")
        return redirect("syncsettings:detailed")
    return render(
        request,
        "syncsettings/detailed.html",
        {"form": form, "settings_page": "detailed"},
        status=400 if form.errors else 200,
    )
