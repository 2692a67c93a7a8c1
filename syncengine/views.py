"""The engine's dashboard pages: History, Issues, Sync now, held deletions. Thin: parse,
call."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import issues as issue_service
from . import services
from .models import ItemType, SyncLink, SyncSession

SESSIONS_PER_PAGE = 20


@login_required
def history(request: HttpRequest) -> HttpResponse:
    sessions = SyncSession.objects.filter(user=request.user).prefetch_related("log")
    page = Paginator(sessions, SESSIONS_PER_PAGE).get_page(request.GET.get("page"))
    held = SyncLink.objects.filter(user=request.user, state=SyncLink.State.HELD_DELETION)
    return render(
        request,
        "syncengine/history.html",
        {
            "page": page,
            "rows": [services.session_row(s) for s in page],
            "held": held[:200],
            "held_count": held.count(),
        },
    )


@login_required
def issues(request: HttpRequest) -> HttpResponse:
    # Only the signed-in user's own rows: no id is taken from the request.
    return render(
        request, "syncengine/issues.html", {"issues": issue_service.issues_for(request.user)}
    )


@login_required
@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    services.request_sync_now(request.user)
    messages.success(request, "A sync session is queued; it appears on History when it runs.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "syncengine:history"  # never an open redirect
    return redirect(target)


@login_required
@require_POST
def resolve_held_deletions(request: HttpRequest) -> HttpResponse:
    decision = request.POST.get("decision")
    item_type = request.POST.get("item_type") or None
    if decision not in ("confirm", "discard") or (
        item_type is not None and item_type not in ItemType.values
    ):
        messages.error(request, "Choose Confirm or Discard.")
        return redirect("syncengine:history")
    result = services.decide_held_deletions(request.user, decision, item_type)
    verb = "deleted" if decision == "confirm" else "kept"
    if result.busy:
        messages.warning(
            request,
            f"A sync session is running: {result.count} held item(s) will be {verb} when it ends.",
        )
    else:
        messages.success(
            request, f"{result.count} held item(s) will be {verb} by a sync session queued now."
        )
    return redirect("syncengine:history")
