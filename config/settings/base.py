"""Settings shared by every environment. Values come from the environment (django-environ)."""

from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ

# ModelAdmin[...], QuerySet[...] in class bases: the type arguments mypy asks for.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()

SECRET_KEY = env("DJANGO_SECRET_KEY", default="django-insecure-relay-local-only")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "axes",
    "csp",
    "django_celery_beat",
    "accounts.apps.AccountsConfig",
    "syncsettings",
    "syncengine",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The logged-in user's id on every log record of the request (config/log.py).
    "config.log.RequestContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Last, as django-axes asks: turns an admin-login lockout into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# No ATOMIC_REQUESTS: with IMMEDIATE transactions on SQLite every request, reads included,
# would take the database's single write lock for its whole duration, so one slow request
# (a large blocklist being validated) answered every other user "database is locked".
# Requests read in autocommit; each write that must be all-or-nothing is its own short
# transaction.atomic block, taken after the slow work (validation) is done.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The engine commits each link right after its write; with SQLite's default rollback
    # journal every commit is an fsync (~13 ms here). WAL with synchronous=NORMAL keeps
    # commits durable against a crash of the process, and lets the web server read while
    # a worker writes. IMMEDIATE transactions avoid "database is locked" on upgrade; the
    # timeout is how long a writer waits for another's short transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First, as django-axes asks: refuses a locked-out (address, username) pair early.
    "accounts.backends.AdminLoginRateLimitBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ["email", "username", "first_name", "last_name"]},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Request size limits (SPEC §8): a form post larger than this is refused with a clear
# message (config/errors.py) before Django reads it. The largest legitimate post is a full
# user blocklist (2,000 entries of at most 254 characters: ~0.5 MB).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
# Sign-up and password reset answer the same whether or not an address has an account.
ACCOUNT_PREVENT_ENUMERATION = True
# The site's login rate limit (accounts/adapter.py): failures count per client address and
# per (address, account) pair, never per account alone, so a stranger's failures cannot
# lock a user out of the right password from their own address.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_RATE_LIMITS: dict[str, str] | bool = {"login_failed": "20/m/ip,5/5m/key"}

# How many reverse proxies in front of Django append to X-Forwarded-For: the client's address
# is the entry that many places from the right (config/client_ip.py). 0: REMOTE_ADDR. Every
# rate limit (allauth, the admin login, the contact form) uses that one address.
RELAY_TRUSTED_PROXY_COUNT = env.int("RELAY_TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = RELAY_TRUSTED_PROXY_COUNT

# The admin login's rate limit (django-axes, admin site only; the site's login is allauth's):
# 5 failures lock that (client address, username) pair for 15 minutes. Keyed by the pair, so
# failures from elsewhere never lock a staff member out of the right password.
AXES_ONLY_ADMIN_SITE = True
AXES_HANDLER = "accounts.backends.AdminLoginAxesHandler"
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
# Only failures are stored (the lockout needs them); no row per successful login.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
AXES_COOLOFF_MESSAGE = (
    "Too many failed sign-ins for this account from your address. Try again in 15 minutes."
)

# Content-Security-Policy (django-csp): only this site's own scripts, styles and images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", "https:"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# Fernet keys for OAuth tokens at rest (accounts.fields.EncryptedTextField): the first key
# encrypts, every key decrypts, so a new key goes first and the old one stays until
# `manage.py rotate_encryption_keys` has re-encrypted every row. local.py and test.py fill
# this in when unset; production refuses to start without it (accounts/checks.py).
RELAY_ENCRYPTION_KEYS: list[str] = env.list("RELAY_ENCRYPTION_KEYS", default=[])
# True only in production.py: turns the deploy checks in accounts/checks.py into
# start-up checks, so a bad production configuration is refused by every command.
RELAY_PRODUCTION = False
# Where users reach Relay: the links in notification emails (syncengine/notifications.py).
RELAY_BASE_URL = env("RELAY_BASE_URL", default="http://localhost:8000")

# Redis is optional: it carries the Celery broker (unless CELERY_BROKER_URL says otherwise)
# and the cache when set; without it everything runs on one machine with no server.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Provider endpoints (Salesforce, Microsoft, Google): base URLs, CA bundles, OAuth clients.
from .providers import *  # noqa: E402, F403

# Celery: an embedded filesystem broker by default so a fresh machine needs no server;
# CELERY_BROKER_URL=redis://… in production and CI.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = BASE_DIR / "var" / "broker"
    # kombu's filesystem transport lists these folders and fails if they are missing.
    for _folder in ("out", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        # Else kombu keeps the workers' control messages in ./control.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
# A stuck task never holds a worker (and a user's lease) for good: SoftTimeLimitExceeded is
# raised in the task after the soft limit, the worker process is killed after the hard one.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=15 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=20 * 60)
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.int("CELERY_WORKER_MAX_TASKS_PER_CHILD", default=100)
# A sync session spends nearly all its time waiting on provider APIs, so one worker process
# runs several at once, a thread each (issue 15: an idle session is ~20-50 ms of CPU and
# hundreds of ms of network). Each thread has its own database connection (so up to
# CONCURRENCY connections per worker process) and its own lease name (scheduling.worker_name).
# The threads pool does not enforce the task time limits above (the session keeps the soft
# one itself: runs.time_limited, checked at every heartbeat) nor recycle processes
# (max-tasks-per-child): those apply with CELERY_WORKER_POOL=prefork (then CONCURRENCY is
# processes). Under threads a stuck session is bounded by PROVIDER_HTTP_TIMEOUT per call
# and its lease (RELAY_SYNC_LEASE_MINUTES): once the lease runs out another worker takes
# the user and the stuck session stops at its next heartbeat. Use more worker processes
# (relay-worker@1..N), not more threads, to use more cores.
CELERY_WORKER_POOL = env("CELERY_WORKER_POOL", default="threads")
CELERY_WORKER_CONCURRENCY = env.int("CELERY_CONCURRENCY", default=8)
# Late acknowledgement: a task whose worker died is delivered again (sessions are leased
# per user, so a repeat is harmless).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# django-celery-beat's DatabaseScheduler plus a heartbeat for /readyz (config/beat.py).
CELERY_BEAT_SCHEDULER = "config.beat:HeartbeatScheduler"
CELERY_BEAT_MAX_LOOP_INTERVAL = env.int("CELERY_BEAT_MAX_LOOP_INTERVAL", default=30)
# /metrics: a bearer token Prometheus sends; unset, only direct loopback requests are answered.
RELAY_METRICS_TOKEN = env("RELAY_METRICS_TOKEN", default="")
CELERY_TIMEZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
}
