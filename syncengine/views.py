"""The engine's dashboard pages: History, Issues, Sync now, held deletions. Thin: parse,
call."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import issues as issue_service
from . import services
from .mappers.canonical import ItemType
from .models import ITEM_TYPE_CHOICES, ITEM_TYPE_LABELS, ItemLedgerEntry, SyncLink, SyncSession
from .status import ZonedRequest, in_user_time_zone

SESSIONS_PER_PAGE = 20


@login_required
@in_user_time_zone
def history(request: ZonedRequest) -> HttpResponse:
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
            "zone_name": str(request.relay_zone),
        },
    )


@login_required
@in_user_time_zone
def issues(request: ZonedRequest) -> HttpResponse:
    # Only the signed-in user's own rows: no id is taken from the request.
    last = (
        SyncSession.objects.filter(user=request.user)
        .exclude(status=SyncSession.Status.RUNNING)
        .order_by("-started_at")
        .first()
    )
    return render(
        request,
        "syncengine/issues.html",
        {
            "issues": issue_service.issues_for(request.user),
            "last_session": last,
            "zone_name": str(request.relay_zone),
        },
    )


@login_required
@require_POST
def sync_now(request: ZonedRequest) -> HttpResponse:
    from . import status

    state = status.status_for(request.user)
    if not state.both_connected:
        messages.error(request, "Connect both Salesforce and your mailbox before syncing.")
    elif not services.request_sync_now(request.user):
        # A double click, or a session already queued / running: nothing more is queued.
        messages.info(request, "A sync is already queued or running.")
    else:
        messages.success(request, "A sync session is queued; it appears on History when it runs.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "syncengine:history"  # never an open redirect
    return redirect(target)


@login_required
@require_POST
def resolve_held_deletions(request: ZonedRequest) -> HttpResponse:
    decision = request.POST.get("decision")
    item_type = request.POST.get("item_type") or None
    if decision not in ("confirm", "discard") or (
        item_type is not None and item_type not in ITEM_TYPE_LABELS
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


# --- "Why (not) synced?": the Items page and a session's page (issue 10) -------------------

ITEMS_PER_SESSION_PAGE = 100


@login_required
@in_user_time_zone
def items(request: ZonedRequest) -> HttpResponse:
    """Search the user's linked items and ledger; POST runs one Salesforce lookup for an
    item never seen (a bounded read, the user asked for it)."""
    from accounts.providers.errors import ProviderError

    from . import ledger_query

    data = request.POST if request.method == "POST" else request.GET
    query = data.get("q", "")
    answers: list[ledger_query.ItemAnswer] = []
    looked_up = False
    error = ""
    if query:
        try:
            if request.method == "POST" and data.get("lookup") in ledger_query.ITEM_TYPES:
                looked_up = True
                answers = ledger_query.lookup_in_salesforce(
                    request.user, query, ItemType(data["lookup"])
                )
            else:
                answers = ledger_query.search(request.user, query)
        except ledger_query.BadQuery as exc:
            error = str(exc)
        except ProviderError as exc:
            error = f"Salesforce did not answer the lookup: {exc}"
    return render(
        request,
        "syncengine/items.html",
        {
            "query": query,
            "answers": answers,
            "looked_up": looked_up,
            "error": error,
            "lookup_types": [(t, ITEM_TYPE_LABELS[t]) for t in ledger_query.ITEM_TYPES],
        },
    )


@login_required
@in_user_time_zone
def session_detail(request: ZonedRequest, pk: int) -> HttpResponse:
    from django.shortcuts import get_object_or_404

    from .pictures import action_bar

    # Only the signed-in user's own sessions: another user's id is a 404.
    session = get_object_or_404(SyncSession, pk=pk, user=request.user)
    filters = {
        "item_type": _choice(request.GET.get("type"), list(ITEM_TYPE_LABELS)),
        "direction": _choice(request.GET.get("direction"), ["down", "up"]),
        "action": _choice(request.GET.get("action"), ItemLedgerEntry.Action.values),
    }
    rows = ItemLedgerEntry.objects.filter(session=session)
    counts = _action_counts(rows)
    for name, value in filters.items():
        if value:
            rows = rows.filter(**{name: value})
    rows = rows.order_by("item_type", "action", "name", "id")
    page = Paginator(rows, ITEMS_PER_SESSION_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "syncengine/session.html",
        {
            "session": session,
            "row": services.session_row(session),
            "page": page,
            "filters": filters,
            "filter_query": query.urlencode(),
            "counts": counts,
            "bar": action_bar(counts),
            "type_choices": ITEM_TYPE_CHOICES,
            "action_choices": ItemLedgerEntry.Action.choices,
            "zone_name": str(request.relay_zone),
        },
    )


def _choice(value: str | None, allowed: list[str]) -> str:
    return value if value in allowed else ""


def _action_counts(rows: QuerySet[ItemLedgerEntry]) -> list[tuple[str, str, int]]:
    labels = dict(ItemLedgerEntry.Action.choices)
    found = rows.order_by().values("action").annotate(n=Count("id"))
    by_action = {r["action"]: r["n"] for r in found}
    return [(a, labels[a], by_action[a]) for a in labels if by_action.get(a)]
