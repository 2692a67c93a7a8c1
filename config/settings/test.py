"""Settings for pytest. SQLite in memory unless DATABASE_URL points at PostgreSQL (CI)."""

from cryptography.fernet import Fernet

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, env

DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tasks run inline, except in the real workers the scale-out test starts (which also get a
# queue of their own and the test process's keys through the environment).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")

# A fresh key per test run: no key is ever committed, and tests must not depend on one.
RELAY_ENCRYPTION_KEYS = env.list("RELAY_TEST_ENCRYPTION_KEYS", default=[]) or [
    Fernet.generate_key().decode()
]

# Tests share nothing through a cache server (allauth keeps its rate limits in the cache),
# and the rate limits would otherwise trip on the many logins a test run makes.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
ACCOUNT_RATE_LIMITS = False

# The emulators of Salesforce, Graph and Google (`manage.py sandbox`): never in production.
INSTALLED_APPS = [*INSTALLED_APPS, "sandbox"]
