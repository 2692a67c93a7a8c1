"""System checks that refuse an unsafe production configuration.

They run on every command under production settings (RELAY_PRODUCTION) and under
`manage.py check --deploy` everywhere else, so an operator finds out before serving traffic.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

from accounts.crypto import key_problems

# The fallback in config/settings/base.py: fine on a laptop, never in production.
DEFAULT_SECRET_KEY = "django-insecure-relay-local-only"
# Caches every process shares; rate limits (allauth, the contact form) live in the cache.
SHARED_CACHE_BACKENDS = frozenset(
    {"django.core.cache.backends.redis.RedisCache", "django_redis.cache.RedisCache"}
)
KEYGEN = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'


def production_problems() -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    keys = list(getattr(settings, "RELAY_ENCRYPTION_KEYS", []) or [])
    if not keys:
        problems.append(
            Error(
                "RELAY_ENCRYPTION_KEYS is not set, so OAuth tokens cannot be stored encrypted.",
                hint=f"Generate a key with `{KEYGEN}` and set RELAY_ENCRYPTION_KEYS=<key> "
                "(comma-separated; the first key encrypts). Keep it outside the repository.",
                id="relay.E001",
            )
        )
    else:
        for problem in key_problems(keys):
            problems.append(
                Error(
                    f"RELAY_ENCRYPTION_KEYS: {problem}.",
                    hint=f"Replace it with a key made by `{KEYGEN}`.",
                    id="relay.E002",
                )
            )
    if settings.DEBUG:
        problems.append(
            Error(
                "DEBUG is on: error pages would show settings and data to anyone.",
                hint="Unset DJANGO_DEBUG or set DJANGO_DEBUG=False.",
                id="relay.E003",
            )
        )
    secret_key = settings.SECRET_KEY or ""
    if (
        secret_key == DEFAULT_SECRET_KEY
        or secret_key.startswith("django-insecure")
        or len(secret_key) < 50
    ):
        problems.append(
            Error(
                "DJANGO_SECRET_KEY is missing, the built-in default, or too short.",
                hint="Set DJANGO_SECRET_KEY to at least 50 random characters, e.g. "
                '`python -c "import secrets; print(secrets.token_urlsafe(64))"`.',
                id="relay.E004",
            )
        )
    if not settings.ALLOWED_HOSTS:
        problems.append(
            Error(
                "ALLOWED_HOSTS is empty: Django would answer no request.",
                hint="Set DJANGO_ALLOWED_HOSTS to the site's host names, comma-separated, "
                "e.g. DJANGO_ALLOWED_HOSTS=relay.example.com.",
                id="relay.E005",
            )
        )
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend not in SHARED_CACHE_BACKENDS:
        problems.append(
            Error(
                f"The cache is {backend or 'unset'}, kept per process: each gunicorn and "
                "Celery process would count login attempts and rate limits on its own, so "
                "the limits would not hold.",
                hint="Set REDIS_URL=redis://host:6379/0 (the cache and the Celery broker).",
                id="relay.E006",
            )
        )
    return problems


@register(Tags.security)
def check_production_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not getattr(settings, "RELAY_PRODUCTION", False):
        return []
    return production_problems()


@register(Tags.security, deploy=True)
def check_deploy_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    # Production settings are already covered above; do not report every problem twice.
    if getattr(settings, "RELAY_PRODUCTION", False):
        return []
    return production_problems()
