"""Salesforce ids and field values: the 18-char checksum, parsing JSON input, rendering output."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, date, datetime
from typing import Any

from sandbox.common import HttpError

from .schema import Field

_SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_RE = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-5]{3})?$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class ValidationError(HttpError):
    """A record-level failure in Salesforce's terms (errorCode, message, fields).

    It is an HttpError so a handler can let it escape and the base renders it; collection
    and composite calls catch it to report it per record.
    """

    def __init__(self, code: str, message: str, fields: list[str] | None = None, status: int = 400):
        super().__init__(status, code, message, fields=fields or [])
        self.fields = fields or []


def id_suffix(id15: str) -> str:
    """Salesforce's case-safe suffix: one char per 5-char chunk, a bitmap of its capitals."""
    out = []
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, c in enumerate(chunk) if "A" <= c <= "Z")
        out.append(_SUFFIX_CHARS[bits])
    return "".join(out)


def make_id(prefix: str, seq: int) -> str:
    """prefix + pod "8d" + "0" + 9 base-62 digits; scrambled so case varies like real ids."""
    n = (seq * 2654435761 + 12345) % (62**9)
    digits = []
    for _ in range(9):
        n, r = divmod(n, 62)
        digits.append(_B62[r])
    id15 = f"{prefix}8d0{''.join(digits)}"
    return id15 + id_suffix(id15)


def to_18(raw: str) -> str | None:
    """The 18-char form of a 15- or 18-char id, or None when it is not an id at all."""
    if not isinstance(raw, str) or not _ID_RE.match(raw):
        return None
    if len(raw) == 15:
        return raw + id_suffix(raw)
    # An 18-char id's suffix restores the case of the first 15 (case-insensitive clients).
    bits_chars = raw[15:].upper()
    fixed = []
    for n, chunk_start in enumerate((0, 5, 10)):
        bits = _SUFFIX_CHARS.index(bits_chars[n])
        for i in range(5):
            c = raw[chunk_start + i]
            fixed.append(c.upper() if bits & (1 << i) else c.lower())
    id15 = "".join(fixed)
    return id15 + id_suffix(id15)


def parse_datetime(text: str) -> datetime:
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def fmt_datetime(dt: datetime) -> str:
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


def render(value: Any) -> Any:
    """A stored value as Salesforce's JSON renders it."""
    if isinstance(value, datetime):
        return fmt_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return None  # blob fields are rendered as a URL by the caller
    return value


def _type_error(f: Field, value: Any) -> ValidationError:
    return ValidationError(
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        f"{f.name}: value not of required type: {value}",
        [f.name],
    )


def _parser_error(kind: str, value: Any) -> ValidationError:
    return ValidationError(
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {kind} from VALUE_STRING value {value} "
        "or request may be missing a required field",
    )


def coerce(f: Field, value: Any) -> Any:
    """A JSON input value converted to the stored form, or ValidationError as SF reports it."""
    if value is None:
        return None
    if isinstance(value, dict | list) and f.type != "junctionidlist":
        raise ValidationError(
            "JSON_PARSER_ERROR",
            f"Cannot deserialize instance of {f.type} from {type(value).__name__.upper()} value",
        )
    t = f.type
    if t == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _type_error(f, value)
    if t in ("int", "double"):
        if isinstance(value, bool):
            raise _type_error(f, value)
        try:
            num = float(value)
        except (TypeError, ValueError):
            raise _type_error(f, value) from None
        return int(num) if t == "int" else num
    if t == "date":
        try:
            return date.fromisoformat(str(value)[:10]) if len(str(value)) >= 10 else 1 / 0
        except (ValueError, ZeroDivisionError):
            raise _parser_error("date", value) from None
    if t == "datetime":
        try:
            return parse_datetime(str(value))
        except ValueError:
            raise _parser_error("datetime", value) from None
    if t == "base64":
        try:
            return base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError):
            raise _type_error(f, "(base64)") from None
    if t == "junctionidlist":
        items = value if isinstance(value, list) else [value]
        out = []
        for item in items:
            rid = to_18(item) if isinstance(item, str) else None
            if rid is None:
                raise ValidationError("MALFORMED_ID", f"{f.name}: invalid id: {item}", [f.name])
            out.append(rid)
        return out
    text = (
        value
        if isinstance(value, str)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
    )
    if t == "reference":
        rid = to_18(text)
        if rid is None:
            raise ValidationError(
                "MALFORMED_ID", f"{f.name}: id value of incorrect type: {text}", [f.name]
            )
        return rid
    if f.length and len(text) > f.length:
        raise ValidationError(
            "STRING_TOO_LONG",
            f"{f.name}: data value too large: {text[:40]} (max length={f.length})",
            [f.name],
        )
    if t == "email" and text and not _EMAIL_RE.match(text):
        raise ValidationError(
            "INVALID_EMAIL_ADDRESS", f"{f.name}: invalid email address: {text}", [f.name]
        )
    return text
