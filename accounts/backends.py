"""django-axes' backend, tolerant of authenticate() calls that carry no request.

Axes refuses such calls outright; management commands and scripts authenticate without a
request, and there is no client address to rate-limit then. With a request (every login
form), the admin login's (address, username) lockout applies as configured.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from django.http import HttpRequest


class AdminLoginRateLimitBackend(AxesStandaloneBackend):
    def authenticate(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


class AdminLoginAxesHandler(AxesDatabaseHandler):
    """Counts failed logins of the admin site only. AXES_ONLY_ADMIN_SITE stops axes from
    refusing site logins, but its failure handler still counted them and locked on the
    fifth; the site's logins are allauth's to limit (accounts/adapter.py)."""

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        if request is None or not self.is_admin_request(request):
            return None
        return super().user_login_failed(sender, credentials, request, **kwargs)
