"""End-to-end sessions: the three emulators over TLS (one stack per module, reset per
test), a Relay user connected to both, and helpers to act as the user on either side."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from lxml import etree as lxml_etree

from accounts.models import Connection, ExchangeServerConfig
from accounts.providers.exchange import open_mailbox
from sandbox.demo_users import SandboxAccount, connect_relay_user
from sandbox.ews import builders as ews_builders
from sandbox.ews.soap import t as ews_tag
from sandbox.stack import build_stack
from syncengine import mailboxes
from syncengine.faults import AFTER_WRITE, injected
from syncengine.mappers.exchange import register_marker
from syncengine.models import MailboxContainer, SyncLink, SyncSession, WriteIntent
from syncengine.session import run_session
from syncsettings.models import SyncSettings

EMAIL = "ann@acme.example"
# Every registered mailbox kind runs the whole engine suite (this file's `world` fixture
# and test_model.py). A new kind registers in syncengine.mailboxes and adds its emulator
# here and its user-side helpers to World; until then its runs fail, never skip.
KINDS = [kind.name for kind in mailboxes.registered()]
SANDBOX_APP = {"office365": "graph_app", "gmail": "google_app", "exchange": "ews_app"}
EWS_SERVICE = ("svc-relay", "Sandbox-only-1")  # the emulator's throw-away service account
NOW = dt.datetime(2024, 5, 15, 12, 0, tzinfo=dt.UTC)


@dataclass
class Clock:
    now: dt.datetime = NOW

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


def sf_stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@dataclass
class World:
    kind: str
    stack: Any
    clock: Clock
    user: Any = None
    me: str = ""
    other: str = ""
    sessions: list[SyncSession] = field(default_factory=list)
    _ews: Any = None

    @property
    def sfapp(self) -> Any:
        return self.stack.salesforce_app

    @property
    def mbapp(self) -> Any:
        return getattr(self.stack, SANDBOX_APP[self.kind])

    # -- sessions -----------------------------------------------------------------------------

    def sync(self, **kwargs: Any) -> SyncSession:
        self.clock.advance(minutes=1)
        sf_before, mb_before = self.sfapp.call_count(), self.mbapp.call_count()
        session = run_session(self.user, SyncSession.Trigger.MANUAL, now=self.clock(), **kwargs)
        session.sf_calls_seen = self.sfapp.call_count() - sf_before
        session.mb_calls_seen = self.mbapp.call_count() - mb_before
        self.sessions.append(session)
        self.clock.advance(minutes=1)
        return session

    def settings(self, **values: Any) -> None:
        s = SyncSettings.for_user(self.user)
        for key, value in values.items():
            setattr(s, key, value)
        s.save()

    def container(self, role: str) -> str:
        return MailboxContainer.objects.get(user=self.user, role=role).external_id

    # -- Salesforce, as a person --------------------------------------------------------------

    def sf_contact(self, last: str, email: str, owner: str | None = None, **more: Any) -> str:
        fields = {"LastName": last, "Email": email, **more}
        return self.sfapp.create("Contact", fields, owner or self.me)

    def sf_task(self, subject: str, due: dt.date | None = None, **more: Any) -> str:
        fields = {"Subject": subject, "Status": "Not Started", "Priority": "Normal", **more}
        if due:
            fields["ActivityDate"] = due.isoformat()
        return self.sfapp.create("Task", fields, more.pop("owner", None) or self.me)

    def sf_event(self, subject: str, start: dt.datetime, hours: float = 1, **more: Any) -> str:
        fields = {
            "Subject": subject,
            "StartDateTime": sf_stamp(start),
            "EndDateTime": sf_stamp(start + dt.timedelta(hours=hours)),
            **more,
        }
        return self.sfapp.create("Event", fields, self.me)

    def settled_contact(self) -> str:
        """One Salesforce contact, synced down and its echo read back: from here a session
        is idle. Its Salesforce id."""
        sf_id = self.sf_contact("Lovelace", "ada@example.com")
        for _ in range(2):  # the initial session, then the one that reads back its echo
            session = self.sync()
            assert session.status == SyncSession.Status.SUCCEEDED, session.error
        return sf_id

    def sync_revoking_the_token_mid_write(self) -> SyncSession:
        """A session during which the mailbox's service revokes the access token (its
        expiry still says it is good) as the first window of contact creates is answered,
        the next window in flight: it must succeed, refreshing once from whichever thread
        met the 401 and storing the token over the session's connection."""
        old_token = Connection.objects.mailbox_for(self.user).access_token
        expired: list[int] = []

        def revoke_after_first_window(at: str, kind: str, write: str, index: int) -> None:
            if at == AFTER_WRITE and kind == "contact" and index == 0 and not expired:
                expired.append(self.mbapp.expire_tokens(EMAIL))

        self.mbapp.clear_calls()
        with injected(revoke_after_first_window):
            session = self.sync()
        assert session.status == SyncSession.Status.SUCCEEDED, (session.status, session.error)
        assert expired == [1]
        mailbox = Connection.objects.mailbox_for(self.user)
        assert mailbox.access_token != old_token and mailbox.is_active
        paths = [c.path for c in self.mbapp.calls]
        assert len([p for p in paths if "/token" in p.split("?")[0]]) == 1, paths
        return session

    def assert_book_once(self, n: int) -> None:
        """The Salesforce book of `n` contacts is in the mailbox exactly once: n copies of n
        addresses, n links to n distinct items, no write whose outcome is still unknown."""
        contacts = self.contacts()
        assert len(contacts) == n and len({c["email"] for c in contacts}) == n
        links = SyncLink.objects.filter(user=self.user, item_type="contact")
        assert links.count() == n and len(set(links.values_list("mailbox_id", flat=True))) == n
        assert not WriteIntent.objects.filter(user=self.user).exists()

    def sf_live(self, sobject: str) -> list[dict[str, Any]]:
        return self.sfapp.query(f"SELECT Id, OwnerId FROM {sobject}", self.me)

    # -- the mailbox, as the user ---------------------------------------------------------------

    def contacts(self) -> list[dict[str, Any]]:
        """Contacts in the Salesforce folder / group: {"id", "email", "name", "raw"}."""
        if self.kind == "exchange":
            return [
                {
                    "id": c.id,
                    "email": (c.email_addresses or [None])[0].email if c.email_addresses else None,
                    "last": c.surname,
                    "raw": c,
                }
                for c in self.ews_items("contacts")
            ]
        if self.kind == "office365":
            items = self.mbapp.contacts_in(EMAIL, self.container("contacts"))
            return [
                {
                    "id": c["id"],
                    "email": (c.get("emailAddresses") or [{}])[0].get("address"),
                    "last": c.get("surname"),
                    "raw": c,
                }
                for c in items
            ]
        group = self.container("contacts")
        out = []
        for p in self.mbapp.contacts(EMAIL):
            members = {
                m.get("contactGroupMembership", {}).get("contactGroupResourceName")
                for m in p.get("memberships") or ()
            }
            if group in members:
                out.append(
                    {
                        "id": p["resourceName"],
                        "email": (p.get("emailAddresses") or [{}])[0].get("value"),
                        "last": (p.get("names") or [{}])[0].get("familyName"),
                        "raw": p,
                    }
                )
        return out

    def add_contact(self, last: str, email: str) -> str:
        if self.kind == "exchange":
            folder = self._ews_folder("contacts", "Salesforce Contacts", "contacts")
            item = self.mbapp.create_item(EMAIL, ews_builders.contact("", last, email), folder)
            return item.id
        if self.kind == "office365":
            folder = self.container("contacts") if self.user_has_containers() else None
            item = self.mbapp.create_contact(
                EMAIL,
                {"surname": last, "emailAddresses": [{"address": email, "name": last}]},
                folder or self._graph_folder(),
            )
            return item["id"]
        group = self.mbapp.group_resource(EMAIL, "Salesforce Contacts") or self.mbapp.create_group(
            EMAIL, "Salesforce Contacts"
        )
        person = {
            "names": [{"familyName": last}],
            "emailAddresses": [{"value": email}],
            "memberships": [{"contactGroupMembership": {"contactGroupResourceName": group}}],
        }
        return self.mbapp.create_contact(EMAIL, person)["resourceName"]

    def _graph_folder(self) -> str:
        folders = [
            f
            for f in self.mbapp.mailbox(EMAIL).contact_folders.values()
            if f["displayName"] == "Salesforce Contacts"
        ]
        if folders:
            return folders[0]["id"]
        return self.mbapp.create_contact_folder(EMAIL, "Salesforce Contacts")["id"]

    def user_has_containers(self) -> bool:
        return MailboxContainer.objects.filter(user=self.user, role="contacts").exists()

    def edit_contact(self, contact_id: str, last: str) -> None:
        if self.kind == "exchange":
            self.mbapp.touch_item(EMAIL, contact_id, Surname=last)
        elif self.kind == "office365":
            self.mbapp.update_contact(EMAIL, contact_id, {"surname": last})
        else:
            self.mbapp.update_contact(EMAIL, contact_id, {"names": [{"familyName": last}]})

    def delete_contact(self, contact_id: str) -> None:
        if self.kind == "exchange":
            self.mbapp.delete_item_as_user(EMAIL, contact_id)
        else:
            self.mbapp.delete_contact(EMAIL, contact_id)

    # -- tasks and events as the user makes them, any kind -------------------------------

    def add_task(self, title: str, due: dt.date) -> str:
        if self.kind == "exchange":
            folder = self._ews_folder("tasks", "Salesforce Tasks", "tasks")
            return str(self.mbapp.create_item(EMAIL, ews_builders.task(title, due), folder).id)
        if self.kind == "office365":
            midnight = dt.datetime.combine(due, dt.time(), tzinfo=dt.UTC)
            fields = {"title": title, "dueDateTime": _graph_when(midnight)}
        else:
            fields = {"title": title, "due": f"{due.isoformat()}T00:00:00.000Z"}
        return str(self.mbapp.create_task(EMAIL, self.container("tasks"), fields)["id"])

    def edit_task_due(self, task_id: str, due: dt.date) -> None:
        if self.kind == "exchange":
            self.mbapp.touch_item(EMAIL, task_id, DueDate=f"{due.isoformat()}T00:00:00Z")
            return
        change = (
            {"dueDateTime": _graph_when(dt.datetime.combine(due, dt.time()))}
            if self.kind == "office365"
            else {"due": f"{due.isoformat()}T00:00:00.000Z"}
        )
        self.mbapp.update_task(EMAIL, self.container("tasks"), task_id, change)

    def edit_contact_email(self, contact_id: str, address: str) -> None:
        if self.kind == "exchange":
            holder = ET.Element(ews_tag("EmailAddresses"))
            entry = ET.SubElement(holder, ews_tag("Entry"), {"Key": "EmailAddress1"})
            entry.text = address
            self.mbapp.touch_item(EMAIL, contact_id, EmailAddresses=holder)
        elif self.kind == "office365":
            change = {"emailAddresses": [{"address": address, "name": address}]}
            self.mbapp.update_contact(EMAIL, contact_id, change)
        else:
            self.mbapp.update_contact(EMAIL, contact_id, {"emailAddresses": [{"value": address}]})

    def add_event(self, subject: str, start: dt.datetime, end: dt.datetime) -> str:
        """A single event the user marks for Salesforce (no attendees)."""
        if self.kind == "exchange":
            element = ews_builders.event(subject, start, end, categories=["Salesforce"])
            return str(self.mbapp.create_item(EMAIL, element).id)
        if self.kind == "office365":
            body = {
                "subject": subject,
                "start": _graph_when(start),
                "end": _graph_when(end),
                "categories": ["Salesforce"],
            }
            return str(self.mbapp.create_event(EMAIL, body)["id"])
        body = {
            "summary": subject,
            "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%SZ")},
            "end": {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%SZ")},
            "extendedProperties": {"private": {"relaySalesforce": "1"}},
        }
        return str(self.mbapp.create_event(EMAIL, body)["id"])

    def edit_event(
        self,
        event_id: str,
        *,
        subject: str | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> None:
        if self.kind == "exchange":
            fields: dict[str, str] = {}
            if subject is not None:
                fields["Subject"] = subject
            for name, value in (("Start", start), ("End", end)):
                if value is not None:
                    fields[name] = value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            self.mbapp.touch_item(EMAIL, event_id, **fields)
            return
        graph = self.kind == "office365"
        change: dict[str, Any] = {}
        if subject is not None:
            change["subject" if graph else "summary"] = subject
        for name, value in (("start", start), ("end", end)):
            if value is not None:
                change[name] = (
                    _graph_when(value)
                    if graph
                    else {"dateTime": value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
                )
        self.mbapp.update_event(EMAIL, event_id, change)

    def connect_colleague(self, address: str, name: str, sf_user: str) -> Any:
        """A second Relay user of the same org (Salesforce user `sf_user`), on this kind."""
        sf = self.sfapp
        sf_access, sf_refresh = sf.issue_token(sf_user)
        mb_access = mb_refresh = ""
        if self.kind == "office365":
            self.stack.graph_app.add_mailbox(address, name)
            mb_access, mb_refresh = self.stack.graph_app.issue_token(address)
        elif self.kind == "gmail":
            self.stack.google_app.add_account(address, name)
            mb_access, mb_refresh = self.stack.google_app.issue_token(address)
        else:
            self.stack.ews_app.add_mailbox(address, name)
        account = SandboxAccount(
            address, self.kind, sf_user, sf_access, sf_refresh, mb_access, mb_refresh
        )
        urls = {
            "salesforce": self.stack.salesforce.base_url,
            "graph": self.stack.graph.base_url,
            "google": self.stack.google.base_url,
        }
        user = connect_relay_user(account, urls, sf.org_id)
        if self.kind == "exchange":
            point_at_exchange(user)
        return user

    # -- Exchange meetings, as the user in Outlook ------------------------------------------

    def ews_meeting(
        self,
        subject: str,
        start: dt.datetime,
        guests: list[str],
        *,
        uid: str | None = None,
        mailbox: str = EMAIL,
        organizer: str | None = None,
    ) -> str:
        """A meeting with attendees marked for Salesforce; with `organizer`, the copy an
        invitee holds (MyResponseType Accept)."""
        element = ews_builders.event(
            subject,
            start,
            start + dt.timedelta(hours=1),
            categories=["Salesforce"],
            attendees=[(g, "Unknown") for g in guests],
            uid=uid,
            organizer=organizer,
        )
        return str(self.mbapp.create_item(mailbox, element).id)

    def ews_set_attendees(self, event_id: str, guests: list[str]) -> None:
        """The organizer edits the guest list; replies already in are kept."""
        item = self.mbapp.item(EMAIL, event_id)
        known = {}
        for holder in item.fields.get("RequiredAttendees", ()):
            address = holder.findtext(f"{ews_tag('Mailbox')}/{ews_tag('EmailAddress')}")
            known[(address or "").lower()] = holder.findtext(ews_tag("ResponseType"))
        pairs = [(g, known.get(g.lower()) or "Unknown") for g in guests]
        self.mbapp.set_attendees_as_user(EMAIL, event_id, pairs)

    def ews_reply(self, event_id: str, guest: str, accepted: bool) -> None:
        self.mbapp.respond_as_attendee(EMAIL, event_id, guest, "Accept" if accepted else "Decline")

    # -- Exchange, as the user in Outlook (exchangelib through the service account) -------

    def ews_account(self) -> Any:
        if self._ews is None:
            config = ExchangeServerConfig.active()
            assert config is not None
            register_marker()
            self._ews = open_mailbox(config.server(), EMAIL)
        return self._ews

    def ews_items(self, role: str) -> list[Any]:
        """The items of a Salesforce folder as exchangelib objects, read from the emulator's
        store (no HTTP call: an injected ErrorServerBusy is the session's, not this read's)."""
        from exchangelib import CalendarItem, Contact, Task

        from sandbox.ews.render import Shape

        cls = {"contacts": Contact, "tasks": Task, "events": CalendarItem}[role]
        account = self.ews_account()
        with self.mbapp.lock:
            box = self.mbapp.mailbox(EMAIL)
            folder = box.folders[self.container(role)]
            rendered = [
                self.mbapp.render_any(box, item, Shape())
                for item in self.mbapp.items_in(EMAIL, folder)
            ]
        # exchangelib parses lxml elements, the emulator renders ElementTree ones
        return [
            cls.from_xml(elem=lxml_etree.fromstring(ET.tostring(elem)), account=account)
            for elem in rendered
        ]

    def _ews_folder(self, role: str, name: str, parent: str) -> str:
        if MailboxContainer.objects.filter(user=self.user, role=role).exists():
            return self.container(role)
        found = self.mbapp.find_folder(EMAIL, name)
        if found is not None:
            return found.id
        return self.mbapp.create_folder(EMAIL, name, "IPF.Contact", parent).id

    def tasks(self) -> list[dict[str, Any]]:
        if self.kind == "exchange":
            return [{"id": t.id, "title": t.subject, "raw": t} for t in self.ews_items("tasks")]
        if self.kind == "office365":
            box = self.mbapp.mailbox(EMAIL)
            lid = self.container("tasks")
            items = [
                self.mbapp._render_task(None, t) for t in box.tasks.values() if t["_list"] == lid
            ]
            return [{"id": t["id"], "title": t.get("title"), "raw": t} for t in items]
        items = self.mbapp.tasks_of(EMAIL, self.container("tasks"))
        return [
            {"id": t["id"], "title": t.get("title"), "raw": t}
            for t in items
            if not t.get("deleted")
        ]

    def edit_task(self, task_id: str, title: str) -> None:
        if self.kind == "exchange":
            self.mbapp.touch_item(EMAIL, task_id, Subject=title)
            return
        lid = self.container("tasks")
        self.mbapp.update_task(EMAIL, lid, task_id, {"title": title})

    def events(self) -> list[dict[str, Any]]:
        if self.kind == "exchange":
            from exchangelib import EWSDateTime, EWSTimeZone
            from exchangelib.folders import Calendar, Root

            utc = EWSTimeZone("UTC")
            lo, hi = self.clock() - dt.timedelta(days=360), self.clock() + dt.timedelta(days=360)
            cal = Calendar(root=Root(account=self.ews_account()), id=self.container("events"))
            rows = cal.view(
                start=EWSDateTime(*lo.utctimetuple()[:6], tzinfo=utc),
                end=EWSDateTime(*hi.utctimetuple()[:6], tzinfo=utc),
            )
            return [
                {"id": e.id, "subject": e.subject, "raw": e}
                for e in rows
                if "Salesforce" in (e.categories or [])
            ]
        if self.kind == "office365":
            lo, hi = self.clock() - dt.timedelta(days=400), self.clock() + dt.timedelta(days=400)
            items = self.mbapp.calendar_view(EMAIL, lo, hi)
            items = [e for e in items if "Salesforce" in (e.get("categories") or [])]
            return [{"id": e["id"], "subject": e.get("subject"), "raw": e} for e in items]
        items = self.mbapp.events(EMAIL)
        marked = [
            e
            for e in items
            if ((e.get("extendedProperties") or {}).get("private") or {}).get("relaySalesforce")
        ]
        return [{"id": e["id"], "subject": e.get("summary"), "raw": e} for e in marked]


def _graph_when(value: dt.datetime) -> dict[str, str]:
    return {"dateTime": value.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def point_at_exchange(user: Any) -> None:
    """The user's mailbox connection on the organisation's Exchange Server (made once)."""
    config = ExchangeServerConfig.active()
    assert config is not None
    Connection.objects.filter(user=user, side=Connection.Side.MAILBOX).update(
        instance_url=config.ews_url, extra={"exchange_server": config.pk}
    )


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    running = build_stack(ca_dir=tmp_path_factory.mktemp("engine-ca")).start()
    yield running
    running.stop()


@pytest.fixture(params=KINDS)
def world(request, sandbox, settings, db) -> World:
    return make_world(request.param, sandbox, settings)


@pytest.fixture
def world_of(sandbox, settings, db) -> Iterator[Callable[[str], World]]:
    """`world_of(kind)`: a world of that one kind; its mailbox emulator's latency model is
    switched off again afterwards."""
    made: list[World] = []

    def make(kind: str) -> World:
        made.append(make_world(kind, sandbox, settings))
        return made[-1]

    yield make
    for world in made:
        world.mbapp.set_latency()


def make_world(kind: str, sandbox: Any, settings: Any) -> World:
    if kind not in SANDBOX_APP:
        pytest.fail(f"Mailbox kind {kind!r} is registered but has no emulator in the suite")
    for name, value in sandbox.settings().items():
        setattr(settings, name, value)
    clock = Clock()
    for app in (sandbox.salesforce_app, sandbox.graph_app, sandbox.google_app, sandbox.ews_app):
        app.reset()
    # A real org is older than any test: its earliestDateAvailable (before a purge, the
    # org's creation) lies well before the first session, not at the last test's clock.
    sandbox.salesforce_app.set_clock(NOW - dt.timedelta(days=365))
    sandbox.salesforce_app.clock = clock
    sandbox.graph_app.set_clock(clock)
    sandbox.google_app.set_clock(clock)
    sandbox.ews_app.set_clock(clock)
    sf = sandbox.salesforce_app
    me = sf.add_user(EMAIL, "Adams", "Ann")
    other = sf.add_user("bob@acme.example", "Brown", "Bob")
    sf_access, sf_refresh = sf.issue_token(me)
    if kind == "office365":
        sandbox.graph_app.add_mailbox(EMAIL, "Ann Adams")
        mb_access, mb_refresh = sandbox.graph_app.issue_token(EMAIL)
    elif kind == "gmail":
        sandbox.google_app.add_account(EMAIL, "Ann Adams")
        mb_access, mb_refresh = sandbox.google_app.issue_token(EMAIL)
    elif kind == "exchange":
        sandbox.ews_app.add_service_account(*EWS_SERVICE, can_impersonate=True)
        sandbox.ews_app.add_mailbox(EMAIL, "Ann Adams")
        mb_access = mb_refresh = ""  # impersonation: no token, no user password
    account = SandboxAccount(EMAIL, kind, me, sf_access, sf_refresh, mb_access, mb_refresh)
    urls = {
        "salesforce": sandbox.salesforce.base_url,
        "graph": sandbox.graph.base_url,
        "google": sandbox.google.base_url,
    }
    user = connect_relay_user(account, urls, sf.org_id)
    if kind == "exchange":
        # Basic over TLS: each SOAP call is one HTTP request (NTLM adds a handshake per
        # connection), so the calls the emulator counts are the session's EWS calls.
        ExchangeServerConfig.objects.update_or_create(
            name="Exchange Server",
            defaults={
                "ews_url": f"{sandbox.ews.base_url}/EWS/Exchange.asmx",
                "username": EWS_SERVICE[0],
                "password": EWS_SERVICE[1],
                "auth_type": "Basic",
                "ca_bundle": str(sandbox.ca.ca_bundle),
            },
        )
        point_at_exchange(user)
    return World(kind, sandbox, clock, user, me, other)
