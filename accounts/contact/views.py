"""“Get back to us”, open to everyone: parse, limit, call the service, render."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.contact import services
from accounts.contact.forms import ContactForm

TEMPLATE = "accounts/contact.html"
TOO_MANY = (
    "You have sent us several messages in the last hour. Please wait an hour before "
    "sending another one; we have your earlier messages and will answer them."
)
TOO_BIG = (
    "That message is far too large to send (the form takes up to 5,000 characters). "
    "Please shorten it and try again."
)


def _body_size(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _initial(request: HttpRequest) -> dict[str, str]:
    user = request.user
    if not user.is_authenticated:
        return {}
    return {"name": user.get_full_name(), "email": user.email}


def _page(request: HttpRequest, form: ContactForm, status: int, error: str = "") -> HttpResponse:
    response = render(request, TEMPLATE, {"form": form, "error": error}, status=status)
    if status == 429:
        response["Retry-After"] = str(services.RATE_WINDOW)
    return response


@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, ContactForm(initial=_initial(request)), 200)
    if _body_size(request) > services.MAX_BODY_BYTES:
        return _page(request, ContactForm(initial=_initial(request)), 413, TOO_BIG)
    form = ContactForm(request.POST)
    ip_hash = services.client_ip_hash(request)
    # A flooding client is refused before anything else; the form comes back filled.
    if services.is_rate_limited(ip_hash):
        return _page(request, form, 429, TOO_MANY)
    if not form.is_valid():
        return _page(request, form, 400)
    try:
        services.submit_support_request(**form.cleaned_data, user=request.user, ip_hash=ip_hash)
    except services.RateLimited:
        return _page(request, form, 429, TOO_MANY)
    return redirect("contact:thanks")


@require_GET
def thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/contact_thanks.html")
