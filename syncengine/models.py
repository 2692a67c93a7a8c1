"""The engine's state: links between pairs, cursors, sessions and their log, containers."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .mappers.canonical import ItemType

# What people read for each item type in these tables. The values are the canonical
# ItemType's; email is logged to Salesforce, not synced both ways, so it is a value of
# these columns without being a canonical item type.
EMAIL = "email"
ITEM_TYPE_LABELS: dict[str, str] = {
    ItemType.CONTACT: "Contact",
    ItemType.TASK: "Task",
    ItemType.EVENT: "Calendar event",
    EMAIL: "Email",
}
ITEM_TYPE_CHOICES = [(str(value), label) for value, label in ITEM_TYPE_LABELS.items()]


class HeldDecision(models.TextChoices):
    CONFIRM = "confirm", "Confirm the deletion"
    DISCARD = "discard", "Discard the deletion, keep both sides"


class SyncLink(models.Model):
    """One synced pair: what each side looked like when Relay last wrote or read it.

    The hashes are of the canonical record (syncengine.planner), so an echo of Relay's own
    write — a new version with the same content — is not taken for a user's change.
    """

    class Origin(models.TextChoices):
        SALESFORCE = "salesforce", "Brought down from Salesforce"
        MAILBOX = "mailbox", "Sent up from the mailbox"

    class State(models.TextChoices):
        LINKED = "linked", "Linked"
        FROZEN = "frozen", "Out of the sync window"
        HELD_DELETION = "held_deletion", "Deletion waiting for confirmation"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    item_type = models.CharField(max_length=16, choices=ITEM_TYPE_CHOICES)
    sf_id = models.CharField(max_length=18)
    mailbox_id = models.CharField(max_length=512)
    mailbox_version = models.CharField(max_length=256, blank=True)
    sf_hash = models.CharField(max_length=64, blank=True)
    mailbox_hash = models.CharField(max_length=64, blank=True)
    snapshot = models.JSONField(default=dict, blank=True)
    # SalesforceFacts as last seen (owner, LastModifiedDate, invitees, scope fields, hash):
    # windows and scopes are re-evaluated from it without re-reading unchanged records.
    sf_facts = models.JSONField(null=True, blank=True)
    # Events (issue 9): the meeting's iCalendar UID, the hash of the mailbox people last
    # related, and the people Relay related (only those are ever unrelated by Relay).
    relations = models.JSONField(default=dict, blank=True)
    origin = models.CharField(max_length=16, choices=Origin.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.LINKED)
    held_side = models.CharField(max_length=16, blank=True)
    # Confirm / Discard recorded by the user or support: the next session carries it out.
    held_decision = models.CharField(max_length=8, choices=HeldDecision.choices, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "item_type", "sf_id"], name="synclink_one_per_sf_record"
            ),
            models.UniqueConstraint(
                fields=["user", "item_type", "mailbox_id"], name="synclink_one_per_mailbox_item"
            ),
        ]
        indexes = [models.Index(fields=["user", "item_type", "state"])]

    def __str__(self) -> str:
        return f"{self.item_type} {self.sf_id} ↔ {self.mailbox_id[:24]}"

    @property
    def display_name(self) -> str:
        """What a person recognises the item by: its subject or name, else its id."""
        snap = self.snapshot or {}
        name = " ".join(p for p in (snap.get("first_name"), snap.get("last_name")) if p)
        return snap.get("subject") or name or snap.get("email") or self.sf_id


class WriteIntent(models.Model):
    """A create about to be sent (SPEC §5: nothing lost, no duplicate), written durably
    before the call and removed in the transaction that writes the create's link.

    A row that survives means the outcome is unknown (the worker died, or the response was
    lost after the provider applied it): the next session resolves it before planning,
    finding what the create produced by the content that was sent (Salesforce holds no
    marker of ours) or by the marker the mailbox payload carried (syncengine.intents).
    """

    class Target(models.TextChoices):
        SALESFORCE = "salesforce", "A Salesforce record"
        MAILBOX = "mailbox", "A mailbox item"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    item_type = models.CharField(max_length=16, choices=ITEM_TYPE_CHOICES)
    target = models.CharField(max_length=16, choices=Target.choices)
    # The id on the side the content came from: the mailbox item's for a Salesforce
    # create, the Salesforce record's for a mailbox create.
    source_id = models.CharField(max_length=512)
    replaces_sf_id = models.CharField(max_length=18, blank=True)
    fields = models.JSONField(default=dict)  # the canonical fields sent (link_store form)
    sent_hash = models.CharField(max_length=64)  # what the created side holds, hashed
    source_hash = models.CharField(max_length=64, blank=True)
    origin = models.CharField(max_length=16, choices=SyncLink.Origin.choices)
    # The id the create produced, once known and linked: the row then only waits for the
    # Salesforce id to be stored on the mailbox item (the marker), which the next session
    # writes if this one died first.
    created_id = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField()  # the session's clock when it was sent

    class Meta:
        indexes = [models.Index(fields=["user", "item_type"])]

    def __str__(self) -> str:
        return f"{self.item_type} create in {self.target} from {self.source_id[:24]}"


class SyncCursor(models.Model):
    """Where the last read of one feed stopped (SystemModstamp, delta link, sync token)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    feed = models.CharField(max_length=64)
    value = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "feed"], name="synccursor_one_per_feed")
        ]

    def __str__(self) -> str:
        return f"{self.feed} for user {self.user_id}"


