"""Production settings. Everything comes from the environment; see README.md.

Missing or unsafe values are not guessed: they fall back to values that the system checks
in accounts/checks.py reject with a message saying which variable to set.
"""

from .base import *  # noqa: F403
from .base import MIDDLEWARE, env

RELAY_PRODUCTION = True
DEBUG = env.bool("DJANGO_DEBUG", default=False)

# TLS is terminated by a proxy in front of Django; it must set X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Probes and the metrics scraper talk to gunicorn directly, without the TLS proxy.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preloading is a commitment browsers keep for months (hstspreload.org): opt in, never default.
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
# check --deploy warns (security.W021) whenever preload is off; off is the deliberate default.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)  # noqa: F405

EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_FILE_PATH = env("DJANGO_EMAIL_FILE_PATH", default=None)  # the file backend (prod-check)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="Relay <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Sign-up verifies the email address before the account can log in (SPEC §8).
ACCOUNT_EMAIL_VERIFICATION = "mandatory"

# The collected static files (`manage.py collectstatic`), served by WhiteNoise from the web
# process with hashed names and far-future cache headers; no separate static server needed.
MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# JSON lines on stderr, one object per record, with the user and session ids where known and
# secrets and OAuth codes scrubbed (config/log.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"relay_context": {"()": "config.log.ContextFilter"}},
    "formatters": {"json": {"()": "config.log.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["relay_context"],
        }
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
}
