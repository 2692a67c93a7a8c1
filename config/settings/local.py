"""Settings for a developer machine: DEBUG on, console email, keys kept in a local file."""

from config.keys import local_encryption_keys

from .base import *  # noqa: F403
from .base import BASE_DIR, INSTALLED_APPS, RELAY_ENCRYPTION_KEYS, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

if not RELAY_ENCRYPTION_KEYS:
    RELAY_ENCRYPTION_KEYS = local_encryption_keys(BASE_DIR / ".local-encryption-keys")

# The emulators of Salesforce, Graph and Google (`manage.py sandbox`): never in production.
INSTALLED_APPS = [*INSTALLED_APPS, "sandbox"]
