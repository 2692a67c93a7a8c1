"""Encryption of secrets at rest with MultiFernet, keyed by settings.RELAY_ENCRYPTION_KEYS.

The first key encrypts, every key decrypts. To rotate: put a new key first, keep the old
ones, run `manage.py rotate_encryption_keys`, then drop the old keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction


class DecryptionError(Exception):
    """A stored value that none of the configured keys can read (the message holds no data)."""


def key_problems(keys: Iterable[str]) -> list[str]:
    """Describe each malformed key by position; an empty list means every key is usable."""
    problems = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            problems.append(f"key #{position} is not a Fernet key (32 url-safe base64 bytes)")
    return problems


@lru_cache(maxsize=8)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(
            "RELAY_ENCRYPTION_KEYS is empty. Generate a key with "
            '`python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"` and set RELAY_ENCRYPTION_KEYS.'
        )
    problems = key_problems(keys)
    if problems:
        raise ImproperlyConfigured("RELAY_ENCRYPTION_KEYS: " + "; ".join(problems))
    return MultiFernet([Fernet(key) for key in keys])


def multifernet() -> MultiFernet:
    # Cached per key tuple, so override_settings (tests) and rotation see the current keys.
    return _multifernet(tuple(settings.RELAY_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return multifernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return multifernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "A stored secret cannot be decrypted with any key in RELAY_ENCRYPTION_KEYS; "
            "was a key removed before `manage.py rotate_encryption_keys` ran?"
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt one stored token with the first key (it must be readable by some key)."""
    try:
        return multifernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("A stored secret cannot be decrypted with any key.") from None


def encrypted_fields() -> Iterator[tuple[type[models.Model], list[str]]]:
    """Every model with EncryptedTextFields, and those fields' names.

    A field says it is one by `encrypted_at_rest = True` (accounts.fields): this module
    sits below the field module, which imports it to encrypt."""
    for model in apps.get_models():
        names = [
            f.attname for f in model._meta.concrete_fields if getattr(f, "encrypted_at_rest", False)
        ]
        if names:
            yield model, names


def rotate_all(batch_size: int = 500) -> int:
    """Re-encrypt every encrypted value in the database with the first key; return rows.

    values() decrypts through the field (with any key) and update() encrypts with the first
    key; update() rather than save() so auto_now timestamps and save() logic stay untouched.
    """
    rotated = 0
    for model, names in encrypted_fields():
        manager = model._default_manager
        with transaction.atomic():
            for row in manager.values("pk", *names).iterator(chunk_size=batch_size):
                pk = row.pop("pk")
                changes = {name: value for name, value in row.items() if value}
                if changes:
                    manager.filter(pk=pk).update(**changes)
                    rotated += 1
    return rotated
