"""A text field whose value is stored encrypted (MultiFernet); see accounts/crypto.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models

from accounts import crypto


class EncryptedTextField(models.TextField):
    """Holds a secret (an OAuth token). The column stores a Fernet token, never the text.

    Not editable: secrets are set in code (Connection.store_tokens), so they never appear in
    ModelForms or the admin. Empty strings and NULL are stored as they are (nothing to hide).
    Lookups on the value cannot work (each encryption differs) and are not supported.
    """

    description = "Text encrypted at rest with MultiFernet"
    encrypted_at_rest = True  # how accounts.crypto.encrypted_fields finds these

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, Sequence[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        # Mirror __init__'s defaults so migrations record only real deviations.
        for option, default in (("editable", False), ("blank", True)):
            if getattr(self, option) == default:
                kwargs.pop(option, None)
            else:
                kwargs[option] = getattr(self, option)
        return name, path, args, kwargs

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return crypto.encrypt(value)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value in (None, ""):
            return value
        return crypto.decrypt(value)