class MailboxContainer(models.Model):
    """A folder, list, group, label or category Relay created or found, by its role."""

    class Role(models.TextChoices):
        CONTACTS = "contacts", "Salesforce Contacts"
        TASKS = "tasks", "Salesforce Tasks"
        EVENTS = "events", "Salesforce category / calendar"
        EMAILS = "emails", "Salesforce Emails"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    provider = models.CharField(max_length=16)
    role = models.CharField(max_length=16, choices=Role.choices)
    external_id = models.CharField(max_length=512)
    name = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "provider", "role"], name="mailboxcontainer_one_per_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.provider})"


class SyncSession(models.Model):
    """One run of the engine for one user; its counters are what History shows."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Scheduled"
        MANUAL = "manual", "Sync now"
        SUPPORT = "support", "Started by support"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Finished with item errors"
        NEEDS_CONFIRMATION = "needs_confirmation", "Deletions need confirmation"
        RETRY_LATER = "retry_later", "Will retry (rate limit or outage)"
        FAILED = "failed", "Failed"
        ABANDONED = "abandoned", "Stopped (worker lost)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # {item_type: {"down"|"up": {"created": n, "updated": n, "deleted": n, "restored": n,
    #  "skipped": n, "conflicts": n, "errors": n}}}
    counters = models.JSONField(default=dict, blank=True)
    api_calls_salesforce = models.PositiveIntegerField(default=0)
    api_calls_mailbox = models.PositiveIntegerField(default=0)
    # Anything written on either side (the scheduler's idle back-off reads it).
    changed = models.BooleanField(default=False)
    # retry_later: what the provider asked for (Retry-After), when it said.
    retry_after_seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    # While it runs: {item_type: {"done": n, "total": m}} (syncengine.ledger.progress).
    progress = models.JSONField(default=dict, blank=True)
    # The org's rolling 24-hour API usage and allocation as the session last saw them
    # (Sforce-Limit-Info), for the dashboard's calls-per-day picture.
    sf_org_api_used = models.PositiveIntegerField(null=True, blank=True)
    sf_org_api_limit = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["user", "-started_at"])]

    def __str__(self) -> str:
        return f"Session {self.pk} ({self.status})"


class SyncLogEntry(models.Model):
    """What a session wants a person to know about one item: a conflict, an error, a hold."""

    class Kind(models.TextChoices):
        CONFLICT = "conflict", "Conflict"
        ITEM_ERROR = "item_error", "Item error"
        HELD_DELETION = "held_deletion", "Held deletion"
        PROBLEM = "problem", "Problem"

    session = models.ForeignKey(SyncSession, on_delete=models.CASCADE, related_name="log")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    item_type = models.CharField(max_length=16, choices=ITEM_TYPE_CHOICES, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    side = models.CharField(max_length=16, blank=True)
    sf_id = models.CharField(max_length=18, blank=True)
    mailbox_id = models.CharField(max_length=512, blank=True)
    message = models.TextField()
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "sync log entries"

    def __str__(self) -> str:
        return f"{self.kind}: {self.message[:60]}"


class UserSyncState(models.Model):
    """Scheduling and locking for one user: due time, idle back-off, the claim of a worker."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sync_state"
    )
    next_due_at = models.DateTimeField(null=True, blank=True)
    idle_streak = models.PositiveSmallIntegerField(default=0)
    consecutive_failures = models.PositiveIntegerField(default=0)
    paused = models.BooleanField(default=False)
    # Shown to the user on the dashboard while paused (support writes it, issue 10).
    pause_reason = models.CharField(max_length=300, blank=True)
    claimed_by = models.CharField(max_length=128, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # When a session task was queued and no worker has taken it yet (one at a time).
    queued_at = models.DateTimeField(null=True, blank=True)
    # The problem episode the user was emailed about (syncengine.notifications): one email
    # when it starts, one when it ends, none in between.
    problem_kind = models.CharField(max_length=16, blank=True)
    problem_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [
            ("run_support_actions", "Can run support actions (sync now, rebuild, disconnect)")
        ]

    def __str__(self) -> str:
        return f"sync state of user {self.user_id}"


class LoggedEmail(models.Model):
    """Relay's memory of one message it logged to Salesforce, or is still retrying (SPEC §6).

    Keyed by the Message-ID (`emails.logging_plan.message_key`). Salesforce stays the
    source of truth against duplicates (`SalesforceEmailAdapter.already_logged`): a row
    only spares calls. A pending row keeps the message (`record`, attachment contents
    left out) so later sessions re-plan it without reading the mailbox again."""

    class Status(models.TextChoices):
        LOGGED = "logged", "Logged"
        PENDING = "pending", "Waiting for a matching Contact or Lead"
        GIVEN_UP = "given_up", "Given up"
        SKIPPED = "skipped", "Skipped"

    class Form(models.TextChoices):
        EMAIL_MESSAGE = "email_message", "Email (Enhanced Email)"
        TASK = "task", "Task"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    message_key = models.CharField(max_length=998)
    status = models.CharField(max_length=16, choices=Status.choices)
    mailbox_id = models.CharField(max_length=512, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    first_seen = models.DateTimeField()
    last_tried = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    salesforce_id = models.CharField(max_length=18, blank=True)
    form = models.CharField(max_length=16, choices=Form.choices, blank=True)
    error = models.TextField(blank=True)
    record = models.JSONField(default=dict, blank=True)  # pending only: the message to re-plan

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "message_key"], name="loggedemail_one_per_key")
        ]
        indexes = [models.Index(fields=["user", "status"])]

    def __str__(self) -> str:
        return f"{self.status}: {self.message_key[:60]}"


