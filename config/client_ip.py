"""The client's address, as every rate limit counts it (allauth, django-axes, contact form).

Behind RELAY_TRUSTED_PROXY_COUNT reverse proxies, each appending the address it saw to
X-Forwarded-For, the client is the entry that many places from the right: entries further
left were written by the client itself and prove nothing. Without proxies (0) it is
REMOTE_ADDR. allauth reads the same count (ALLAUTH_TRUSTED_PROXY_COUNT) and picks the same
entry, so all limits share one notion of "the client".
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _clean(value: str) -> str:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 203.0.113.7:51234
        value = value.partition(":")[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return ""


def client_ip(request: HttpRequest) -> str:
    """The client's address, or "" when the request does not say (or says nonsense)."""
    count = int(getattr(settings, "RELAY_TRUSTED_PROXY_COUNT", 0) or 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count > 0 and forwarded:
        hops = [hop for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= count:
            return _clean(hops[-count])
        # Fewer hops than proxies: the request bypassed a proxy; trust only the socket.
    return _clean(request.META.get("REMOTE_ADDR", ""))
