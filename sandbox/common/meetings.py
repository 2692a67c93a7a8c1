"""Meeting messages (invitations, updates, cancellations) a calendar API sends on a write.

The emulators never send mail; they record each message the real service would have sent,
so tests can assert that Relay never invites a customer. Graph, Google and EWS differ in
*when* they send (Graph always, Google unless `sendUpdates=none`, EWS per
`SendMeetingInvitations…`); *what* they send for a change of the attendee list is the same,
and lives here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class MeetingMessage:
    """One message the service would have sent on the organizer's behalf."""

    mailbox: str  # the organizer's account (the principal that wrote)
    kind: str  # "request" | "update" | "cancellation"
    event_id: str
    ical_uid: str
    subject: str
    recipients: tuple[str, ...]
    at: str
    policy: str = ""  # what the caller asked for (Google: its sendUpdates value, or "default")

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["recipients"] = list(self.recipients)
        return out


def messages_for(
    before: Sequence[str] | None, after: Sequence[str] | None, *, deleted: bool = False
) -> list[tuple[str, list[str]]]:
    """(kind, recipients) for one organizer write, given attendee addresses before (None: the
    event is new) and after: new attendees get a request, remaining ones an update, removed
    ones (or all, on delete) a cancellation."""
    old = [a.lower() for a in before or []]
    if deleted:
        return [("cancellation", old)] if old else []
    new = [a.lower() for a in after or []]
    if before is None:
        return [("request", new)] if new else []
    kept = [a for a in new if a in old]
    added = [a for a in new if a not in old]
    removed = [a for a in old if a not in new]
    out = [("update", kept), ("request", added), ("cancellation", removed)]
    return [(kind, who) for kind, who in out if who]
