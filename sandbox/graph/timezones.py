"""Windows time-zone names as Graph uses them, mapped to IANA zones, and Graph's date formats.

Graph speaks Windows zone names ("Pacific Standard Time") in `start/end.timeZone` and in
`Prefer: outlook.timezone`, and also accepts IANA names. Anything else is refused with the
error Exchange gives (`TimeZoneNotSupportedException`).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sandbox.common import HttpError

UTC = dt.UTC

# The common names from the CLDR windowsZones table ("001" territory).
WINDOWS_TO_IANA: dict[str, str] = {
    "UTC": "UTC",
    "Coordinated Universal Time": "UTC",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "W. Europe Standard Time": "Europe/Berlin",
    "Central Europe Standard Time": "Europe/Budapest",
    "Romance Standard Time": "Europe/Paris",
    "Central European Standard Time": "Europe/Warsaw",
    "E. Europe Standard Time": "Europe/Chisinau",
    "FLE Standard Time": "Europe/Kiev",
    "GTB Standard Time": "Europe/Bucharest",
    "Russian Standard Time": "Europe/Moscow",
    "Turkey Standard Time": "Europe/Istanbul",
    "Israel Standard Time": "Asia/Jerusalem",
    "South Africa Standard Time": "Africa/Johannesburg",
    "Arabian Standard Time": "Asia/Dubai",
    "India Standard Time": "Asia/Calcutta",
    "China Standard Time": "Asia/Shanghai",
    "Singapore Standard Time": "Asia/Singapore",
    "Tokyo Standard Time": "Asia/Tokyo",
    "Korea Standard Time": "Asia/Seoul",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "E. Australia Standard Time": "Australia/Brisbane",
    "W. Australia Standard Time": "Australia/Perth",
    "New Zealand Standard Time": "Pacific/Auckland",
    "Hawaiian Standard Time": "Pacific/Honolulu",
    "Alaskan Standard Time": "America/Anchorage",
    "Pacific Standard Time": "America/Los_Angeles",
    "Mountain Standard Time": "America/Denver",
    "US Mountain Standard Time": "America/Phoenix",
    "Central Standard Time": "America/Chicago",
    "Eastern Standard Time": "America/New_York",
    "Atlantic Standard Time": "America/Halifax",
    "Canada Central Standard Time": "America/Regina",
    "SA Pacific Standard Time": "America/Bogota",
    "E. South America Standard Time": "America/Sao_Paulo",
    "Argentina Standard Time": "America/Buenos_Aires",
    "Central Standard Time (Mexico)": "America/Mexico_City",
}
_LOWER = {k.lower(): v for k, v in WINDOWS_TO_IANA.items()}
_IANA = available_timezones()


def resolve(name: str | None) -> ZoneInfo:
    """The zone for a Windows or IANA name; Graph's 400 for anything else."""
    if not name:
        return ZoneInfo("UTC")
    key = name.strip().strip('"')
    iana = _LOWER.get(key.lower()) or (key if key in _IANA else None)
    if iana is None:
        raise HttpError(
            400,
            "TimeZoneNotSupportedException",
            "A valid TimeZone value must be specified. "
            f"The following TimeZone value is not supported: '{name}'.",
        )
    try:
        return ZoneInfo(iana)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - tzdata is installed
        raise HttpError(400, "TimeZoneNotSupportedException", str(exc)) from exc


def parse_local(value: str) -> dt.datetime:
    """Graph's `dateTime` ("2024-05-01T09:00:00.0000000"): naive, 7 fractional digits."""
    text = value.strip().rstrip("Z")
    if "." in text:
        head, frac = text.split(".", 1)
        text = f"{head}.{frac[:6]}"
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError as exc:
        raise HttpError(
            400, "ErrorInvalidRequest", f"Cannot convert '{value}' to a DateTime."
        ) from exc


def parse_instant(value: str) -> dt.datetime:
    """An ISO 8601 instant from a query string; naive values are UTC as Graph reads them."""
    text = value.strip().replace("Z", "+00:00")
    if "." in text:
        head, rest = text.split(".", 1)
        digits = "".join(ch for ch in rest if ch.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise HttpError(
            400, "ErrorInvalidParameter", f"The value '{value}' is not a valid DateTime."
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def fmt_local(value: dt.datetime) -> str:
    """Graph's dateTimeTimeZone.dateTime text."""
    return value.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S.0000000")


def fmt_instant(value: dt.datetime) -> str:
    """Graph's DateTimeOffset text for *DateTime properties (always UTC, `Z`)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_utc(local: dt.datetime, zone_name: str | None) -> dt.datetime:
    return local.replace(tzinfo=resolve(zone_name)).astimezone(UTC)
