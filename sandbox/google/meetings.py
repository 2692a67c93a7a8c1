"""The emails Google Calendar sends for an API write of a meeting, and `sendUpdates`.

Only `sendUpdates=none` is silent. The default is documented as "false" and the deprecated
`sendNotifications=false` likewise, but both come with "Note that some emails might still be
sent" (https://developers.google.com/calendar/api/v3/reference/events/insert, /patch,
/update, /delete), so the emulator records them as sent.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request

from sandbox.common.meetings import MeetingMessage, messages_for

from .errors import bool_param, invalid
from .service import Service
from .store import Account, rfc3339

SEND_UPDATES = ("all", "externalOnly", "none")
# Addresses Google Calendar delivers to itself (not "external" for sendUpdates=externalOnly).
GOOGLE_DOMAINS = ("gmail.com", "googlemail.com")


class MeetingsMixin(Service):
    def notify(
        self,
        acct: Account,
        request: Request,
        event: dict[str, Any],
        before: list[dict[str, Any]] | None,
        deleted: bool = False,
    ) -> None:
        """Record the emails Calendar sends for an API write of an event the account
        organizes. Only `sendUpdates=none` is silent: the default ("false") and the
        deprecated `sendNotifications=false` both come with "Note that some emails might
        still be sent" (events.insert/patch/update/delete reference), so they are recorded."""
        policy = send_updates(request)
        if policy == "none":
            return
        organizer = event.get("organizer") or {}
        if not (organizer.get("self") or organizer.get("email", "").lower() == acct.email):
            return
        skip = {acct.email, str(organizer.get("email", "")).lower()}

        def guests(attendees: list[dict[str, Any]] | None) -> list[str]:
            out = [str(a.get("email", "")).lower() for a in attendees or []]
            out = [a for a in out if a and a not in skip]
            if policy == "externalOnly":
                out = [a for a in out if a.rpartition("@")[2] not in GOOGLE_DOMAINS]
            return out

        old = None if before is None else guests(before)
        for kind, recipients in messages_for(old, guests(event.get("attendees")), deleted=deleted):
            acct.sent_updates.append(
                MeetingMessage(
                    acct.email,
                    kind,
                    str(event["id"]),
                    str(event.get("iCalUID", "")),
                    str(event.get("summary", "")),
                    tuple(recipients),
                    rfc3339(self.now()),
                    policy,
                )
            )


def send_updates(request: Request) -> str:
    """The notification policy of a write: `sendUpdates`, else what the deprecated
    `sendNotifications` means ("true" → all), else "default"."""
    value = request.args.get("sendUpdates")
    if value is not None:
        if value not in SEND_UPDATES:
            raise invalid(f"Invalid value for sendUpdates: {value}")
        return value
    legacy = request.args.get("sendNotifications")
    if legacy is not None and bool_param(legacy):
        return "all"
    return "default"
