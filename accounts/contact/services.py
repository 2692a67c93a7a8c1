"""Storing contact requests, the per-client rate limit, and marking requests handled.

The rate limit counts stored requests in Django's cache (Redis in production, LocMemCache
in tests and on a single process): at most RATE_LIMIT per RATE_WINDOW seconds per client
IP address and, separately, per email address. A fixed window starting at the first
request: simple, and good enough against a flood of the support queue.
"""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import SupportRequest, User
from config.client_ip import client_ip

RATE_LIMIT = 5
RATE_WINDOW = 60 * 60  # seconds
MAX_BODY_BYTES = 64 * 1024


class RateLimited(Exception):
    """The client or the email address sent RATE_LIMIT requests within RATE_WINDOW."""


def client_ip_hash(request: HttpRequest) -> str:
    """A keyed hash of the client's address: the raw address is never stored.

    The address is config.client_ip's: behind RELAY_TRUSTED_PROXY_COUNT proxies, the one
    they forwarded, so clients behind the proxy do not share one bucket."""
    ip = client_ip(request)
    if not ip:
        return ""
    return salted_hmac("relay.accounts.contact.client-ip", ip, algorithm="sha256").hexdigest()


def _rate_keys(ip_hash: str, email: str | None) -> list[str]:
    keys = [f"contact-rate:ip:{ip_hash}"] if ip_hash else []
    if email:
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        keys.append(f"contact-rate:email:{digest}")
    return keys


def is_rate_limited(ip_hash: str, email: str | None = None) -> bool:
    return any(cache.get(key, 0) >= RATE_LIMIT for key in _rate_keys(ip_hash, email))


def _count(keys: list[str]) -> None:
    for key in keys:
        cache.add(key, 0, timeout=RATE_WINDOW)  # starts the window; no-op when running
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr: a new window
            cache.set(key, 1, timeout=RATE_WINDOW)


def submit_support_request(
    *,
    name: str,
    email: str,
    message: str,
    user: User | AnonymousUser | None,
    ip_hash: str,
) -> SupportRequest:
    """Store one contact request; raises RateLimited instead when the client or the
    address already sent RATE_LIMIT within the window."""
    keys = _rate_keys(ip_hash, email)
    if is_rate_limited(ip_hash, email):
        raise RateLimited
    support_request = SupportRequest.objects.create(
        name=name,
        email=email,
        message=message,
        user=user if user is not None and user.is_authenticated else None,
        client_ip_hash=ip_hash,
    )
    _count(keys)
    return support_request


@transaction.atomic
def mark_handled(support_request: SupportRequest, by: User) -> bool:
    """Mark one request handled by `by`; False if it already was (two agents at once:
    the first one wins and only that one is recorded)."""
    now = timezone.now()
    updated = SupportRequest.objects.filter(pk=support_request.pk, handled=False).update(
        handled=True, handled_by=by, handled_at=now
    )
    if updated:
        support_request.handled, support_request.handled_by, support_request.handled_at = (
            True,
            by,
            now,
        )
    return bool(updated)
