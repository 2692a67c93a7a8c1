"""Connect, callback and disconnect: parse, authorize, call a service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Connection
from accounts.providers.errors import OAuthFlowError, ProviderError

from . import services
from .services import provider_label


def _provider_or_404(provider: str) -> str:
    if provider not in services.PROVIDER_MODULES:
        raise Http404("Unknown provider")
    return provider


def _callback_uri(request: HttpRequest, provider: str) -> str:
    return request.build_absolute_uri(reverse("oauth:callback", args=[provider]))


@login_required
@require_POST
def connect_start(request: HttpRequest, provider: str) -> HttpResponse:
    provider = _provider_or_404(provider)
    login_host = request.POST.get("login_host", "production")
    if login_host not in ("production", "sandbox"):
        login_host = "production"
    url = services.begin_connect(
        request.session, provider, _callback_uri(request, provider), login_host
    )
    return redirect(url)


@login_required
@require_GET
def connect_callback(request: HttpRequest, provider: str) -> HttpResponse:
    provider = _provider_or_404(provider)
    try:
        connection = services.complete_connect(
            request.session, request.user, provider, request.GET, _callback_uri(request, provider)
        )
    except OAuthFlowError as exc:
        messages.error(request, str(exc))
    except ProviderError as exc:
        messages.error(request, f"{provider_label(provider)} could not be connected: {exc}")
    else:
        messages.success(
            request, f"{provider_label(provider)} connected as {connection.external_address}."
        )
    return redirect("dashboard")


@login_required
@require_POST
def disconnect(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=connection_id, user=request.user)
    services.disconnect(connection)
    messages.success(request, f"{provider_label(connection.provider)} disconnected.")
    return redirect("dashboard")
