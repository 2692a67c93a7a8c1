"""Settings for pytest. SQLite in memory unless DATABASE_URL points at PostgreSQL (CI)."""

from cryptography.fernet import Fernet

from .base import *  # noqa: F403
from .base import INSTALLED_APPS

DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True

# A fresh key per test run: no key is ever committed, and tests must not depend on one.
RELAY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

# Tests share nothing through a cache server (allauth keeps its rate limits in the cache),
# and the rate limits would otherwise trip on the many logins a test run makes.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
ACCOUNT_RATE_LIMITS = False

# The emulators of Salesforce, Graph and Google (`manage.py sandbox`): never in production.
INSTALLED_APPS = [*INSTALLED_APPS, "sandbox"]
