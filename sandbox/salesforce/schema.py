"""The emulated org's objects and fields, shaped after the Salesforce Object Reference.

Only what Relay touches is modelled, but what is modelled carries the real properties
(type, length, nillable, createable, updateable, defaulted), because validation and
`describe` both read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WHO_TYPES = ("Contact", "Lead")
WHAT_TYPES = ("Account", "Opportunity")


@dataclass(frozen=True)
class Field:
    name: str
    # id reference string textarea email phone picklist boolean date datetime int double
    # base64 junctionidlist
    type: str
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted: bool = False  # defaultedOnCreate: the server fills it when absent
    reference_to: tuple[str, ...] = ()
    relationship: str | None = None  # "Owner" for OwnerId
    queryable: bool = True  # junction id lists (ToIds) are write-only

    @property
    def required(self) -> bool:
        return (
            not self.nillable
            and self.createable
            and not self.defaulted
            and self.type not in ("boolean", "id")
        )


@dataclass
class SObject:
    name: str
    prefix: str
    label: str
    fields: dict[str, Field] = field(default_factory=dict)
    createable: bool = True
    updateable: bool = True
    deletable: bool = True

    def lookup(self, name: str) -> Field | None:
        """Field names are case-insensitive in SOQL and in REST bodies."""
        return self._lower().get(name.lower())

    def _lower(self) -> dict[str, Field]:
        cache = self.__dict__.get("_lower_cache")
        if cache is None:
            cache = {k.lower(): f for k, f in self.fields.items()}
            self.__dict__["_lower_cache"] = cache
        return cache

    def relationship(self, name: str) -> Field | None:
        for f in self.fields.values():
            if f.relationship and f.relationship.lower() == name.lower():
                return f
        return None


def _s(name: str, length: int = 255, **kw: object) -> Field:
    return Field(name, "string", length, **kw)  # type: ignore[arg-type]


def _ro(name: str, type_: str, **kw: object) -> Field:
    return Field(name, type_, createable=False, updateable=False, **kw)  # type: ignore[arg-type]


def _ref(name: str, targets: tuple[str, ...], rel: str | None, **kw: object) -> Field:
    return Field(name, "reference", 18, reference_to=targets, relationship=rel, **kw)  # type: ignore[arg-type]


def _audit() -> list[Field]:
    return [
        Field("Id", "id", 18, nillable=False, createable=False, updateable=False),
        _ro("IsDeleted", "boolean", nillable=False, defaulted=True),
        _ro("CreatedDate", "datetime", nillable=False, defaulted=True),
        _ref(
            "CreatedById",
            ("User",),
            "CreatedBy",
            createable=False,
            updateable=False,
            nillable=False,
            defaulted=True,
        ),
        _ro("LastModifiedDate", "datetime", nillable=False, defaulted=True),
        _ref(
            "LastModifiedById",
            ("User",),
            "LastModifiedBy",
            createable=False,
            updateable=False,
            nillable=False,
            defaulted=True,
        ),
        _ro("SystemModstamp", "datetime", nillable=False, defaulted=True),
    ]


def _owner() -> Field:
    return _ref("OwnerId", ("User",), "Owner", nillable=False, defaulted=True)


def _address(prefix: str) -> list[Field]:
    return [
        Field(f"{prefix}Street", "textarea", 255),
        _s(f"{prefix}City", 40),
        _s(f"{prefix}State", 80),
        _s(f"{prefix}PostalCode", 20),
        _s(f"{prefix}Country", 80),
    ]


def _obj(name: str, prefix: str, label: str, fields: list[Field], **kw: bool) -> SObject:
    return SObject(name, prefix, label, {f.name: f for f in _audit() + fields}, **kw)


def _relation(parent: str, *, invitees: bool) -> SObject:
    """EventRelation / TaskRelation: one row per person or record related to an activity."""
    key = f"{parent}Id"
    targets = ("User", "Contact", "Lead", *WHAT_TYPES) if invitees else (*WHO_TYPES, *WHAT_TYPES)
    fields = [
        _ref(key, (parent,), parent, nillable=False, updateable=False),
        _ref("RelationId", targets, "Relation", nillable=False, updateable=False),
        Field("IsWhat", "boolean", defaulted=True, updateable=False),
        _ref("AccountId", ("Account",), "Account", createable=False, updateable=False),
    ]
    if invitees:
        fields += [
            Field("IsInvitee", "boolean", defaulted=True),
            Field("IsParent", "boolean", defaulted=True),
            Field("Status", "picklist", 255, defaulted=True),
            _s("Response", 255),
            Field("RespondedDate", "datetime"),
        ]
    prefix, label = ("0RE", "Event Relation") if invitees else ("0RT", "Task Relation")
    # TaskRelation supports create/delete/query/retrieve, but no update (Object Reference).
    return _obj(f"{parent}Relation", prefix, label, fields, updateable=invitees)


def _who_relation(parent: str) -> SObject:
    """EventWhoRelation / TaskWhoRelation: read-only, derived (IsParent and not IsWhat)."""
    return _obj(
        f"{parent}WhoRelation",
        "0RW" if parent == "Event" else "0RX",
        f"{parent} Who Relation",
        [
            _ro(f"{parent}Id", "reference", reference_to=(parent,), relationship=parent),
            _ro("RelationId", "reference", reference_to=WHO_TYPES, relationship="Relation"),
            _ro("Type", "string", length=50),
            _ro("AccountId", "reference", reference_to=("Account",), relationship="Account"),
        ],
        createable=False,
        updateable=False,
        deletable=False,
    )


def build_schema() -> dict[str, SObject]:
    who = WHO_TYPES
    objects = [
        _obj(
            "User",
            "005",
            "User",
            [
                _s("Username", 80, nillable=False),
                _s("FirstName", 40),
                _s("LastName", 80, nillable=False),
                _ro("Name", "string", length=121),
                Field("Email", "email", 128, nillable=False),
                _s("Alias", 8, defaulted=True),
                Field("IsActive", "boolean", defaulted=True),
                _s("TimeZoneSidKey", 40, defaulted=True),
                _s("Title", 80),
                _s("Department", 80),
            ],
            deletable=False,
        ),
        _obj(
            "Account",
            "001",
            "Account",
            [
                _owner(),
                _s("Name", 255, nillable=False),
                Field("Phone", "phone", 40),
                _s("Website", 255),
                _s("Industry", 255),
                *_address("Billing"),
                Field("Description", "textarea", 32000),
            ],
        ),
        _obj(
            "Contact",
            "003",
            "Contact",
            [
                _owner(),
                _s("FirstName", 40),
                _s("LastName", 80, nillable=False),
                _ro("Name", "string", length=121),
                _s("Salutation", 40),
                Field("Email", "email", 80),
                Field("Phone", "phone", 40),
                Field("MobilePhone", "phone", 40),
                _s("Title", 128),
                _s("Department", 80),
                _ref("AccountId", ("Account",), "Account"),
                *_address("Mailing"),
                Field("Description", "textarea", 32000),
                Field("Birthdate", "date"),
                Field("Level__c", "picklist", 255),
                _ref(
                    "MasterRecordId",
                    ("Contact",),
                    "MasterRecord",
                    createable=False,
                    updateable=False,
                ),
            ],
        ),
        _obj(
            "Lead",
            "00Q",
            "Lead",
            [
                _owner(),
                _s("FirstName", 40),
                _s("LastName", 80, nillable=False),
                _ro("Name", "string", length=121),
                _s("Company", 255, nillable=False),
                Field("Email", "email", 80),
                Field("Phone", "phone", 40),
                _s("Title", 128),
                Field("Status", "picklist", 255, nillable=False, defaulted=True),
                _s("LeadSource", 255),
                *_address(""),
                Field("IsConverted", "boolean", defaulted=True),
                Field("Description", "textarea", 32000),
            ],
        ),
        _obj(
            "Task",
            "00T",
            "Task",
            [
                _owner(),
                _ref("WhoId", who, "Who"),
                _ref("WhatId", WHAT_TYPES, "What"),
                _s("Subject", 255),
                Field("Description", "textarea", 32000),
                Field("ActivityDate", "date"),
                Field("Status", "picklist", 255, nillable=False, defaulted=True),
                Field("Priority", "picklist", 255, nillable=False, defaulted=True),
                _ro("IsClosed", "boolean", nillable=False, defaulted=True),
                Field("TaskSubtype", "picklist", 255, updateable=False, defaulted=True),
                Field("ReminderDateTime", "datetime"),
                Field("IsReminderSet", "boolean", defaulted=True),
                _ro("CompletedDateTime", "datetime"),
                _ro("IsArchived", "boolean", defaulted=True),
                _ro("IsRecurrence", "boolean", defaulted=True),
                _ref("AccountId", ("Account",), "Account", createable=False, updateable=False),
            ],
        ),
        _obj(
            "Event",
            "00U",
            "Event",
            [
                _owner(),
                _ref("WhoId", who, "Who"),
                _ref("WhatId", WHAT_TYPES, "What"),
                _s("Subject", 255),
                Field("Description", "textarea", 32000),
                _s("Location", 255),
                Field("StartDateTime", "datetime"),
                Field("EndDateTime", "datetime"),
                Field("ActivityDateTime", "datetime"),
                Field("ActivityDate", "date"),
                Field("DurationInMinutes", "int"),
                Field("IsAllDayEvent", "boolean", defaulted=True),
                Field("ShowAs", "picklist", 255, defaulted=True),
                Field("IsPrivate", "boolean", defaulted=True),
                _ro("IsGroupEvent", "boolean", defaulted=True),
                _ro("IsChild", "boolean", defaulted=True),
                Field("IsReminderSet", "boolean", defaulted=True),
                _ro("IsArchived", "boolean", defaulted=True),
                Field("EventSubtype", "picklist", 255, updateable=False, defaulted=True),
                _ro("IsRecurrence", "boolean", defaulted=True),
                _ref("AccountId", ("Account",), "Account", createable=False, updateable=False),
            ],
        ),
        _obj(
            "Opportunity",
            "006",
            "Opportunity",
            [
                _owner(),
                _s("Name", 120, nillable=False),
                _ref("AccountId", ("Account",), "Account"),
                Field("StageName", "picklist", 255, nillable=False),
                Field("CloseDate", "date", nillable=False),
                Field("Amount", "double"),
                Field("Description", "textarea", 32000),
            ],
        ),
        _relation("Event", invitees=True),
        _who_relation("Event"),
        _relation("Task", invitees=False),
        _who_relation("Task"),
        _obj(
            "EmailMessage",
            "02s",
            "Email Message",
            [
                _s("Subject", 3000),
                Field("TextBody", "textarea", 131072),
                Field("HtmlBody", "textarea", 131072),
                Field("FromAddress", "email", 1000),
                _s("FromName", 1000),
                _s("ToAddress", 4000),
                _s("CcAddress", 4000),
                _s("BccAddress", 4000),
                Field("MessageDate", "datetime"),
                Field("Incoming", "boolean", defaulted=True),
                Field("Status", "picklist", 40, nillable=False, defaulted=True),
                _ref("RelatedToId", ("Account", "Contact", "Lead"), "RelatedTo"),
                _ref("ActivityId", ("Task",), "Activity", createable=False, updateable=False),
                _s("MessageIdentifier", 255),
                _s("ThreadIdentifier", 255),
                Field("ToIds", "junctionidlist", queryable=False),
                Field("CcIds", "junctionidlist", queryable=False),
                Field("BccIds", "junctionidlist", queryable=False),
            ],
        ),
        _obj(
            "EmailMessageRelation",
            "0EM",
            "Email Message Relation",
            [
                _ref(
                    "EmailMessageId",
                    ("EmailMessage",),
                    "EmailMessage",
                    nillable=False,
                    updateable=False,
                ),
                _ref("RelationId", ("User", "Contact", "Lead"), "Relation"),
                Field("RelationAddress", "email", 1000),
                Field("RelationType", "picklist", 40, nillable=False),
                _ro("RelationObjectType", "string", length=40),
            ],
            updateable=False,
        ),
        _obj(
            "ContentVersion",
            "068",
            "Content Version",
            [
                _owner(),
                _s("Title", 255, defaulted=True),
                _s("PathOnClient", 500, nillable=False),
                Field("VersionData", "base64", nillable=False, updateable=False),
                _ro(
                    "ContentDocumentId",
                    "reference",
                    reference_to=("ContentDocument",),
                    relationship="ContentDocument",
                ),
                _ro("ContentSize", "int"),
                _ro("FileExtension", "string", length=40),
                _ro("IsLatest", "boolean", defaulted=True),
                Field("Description", "textarea", 1000),
                _ref(
                    "FirstPublishLocationId",
                    ("Account", "Contact", "Lead", "EmailMessage", "Task", "Event", "User"),
                    None,
                    updateable=False,
                ),
            ],
            deletable=False,
        ),
        _obj(
            "ContentDocument",
            "069",
            "Content Document",
            [
                _ref("OwnerId", ("User",), "Owner", createable=False),
                _s("Title", 255, createable=False),
                _ro("FileExtension", "string", length=40),
                _ro("ContentSize", "int"),
                _ro(
                    "LatestPublishedVersionId",
                    "reference",
                    reference_to=("ContentVersion",),
                    relationship="LatestPublishedVersion",
                ),
            ],
            createable=False,
        ),
        _obj(
            "ContentDocumentLink",
            "06A",
            "Content Document Link",
            [
                _ref(
                    "ContentDocumentId",
                    ("ContentDocument",),
                    "ContentDocument",
                    nillable=False,
                    updateable=False,
                ),
                _ref(
                    "LinkedEntityId",
                    ("Account", "Contact", "Lead", "EmailMessage", "Task", "Event", "User"),
                    "LinkedEntity",
                    nillable=False,
                    updateable=False,
                ),
                Field("ShareType", "picklist", 40, defaulted=True),
                Field("Visibility", "picklist", 40, defaulted=True),
            ],
        ),
    ]
    return {o.name: o for o in objects}


PREFIX_TO_TYPE = {o.prefix: o.name for o in build_schema().values()}
ORG_PREFIX = "00D"
LIST_VIEW_PREFIX = "00B"
QUERY_LOCATOR_PREFIX = "01g"

TASK_CLOSED_STATUSES = frozenset({"Completed"})
# Objects that exist only in an org with Shared Activities enabled (Object Reference).
SHARED_ACTIVITIES_ONLY = frozenset({"TaskRelation", "EventWhoRelation", "TaskWhoRelation"})
