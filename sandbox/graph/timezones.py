"""Windows time-zone names as Graph uses them, mapped to IANA zones, and Graph's date formats.

Graph speaks Windows zone names ("Pacific Standard Time", "Line Islands Standard Time") in
`start/end.timeZone` and in `Prefer: outlook.timezone`, and also accepts IANA names. Anything
else is refused with the error Exchange gives (`TimeZoneNotSupportedException`).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from tzlocal import windows_tz

from sandbox.common import HttpError

UTC = dt.UTC

# Every Windows name of CLDR's windowsZones table (common/supplemental/windowsZones.xml,
# territory "001" rows), as tzlocal ships it: tzlocal is the well-kept copy of that table
# (regenerated from CLDR by its maintainers, already installed as a dependency of O365), and
# syncengine/mappers/timezones.py was generated from the same copy — so the emulator and
# the engine agree without the sandbox importing the code under test or holding a third
# copy. Real Graph accepts every one of these names (and IANA names).
WINDOWS_TO_IANA: dict[str, str] = dict(windows_tz.win_tz)
# "Coordinated Universal Time" is the display name Graph's supportedTimeZones lists for
# "UTC"; clients send it back.
WINDOWS_TO_IANA.setdefault("Coordinated Universal Time", "Etc/UTC")
_LOWER = {k.lower(): v for k, v in WINDOWS_TO_IANA.items()}
_IANA = available_timezones()


def resolve(name: str | None) -> ZoneInfo:
    """The zone for a Windows or IANA name; Graph's 400 for anything else."""
    if not name:
        return ZoneInfo("UTC")
    return _resolve(name)


@cache
def _resolve(name: str) -> ZoneInfo:
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
