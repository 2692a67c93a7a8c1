"""The pure sync planner: canonical records + links + rules + now → actions.

No I/O, no ORM, no clock. See plan.plan() for the inputs the engine must gather.
"""

from .actions import (
    Action,
    Conflict,
    CreateMailbox,
    CreateSalesforce,
    DeleteMailbox,
    DeleteSalesforce,
    Forget,
    Freeze,
    HoldDeletions,
    LinkPair,
    Plan,
    RefreshLink,
    Relink,
    RestoreMailbox,
    Skip,
    Unfreeze,
    UpdateMailbox,
    UpdateSalesforce,
)
from .links import LinkState, LinkStatus, Origin, salesforce_ids_to_read
from .matching import match_key
from .plan import plan
from .records import (
    CONTACT_FIELDS,
    EVENT_FIELDS,
    TASK_FIELDS,
    ItemType,
    MailboxRecord,
    SalesforceFacts,
    SalesforceRecord,
    Side,
    content_hash,
    normalize_fields,
)
from .rules import ContactScope, SyncRules, deletion_brake_threshold, in_scope

__all__ = [
    "CONTACT_FIELDS",
    "EVENT_FIELDS",
    "TASK_FIELDS",
    "Action",
    "Conflict",
    "ContactScope",
    "CreateMailbox",
    "CreateSalesforce",
    "DeleteMailbox",
    "DeleteSalesforce",
    "Forget",
    "Freeze",
    "HoldDeletions",
    "ItemType",
    "LinkPair",
    "LinkState",
    "LinkStatus",
    "MailboxRecord",
    "Origin",
    "Plan",
    "RefreshLink",
    "Relink",
    "RestoreMailbox",
    "SalesforceFacts",
    "SalesforceRecord",
    "Side",
    "Skip",
    "SyncRules",
    "Unfreeze",
    "UpdateMailbox",
    "UpdateSalesforce",
    "content_hash",
    "deletion_brake_threshold",
    "in_scope",
    "match_key",
    "normalize_fields",
    "plan",
    "salesforce_ids_to_read",
]
