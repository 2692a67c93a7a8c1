"""Email logging's Salesforce calls (SPEC §6): who matches, what is logged, log it.

Same `call` as SalesforceAdapter (whose plumbing it reuses: counting, error mapping,
query draining). The decisions are `emails.logging_plan`'s; this file only does I/O.

Keys. A logged message carries its Message-ID, `<…>` form:
- EmailMessage: `MessageIdentifier` (filterable); `already_logged` looks it up org-wide,
  as the user can see it, with queryAll (deleting the logged email in Salesforce does not
  make Relay log it again; a message a colleague already logged is not logged twice).
- Task form: a last line `Message-ID: <…>` in Description. Description is a long text
  area, which real SOQL cannot filter (no LIKE), so the lookup reads the user's own
  Email-subtype Tasks on the messages' ActivityDates (`OwnerId = me AND TaskSubtype =
  'Email' AND ActivityDate IN (…)`) and parses the last such line. Both forms are checked
  whatever the org setting, so switching Enhanced Email on later does not relog.
- Within one adapter instance (one session) the answers are remembered: `log` re-checks
  only Message-IDs this instance has not checked yet, so plan-then-log costs one lookup.

Calls (n emails, a attachments, s sender links, m addresses, k Message-IDs):
- enhanced_email_enabled: 1 describe, once per instance;
- find_people: ⌈m/100⌉ composite calls (Contact + Lead query in each);
- already_logged: ⌈k/50⌉ composite calls (EmailMessage + Task query);
- log: [already_logged for unchecked ids] + ⌈leads/200⌉ + ⌈n/200⌉ collection creates
  + ⌈(a + s)/200⌉ (more if files exceed ~30 MB per request) collection creates.
  E.g. 10 emails with 3 attachments, planned then logged: 1 + 1 + 1 + 1 + 1 = 5 calls.

Not atomic: a crash after an email is created and before its files are saves the email
without those files, and the rerun treats it as logged.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceResourceNotFound

from syncengine.emails.logging_plan import (
    Action,
    CreateLead,
    LogEmail,
    Match,
    address_key,
    message_key,
)
from syncengine.emails.records import EmailRecord

from .adapter import Call, SalesforceAdapter, chunks, soql
from .types import WriteResult, check_id, error_for

BODY_LIMIT = 131072  # EmailMessage TextBody / HtmlBody
TASK_DESCRIPTION_LIMIT = 32000
ADDRESS_LIST_LIMIT = 4000  # ToAddress / CcAddress / BccAddress
TASK_HEADER_LIMIT = 4000  # From/To/Cc lines at the top of a Task description
ATTACHMENT_LIMIT = 25 * 1024 * 1024  # bytes; larger files are left out with a note
REQUEST_B64_LIMIT = 30 * 1024 * 1024  # base64 bytes per collection request (SF: 37.5 MB)
ADDRESSES_PER_QUERY = 100
IDS_PER_QUERY = 50  # each id is queried in two forms, <x> and x
CHUNK = 200
MAX_QUERIES = 5  # query subrequests per composite call
MARKER = "Message-ID: "
_MARKER_LINE = re.compile(r"^Message-ID: (<[^>\r\n]+>)\s*$", re.MULTILINE)
_TAGS = re.compile(r"<[^>]+>")


def soql_string(value: str) -> str:
    """A quoted SOQL string literal."""
    escaped = (
        value.replace("\\", "\\\\")
        .replace("'", "\\'")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f"'{escaped}'"


def identifier(message_id: str) -> str:
    """The Message-ID as stored in Salesforce: `<key>`, at most 255 characters."""
    return f"<{message_key(message_id)}>"[:255]


@dataclass
class LogResult:
    """What became of one LogEmail or CreateLead."""

    key: str  # Message-ID key, or the address key for a lead
    kind: str  # "email_message" | "task" | "lead"
    ok: bool
    id: str | None = None
    skipped: bool = False  # already logged: nothing created
    error: str | None = None
    notes: list[str] = field(default_factory=list)  # truncations, files left out or failed
    files: list[str] = field(default_factory=list)  # ContentVersion ids


class SalesforceEmailAdapter:
    def __init__(
        self,
        call: Call,
        user_id: str,
        api_version: str = "59.0",
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        attachment_limit: int = ATTACHMENT_LIMIT,
        body_limit: int = BODY_LIMIT,
        base: SalesforceAdapter | None = None,
        enhanced_email: bool | None = None,
    ) -> None:
        """`base`: a SalesforceAdapter to share (its connection and call counter, so a
        session counts these calls too). `enhanced_email`: the org setting when the caller
        already knows it (a cached describe), saving the describe call."""
        self._sf = base or SalesforceAdapter(call, user_id, api_version)
        self.user_id = check_id(user_id)
        self.clock = clock
        self.attachment_limit = attachment_limit
        self.body_limit = body_limit
        self._enhanced: bool | None = enhanced_email
        self._checked: set[str] = set()  # message keys looked up by this instance
        self._logged: set[str] = set()  # ... of which these are logged

    @property
    def api_calls(self) -> int:
        return self._sf.api_calls

    # -- plumbing ------------------------------------------------------------------------

    def _queries(self, queries: Sequence[tuple[str, str, bool]]) -> dict[str, list[dict[str, Any]]]:
        """(ref, soql, include_deleted) run five to a composite call; rows by ref."""
        base = f"/services/data/v{self._sf.api_version}"
        out: dict[str, list[dict[str, Any]]] = {}
        for group in chunks(list(queries), MAX_QUERIES):
            body = {
                "allOrNone": False,
                "compositeRequest": [
                    {
                        "method": "GET",
                        "url": f"{base}/{'queryAll' if deleted else 'query'}?{urlencode({'q': q})}",
                        "referenceId": ref,
                    }
                    for ref, q, deleted in group
                ],
            }
            answer = self._sf.rest("composite", method="POST", json=body)
            for sub in answer["compositeResponse"]:
                status = int(sub.get("httpStatusCode", 500))
                if status >= 300:
                    raise error_for(status, sub.get("body"))
                out[sub["referenceId"]] = self._sf.drain(sub["body"])
        return out

    def _post(self, records: list[dict[str, Any]]) -> list[WriteResult]:
        body = {"allOrNone": False, "records": records}
        answer = self._sf.rest("composite/sobjects", method="POST", json=body)
        return SalesforceAdapter.write_results(answer, len(records))

    # -- org setting ---------------------------------------------------------------------

    def enhanced_email_enabled(self) -> bool:
        """Whether the org logs EmailMessage records (Enhanced Email) rather than Tasks:
        EmailMessage is described, createable, with its createable RelatedToId. Cached."""
        if self._enhanced is None:

            def describe(sf: Salesforce) -> Any:
                try:
                    return sf.restful("sobjects/EmailMessage/describe")
                except SalesforceResourceNotFound:
                    return None

            described = self._sf.run(describe)
            fields = {f.get("name"): f for f in (described or {}).get("fields") or []}
            self._enhanced = bool(
                described
                and described.get("createable")
                and fields.get("RelatedToId", {}).get("createable")
            )
        return self._enhanced

    # -- people --------------------------------------------------------------------------

    def find_people(self, addresses: Iterable[str]) -> dict[str, list[Match]]:
        """Contacts and unconverted Leads by address key (lower-cased address)."""
        keys = sorted({address_key(a) for a in addresses if "@" in a})
        queries: list[tuple[str, str, bool]] = []
        for n, chunk in enumerate(chunks(keys, ADDRESSES_PER_QUERY)):
            values = ", ".join(soql_string(k) for k in chunk)
            queries.append(
                (
                    f"Contact{n}",
                    soql(["Id", "Email", "AccountId"], "Contact", [f"Email IN ({values})"]),
                    False,
                )
            )
            queries.append(
                (
                    f"Lead{n}",
                    soql(
                        ["Id", "Email"],
                        "Lead",
                        [f"Email IN ({values})", "IsConverted = false"],
                    ),
                    False,
                )
            )
        out: dict[str, list[Match]] = {}
        for ref, rows in self._queries(queries).items():
            kind = "Contact" if ref.startswith("Contact") else "Lead"
            for row in rows:
                if row.get("Email"):
                    match = Match(row["Id"], kind, row.get("AccountId"))  # type: ignore[arg-type]
                    out.setdefault(address_key(row["Email"]), []).append(match)
        return out

    # -- what is logged ------------------------------------------------------------------

    def already_logged(self, emails: Iterable[EmailRecord | str]) -> set[str]:
        """The message keys (see logging_plan.message_key) already in Salesforce.

        Bare Message-IDs are checked against EmailMessage only; EmailRecords also against
        the user's Email Tasks on the message's date (the Task form's key)."""
        emails = list(emails)
        records = [e for e in emails if isinstance(e, EmailRecord)]
        keys = {message_key(e.message_id if isinstance(e, EmailRecord) else e) for e in emails}
        keys.discard("")
        dates: set[date] = set()
        today = self.clock().astimezone(UTC).date()
        for r in records:
            if r.sent_at is not None:
                dates.add(_activity_date(r.sent_at))
            else:
                dates.update({today, today - timedelta(days=1)})
        queries: list[tuple[str, str, bool]] = []
        if self.enhanced_email_enabled():
            for n, chunk in enumerate(chunks(sorted(keys), IDS_PER_QUERY)):
                forms = sorted({identifier(k) for k in chunk} | set(chunk))
                values = ", ".join(soql_string(v) for v in forms)
                where = [f"MessageIdentifier IN ({values})"]
                queries.append(
                    (f"EmailMessage{n}", soql(["MessageIdentifier"], "EmailMessage", where), True)
                )
        if dates and records:
            day_list = ", ".join(d.isoformat() for d in sorted(dates))
            where = [
                f"OwnerId = '{self.user_id}'",
                "TaskSubtype = 'Email'",
                f"ActivityDate IN ({day_list})",
            ]
            queries.append(("Task", soql(["Id", "Description"], "Task", where), True))
        found: set[str] = set()
        for ref, rows in self._queries(queries).items():
            for row in rows:
                if ref == "Task":
                    marks = _MARKER_LINE.findall(row.get("Description") or "")
                    if marks:
                        found.add(message_key(marks[-1]))
                elif row.get("MessageIdentifier"):
                    found.add(message_key(row["MessageIdentifier"]))
        found &= keys
        self._checked |= keys
        self._logged |= found
        return found

    # -- logging -------------------------------------------------------------------------

    def log(self, actions: Iterable[Action]) -> list[LogResult]:
        """Carry out the plan's CreateLead and LogEmail actions (others are ignored).

        Per-record failures are results; only call-level failures (auth, limits,
        network) raise, leaving what was written so far for the next run to skip."""
        actions = list(actions)
        leads = [a for a in actions if isinstance(a, CreateLead)]
        logs = [a for a in actions if isinstance(a, LogEmail)]
        results: list[LogResult] = []

        unchecked = [a.record for a in logs if a.key not in self._checked]
        if unchecked:
            self.already_logged(unchecked)

        lead_ids: dict[str, LogResult] = {}
        if leads:
            records = [_lead_record(a) for a in leads]
            for chunk_leads, chunk in zip(
                chunks(leads, CHUNK), chunks(records, CHUNK), strict=True
            ):
                for lead, res in zip(chunk_leads, self._post(list(chunk)), strict=True):
                    result = LogResult(lead.key, "lead", res.ok, res.id, error=_error(res))
                    lead_ids[lead.key] = result
                    results.append(result)

        todo: list[tuple[LogEmail, LogResult, dict[str, Any]]] = []
        planned: set[str] = set()
        for action in logs:
            result = LogResult(action.key, action.form, False)
            results.append(result)
            if action.key in self._logged or action.key in planned:
                result.ok, result.skipped = True, True
                continue
            planned.add(action.key)
            if action.new_lead is not None:
                made = lead_ids.get(action.new_lead)
                if made is None or not made.ok:
                    result.error = f"the Lead for {action.new_lead} was not created" + (
                        f": {made.error}" if made and made.error else ""
                    )
                    continue
                action = _with_lead(action, made.id or "")
            body = (
                self._email_message(action, result.notes)
                if action.form == "email_message"
                else self._task(action, result.notes)
            )
            todo.append((action, result, body))

        created: list[tuple[LogEmail, LogResult]] = []
        for batch in chunks(todo, CHUNK):
            answers = self._post([body for _, _, body in batch])
            for (action, result, _), res in zip(batch, answers, strict=True):
                result.ok, result.id, result.error = res.ok, res.id, _error(res)
                if res.ok:
                    self._logged.add(action.key)
                    created.append((action, result))
        self._attach(created)
        return results

    def _attach(self, created: Sequence[tuple[LogEmail, LogResult]]) -> None:
        """Sender relations (EmailMessage form) and files, packed into collection calls."""
        pending: list[tuple[LogResult, str, dict[str, Any], int]] = []  # result, what, body, size
        for action, result in created:
            parent = result.id or ""
            if action.form == "email_message":
                for link in action.links:
                    if link.role == "from":
                        relation = {
                            "attributes": {"type": "EmailMessageRelation"},
                            "EmailMessageId": parent,
                            "RelationId": link.id,
                            "RelationType": "FromAddress",
                            "RelationAddress": link.address,
                        }
                        pending.append((result, "", relation, 0))
            for att in action.record.attachments:
                name = att.name or "attachment"
                if att.inline:
                    continue
                if att.size > self.attachment_limit or (
                    att.content is not None and len(att.content) > self.attachment_limit
                ):
                    result.notes.append(
                        f"attachment {name!r} left out: {att.size} bytes is over the "
                        f"{self.attachment_limit} byte limit"
                    )
                    continue
                if att.content is None:
                    result.notes.append(
                        f"attachment {name!r} left out: its content was not fetched"
                    )
                    continue
                data = base64.b64encode(att.content).decode("ascii")
                version = {
                    "attributes": {"type": "ContentVersion"},
                    "Title": name[:255],
                    "PathOnClient": name[:500],
                    "VersionData": data,
                    "FirstPublishLocationId": parent,
                }
                pending.append((result, name, version, len(data)))
        batch: list[tuple[LogResult, str, dict[str, Any], int]] = []
        size = 0
        for item in pending:
            if batch and (len(batch) >= CHUNK or size + item[3] > REQUEST_B64_LIMIT):
                self._send_attachments(batch)
                batch, size = [], 0
            batch.append(item)
            size += item[3]
        if batch:
            self._send_attachments(batch)

    def _send_attachments(self, batch: list[tuple[LogResult, str, dict[str, Any], int]]) -> None:
        answers = self._post([body for _, _, body, _ in batch])
        for (result, name, _, _), res in zip(batch, answers, strict=True):
            if res.ok and name:
                result.files.append(res.id or "")
            elif not res.ok:
                what = f"attachment {name!r}" if name else "the sender's link"
                result.notes.append(f"{what} failed: {_error(res)}")

    # -- record bodies -------------------------------------------------------------------

    def _email_message(self, action: LogEmail, notes: list[str]) -> dict[str, Any]:
        r = action.record
        body: dict[str, Any] = {
            "attributes": {"type": "EmailMessage"},
            "Subject": (r.subject or "")[:3000],
            "TextBody": _fit(r.text_body, self.body_limit, "TextBody", notes),
            "HtmlBody": _fit(r.html_body, self.body_limit, "HtmlBody", notes),
            "Incoming": r.incoming,
            "Status": "3",
            "MessageIdentifier": identifier(r.message_id),
        }
        if r.sender is not None:
            body["FromAddress"] = r.sender.address[:1000]
            if r.sender.name:
                body["FromName"] = r.sender.name[:1000]
        for field_name, people in (("ToAddress", r.to), ("CcAddress", r.cc), ("BccAddress", r.bcc)):
            if people:
                body[field_name] = _address_list(people, field_name, notes)
        if r.sent_at is not None:
            body["MessageDate"] = _iso(r.sent_at)
        for field_name, role in (("ToIds", "to"), ("CcIds", "cc"), ("BccIds", "bcc")):
            ids = action.ids(role)  # type: ignore[arg-type]
            if ids:
                body[field_name] = ids
        if action.what_id:
            body["RelatedToId"] = action.what_id
        return {k: v for k, v in body.items() if v not in ("", None)}

    def _task(self, action: LogEmail, notes: list[str]) -> dict[str, Any]:
        r = action.record
        marker = f"\n\n{MARKER}{identifier(r.message_id)}"
        text = r.text_body or html.unescape(_TAGS.sub("", r.html_body))
        header = _task_header(r)
        room = TASK_DESCRIPTION_LIMIT - len(marker) - len(header)
        description = header + _fit(text, room, "Description", notes) + marker
        body: dict[str, Any] = {
            "attributes": {"type": "Task"},
            "Subject": f"Email: {r.subject or ''}"[:255],
            "TaskSubtype": "Email",
            "Status": "Completed",
            "ActivityDate": action.activity_date.isoformat(),
            "Description": description,
        }
        if action.who_ids:
            body["WhoId"] = action.who_ids[0]
        if action.what_id:
            body["WhatId"] = action.what_id
        return body


def _activity_date(when: datetime) -> date:
    return (when.astimezone(UTC) if when.tzinfo else when).date()


def _iso(when: datetime) -> str:
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _fit(text: str, limit: int, name: str, notes: list[str]) -> str:
    if len(text) <= limit:
        return text
    note = f"\n[Truncated by Relay: {name} had {len(text)} characters, the limit is {limit}.]"
    notes.append(f"{name} truncated from {len(text)} to {limit} characters")
    return text[: max(0, limit - len(note))] + note


def _address_list(people: Sequence[Any], name: str, notes: list[str]) -> str:
    out: list[str] = []
    for p in people:
        candidate = "; ".join([*out, p.address])
        if len(candidate) > ADDRESS_LIST_LIMIT:
            notes.append(f"{name} cut to {len(out)} of {len(people)} addresses")
            break
        out.append(p.address)
    return "; ".join(out)


def _task_header(r: EmailRecord) -> str:
    lines = []
    if r.sender is not None:
        lines.append(f"From: {r.sender.address}")
    for label, people in (("To", r.to), ("Cc", r.cc), ("Bcc", r.bcc)):
        if people:
            lines.append(f"{label}: " + ", ".join(p.address for p in people))
    header = "\n".join(lines)
    if len(header) > TASK_HEADER_LIMIT:
        header = header[:TASK_HEADER_LIMIT] + " …"
    return (header + "\n\n") if lines else ""


def _lead_record(a: CreateLead) -> dict[str, Any]:
    return {
        "attributes": {"type": "Lead"},
        "LastName": a.last_name[:80],
        "FirstName": a.first_name[:40] or None,
        "Company": a.company[:255],
        "Email": a.address[:80],
        "LeadSource": "Email",
    }


def _with_lead(action: LogEmail, lead_id: str) -> LogEmail:
    links = tuple(replace(x, id=lead_id) if not x.id else x for x in action.links)
    return replace(action, links=links)


def _error(res: WriteResult) -> str | None:
    return None if res.ok else f"{res.error_code}: {res.message}"