class ItemLedgerEntry(models.Model):
    """What one session did with one item, or which rule kept it out (SPEC §9): the
    per-item record behind "why (not) synced?", the Items page and a session's page.

    Written by syncengine.ledger.record_plan; kept LEDGER_KEEP_DAYS (≥ 90) and pruned by
    the beat task relay.prune_item_ledger."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        DELETED = "deleted", "Deleted"
        RESTORED = "restored", "Restored"
        LINKED = "linked", "Linked to its match"
        RELINKED = "relinked", "Relinked (merge or move)"
        FORGOTTEN = "forgotten", "Link forgotten"
        FROZEN = "frozen", "Frozen (out of the window)"
        UNFROZEN = "unfrozen", "Back in the window"
        CONFLICT = "conflict", "Conflict resolved"
        HELD = "held", "Deletion held"
        SKIPPED = "skipped", "Skipped by a rule"
        ERROR = "error", "Refused (error)"

    class Direction(models.TextChoices):
        DOWN = "down", "Salesforce → mailbox"
        UP = "up", "Mailbox → Salesforce"
        NONE = "", "—"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    session = models.ForeignKey(SyncSession, on_delete=models.CASCADE, related_name="items")
    item_type = models.CharField(max_length=16, choices=ITEM_TYPE_CHOICES)
    sf_id = models.CharField(max_length=18, blank=True)
    mailbox_id = models.CharField(max_length=512, blank=True)
    name = models.CharField(max_length=200, blank=True)  # contact name/email, a subject
    action = models.CharField(max_length=16, choices=Action.choices)
    direction = models.CharField(max_length=4, choices=Direction.choices, blank=True)
    reason_code = models.CharField(max_length=32)  # syncengine.planner.rules.Reason
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "item ledger entry"
        verbose_name_plural = "item ledger"
        indexes = [
            # a user's search (name prefix / ids) and the newest entry per item
            models.Index(fields=["user", "item_type", "sf_id"], name="ledger_user_sf"),
            models.Index(fields=["user", "item_type", "mailbox_id"], name="ledger_user_mailbox"),
            models.Index(fields=["user", "name"], name="ledger_user_name"),
            # a session's page, filtered by type / direction / action
            models.Index(fields=["session", "item_type", "direction"], name="ledger_session"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.item_type} {self.name or self.sf_id}"
