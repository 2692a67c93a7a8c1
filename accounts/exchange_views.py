"""The dashboard's "Connect Exchange Server" form: the user gives their address only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.http import require_POST

from .exchange_connect import connect_exchange_mailbox
from .providers.errors import ProviderError


@login_required
@require_POST
def connect_exchange(request: HttpRequest) -> HttpResponse:
    address = str(request.POST.get("smtp_address", ""))[:320]
    try:
        connection = connect_exchange_mailbox(request.user, address)
    except ProviderError as exc:
        messages.error(request, f"Exchange Server could not be connected: {exc}")
    else:
        messages.success(request, f"Exchange Server connected as {connection.external_address}.")
    return redirect("dashboard")


urlpatterns = [path("connect-exchange/", connect_exchange, name="connect_exchange")]
