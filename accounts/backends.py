"""django-axes' backend, tolerant of authenticate() calls that carry no request.

Axes refuses such calls outright; management commands and scripts authenticate without a
request, and there is no client address to rate-limit then. With a request (every login
form), the admin login's (address, username) lockout applies as configured.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class AdminLoginRateLimitBackend(AxesStandaloneBackend):
    def authenticate(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)
