"""Timestamps in provider JSON, read leniently (a missing or odd one sorts first)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from syncengine.mappers.timezones import parse_aware

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def parse_when(text: Any) -> dt.datetime:
    if not text:
        return EPOCH
    try:
        return parse_aware(str(text))
    except ValueError:
        return EPOCH
