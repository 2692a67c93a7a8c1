"""Emails to a user about their sync's health (SPEC §7): one when a problem starts, one
when it is over, none in between.

An episode starts when a session ends with a connection needing reconnection, or at the
10th consecutive failed session; it ends at the first session that runs through again
with every connection active. The episode lives on UserSyncState (`problem_kind`,
`problem_notified_at`), so the emails are per episode, not per session, across workers.
Mails are plain text, name no token, and link to the Issues page.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Connection, User

from .models import SyncSession, UserSyncState

logger = logging.getLogger(__name__)

FAILED_SESSIONS_BEFORE_EMAIL = 10
RECONNECT, FAILURES = "reconnect", "failures"
# Sessions that ran the item pass: their end means the user's sync works again.
RAN_THROUGH = (
    SyncSession.Status.SUCCEEDED,
    SyncSession.Status.PARTIAL,
    SyncSession.Status.NEEDS_CONFIRMATION,
)


def issues_url() -> str:
    base = getattr(settings, "RELAY_BASE_URL", "") or "http://localhost:8000"
    return base.rstrip("/") + reverse("syncengine:issues")


def reconnect_needed(user: User) -> list[Connection]:
    return list(
        Connection.objects.filter(user=user, status=Connection.Status.NEEDS_RECONNECT).order_by(
            "side"
        )
    )


def current_problem(user: User, state: UserSyncState) -> str:
    if reconnect_needed(user):
        return RECONNECT
    if state.consecutive_failures >= FAILED_SESSIONS_BEFORE_EMAIL:
        return FAILURES
    return ""


def notify_after_session(user: User, session: SyncSession) -> str:
    """Send the episode's first or last email if this session starts or ends one.

    Returns what was sent ("reconnect", "failures", "recovered") or "" for nothing."""
    if _nothing_to_send(user):  # nearly every session: one query, no lock
        return ""
    with transaction.atomic():
        state, _ = UserSyncState.objects.select_for_update().get_or_create(user=user)
        problem = current_problem(user, state)
        if problem and state.problem_notified_at is None:
            state.problem_kind = problem
            state.problem_notified_at = timezone.now()
            state.save(update_fields=["problem_kind", "problem_notified_at"])
            sent = problem
        elif (
            not problem and state.problem_notified_at is not None and session.status in RAN_THROUGH
        ):
            state.problem_kind = ""
            state.problem_notified_at = None
            state.save(update_fields=["problem_kind", "problem_notified_at"])
            sent = "recovered"
        else:
            return ""
    # The state is committed first: a mail server hiccup must not make every later session
    # send the email again.
    _send(user, sent, session)
    return sent


def _nothing_to_send(user: User) -> bool:
    """No episode open and none starting: no connection needs reconnecting and failures
    are below the threshold (the locked path below decides everything else)."""
    return UserSyncState.objects.filter(user=user).filter(quiet(user.pk)).exists()


def quiet(user_id: int, *, failures_to_come: int = 0) -> Q:
    """The UserSyncState condition under which notify_after_session sends nothing, on the
    row as it is now; `failures_to_come` = 1 for the row as a failed session is about to
    leave it (runs.py folds this check into the session's outcome UPDATE)."""
    reconnect = Connection.objects.filter(user_id=user_id, status=Connection.Status.NEEDS_RECONNECT)
    return Q(
        ~Exists(reconnect),
        problem_notified_at__isnull=True,
        consecutive_failures__lt=FAILED_SESSIONS_BEFORE_EMAIL - failures_to_come,
    )


def _send(user: User, what: str, session: SyncSession) -> None:
    if not user.email:
        return
    subject, body = _compose(user, what, session)
    try:
        send_mail(subject, body, None, [user.email])
    except Exception:  # a notification must never break a sync session
        logger.exception("could not email user %s about %s", user.pk, what)


def _compose(user: User, what: str, session: SyncSession) -> tuple[str, str]:
    link = issues_url()
    if what == RECONNECT:
        lines = [
            f"{c.get_provider_display()} ({c.external_address or 'your account'}) refused "
            f"Relay's access: {c.last_error or 'the sign-in expired or was revoked.'}"
            for c in reconnect_needed(user)
        ]
        return (
            "Relay: please reconnect your account",
            "Hello,\n\n"
            "Relay has stopped syncing your Salesforce data and your mailbox because a "
            "connection needs to be signed in again:\n\n"
            + "\n".join(f"- {line}" for line in lines)
            + f"\n\nOpen the Issues page and press Reconnect:\n{link}\n\n"
            "Nothing is lost: the changes made meanwhile are synced once you reconnect.\n\n"
            "— Relay\n",
        )
    if what == FAILURES:
        return (
            "Relay: your sync keeps failing",
            "Hello,\n\n"
            f"Relay's last {FAILED_SESSIONS_BEFORE_EMAIL} sync sessions for your account "
            f"failed. The latest said: {session.error or session.get_status_display()}\n\n"
            f"What went wrong, item by item, is on the Issues page:\n{link}\n\n"
            "Relay keeps trying; we will write again once a session succeeds. You can also "
            "reply through “Get back to us” on any Relay page.\n\n— Relay\n",
        )
    return (
        "Relay: your sync works again",
        "Hello,\n\n"
        "Relay synced your Salesforce data and your mailbox again: the problem we wrote "
        f"about is over. Anything left to look at is on the Issues page:\n{link}\n\n— Relay\n",
    )
