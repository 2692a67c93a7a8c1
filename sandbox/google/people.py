"""People API v1: contacts, contact groups, connections.list with sync tokens."""

from __future__ import annotations

import copy
import itertools
from datetime import timedelta
from typing import Any

from werkzeug.wrappers import Request

from sandbox.common import route

from .errors import HttpError, bad_request, int_param, not_found
from .service import Service
from .store import Account, SyncState, new_id, paginate, rfc3339

PERSON_FIELDS = {
    "addresses", "ageRanges", "biographies", "birthdays", "calendarUrls", "clientData",
    "coverPhotos", "emailAddresses", "events", "externalIds", "genders", "imClients",
    "interests", "locales", "locations", "memberships", "metadata", "miscKeywords", "names",
    "nicknames", "occupations", "organizations", "phoneNumbers", "photos", "relations",
    "sipAddresses", "skills", "urls", "userDefined",
}  # fmt: skip
UPDATABLE = PERSON_FIELDS - {"ageRanges", "coverPhotos", "metadata", "photos", "skills"}
SINGLETONS = ("biographies", "birthdays", "genders", "names")
SYSTEM_GROUPS = {
    "myContacts": "My Contacts",
    "starred": "Starred",
    "friends": "Friends",
    "family": "Family",
    "coworkers": "Coworkers",
}
SYNC_TOKEN_LIFETIME = timedelta(days=7)  # documented: "Sync tokens expire 7 days after"
_ids = itertools.count(1)


def _failed_precondition(message: str, info: str | None = None) -> HttpError:
    return HttpError(
        400,
        "failedPrecondition",
        message,
        grpc="FAILED_PRECONDITION",
        error_info=info,
        service="people.googleapis.com",
    )


def _mask(value: str | None, name: str, allowed: set[str], required: bool = True) -> list[str]:
    if not value:
        if required:
            raise bad_request(f"Invalid {name}. {name} mask path must not be empty.")
        return sorted(allowed)
    fields = [f.strip() for f in value.split(",") if f.strip()]
    for f in fields:
        if f.startswith("person."):
            f = f[len("person.") :]
        if f not in allowed:
            raise bad_request(f'Invalid {name} mask path: "{f}".')
    return [f.removeprefix("person.") for f in fields]


def _group_id(resource: str) -> str:
    return resource.removeprefix("contactGroups/")


class PeopleApi(Service):
    #: "You can have up to 25,000 contacts" per Google account
    #: (https://support.google.com/contacts/answer/7208207). Writes that would pass it are
    #: refused (the exact API error is not documented; this is FAILED_PRECONDITION).
    max_contacts_per_account: int | None = 25_000

    def _room_for(self, acct: Account, n: int) -> None:
        cap = self.max_contacts_per_account
        if cap is None:
            return
        live = sum(1 for rec in acct.contacts.values() if not rec.get("deleted"))
        if live + n > cap:
            raise HttpError(
                400,
                "failedPrecondition",
                f"Contact limit reached: an account can hold at most {cap} contacts.",
                grpc="FAILED_PRECONDITION",
            )

    # -- model ---------------------------------------------------------------------------

    def _ensure_groups(self, acct: Account) -> None:
        if acct.groups:
            return
        for gid, name in SYSTEM_GROUPS.items():
            acct.groups[gid] = {
                "id": gid, "name": gid, "formattedName": name, "type": "SYSTEM_CONTACT_GROUP",
                "etag": new_id(6), "seq": acct.bump(), "updated": self.now(), "deleted": False,
            }  # fmt: skip

    def _clean_person(self, acct: Account, person: dict[str, Any]) -> dict[str, Any]:
        """Keep the writable fields; drop server-owned metadata; validate memberships."""
        self._ensure_groups(acct)
        out: dict[str, Any] = {}
        for key, value in person.items():
            if key not in UPDATABLE or value in (None, []):
                continue
            if key in SINGLETONS and isinstance(value, list) and len(value) > 1:
                raise bad_request(f"Only one {key} field is allowed per contact.")
            items = copy.deepcopy(value)
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict):
                    item.pop("metadata", None)
            out[key] = items
        for m in out.get("memberships", []):
            ref = (m.get("contactGroupMembership") or {}).get(
                "contactGroupResourceName"
            ) or f"contactGroups/{(m.get('contactGroupMembership') or {}).get('contactGroupId')}"
            group = acct.groups.get(_group_id(ref))
            if group is None or group["deleted"]:
                raise bad_request(f"Contact group not found: {ref}")
            m.clear()
            m["contactGroupMembership"] = {
                "contactGroupId": group["id"],
                "contactGroupResourceName": f"contactGroups/{group['id']}",
            }
        for name in out.get("names", []):
            full = " ".join(p for p in (name.get("givenName"), name.get("familyName")) if p)
            name.setdefault("displayName", full)
            name.setdefault("unstructuredName", full)
            last_first = ", ".join(p for p in (name.get("familyName"), name.get("givenName")) if p)
            name.setdefault("displayNameLastFirst", last_first)
        return out

    def _touch_contact(self, acct: Account, rec: dict[str, Any]) -> None:
        rec["seq"] = acct.bump()
        rec["etag"] = "%" + new_id(14)
        rec["updated"] = self.now()

    def _memberships_of(self, rec: dict[str, Any]) -> list[str]:
        return [
            m["contactGroupMembership"]["contactGroupId"]
            for m in rec["person"].get("memberships", [])
            if "contactGroupMembership" in m
        ]

    def people_create(self, acct: Account, person: dict[str, Any]) -> dict[str, Any]:
        data = self._clean_person(acct, person)
        memberships = data.setdefault("memberships", [])
        if "myContacts" not in [m["contactGroupMembership"]["contactGroupId"] for m in memberships]:
            memberships.append(
                {
                    "contactGroupMembership": {
                        "contactGroupId": "myContacts",
                        "contactGroupResourceName": "contactGroups/myContacts",
                    }
                }
            )
        num = 7_000_000_000_000_000_000 + next(_ids) * 7919
        rec = {"resourceName": f"people/c{num}", "source_id": f"{num:x}", "person": data}
        rec["deleted"] = False
        self._touch_contact(acct, rec)
        acct.contacts[rec["resourceName"]] = rec
        return rec

    def people_update(
        self, acct: Account, resource: str, person: dict[str, Any], fields: list[str]
    ) -> dict[str, Any]:
        rec = self._live_contact(acct, resource)
        data = self._clean_person(acct, person)
        if "memberships" in fields and not data.get("memberships"):
            raise bad_request("Contact must have at least one contact group membership.")
        for f in fields:
            if f in data:
                rec["person"][f] = data[f]
            else:
                rec["person"].pop(f, None)
        self._touch_contact(acct, rec)
        return rec

    def people_delete(self, acct: Account, resource: str) -> None:
        rec = self._live_contact(acct, resource)
        rec["deleted"] = True
        self._touch_contact(acct, rec)

    def _live_contact(self, acct: Account, resource: str) -> dict[str, Any]:
        rec = acct.contacts.get(resource)
        if rec is None or rec["deleted"]:
            raise not_found("Requested entity was not found.")
        return rec

    def _check_etag(self, rec: dict[str, Any], person: dict[str, Any]) -> None:
        etags = [person.get("etag")] + [
            s.get("etag")
            for s in (person.get("metadata") or {}).get("sources", [])
            if s.get("type", "CONTACT") == "CONTACT"
        ]
        given = [e for e in etags if e]
        if not given:
            raise bad_request(
                "Request must set person.etag or person.metadata.sources.etag for the source "
                "that is being updated."
            )
        if any(e != rec["etag"] for e in given):
            raise _failed_precondition(
                "Request person.etag is different than the current person.etag. Clear local "
                "cache and get the latest person."
            )

    def render_person(self, rec: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"resourceName": rec["resourceName"], "etag": rec["etag"]}
        meta = {
            "sources": [
                {
                    "type": "CONTACT",
                    "id": rec["source_id"],
                    "etag": rec["etag"],
                    "updateTime": rfc3339(rec["updated"]),
                }
            ],
            "objectType": "PERSON",
        }
        if rec["deleted"]:
            out["metadata"] = {**meta, "deleted": True}
            return out
        source = {"type": "CONTACT", "id": rec["source_id"]}
        for f in fields:
            if f == "metadata":
                out["metadata"] = meta
            elif rec["person"].get(f):
                items = copy.deepcopy(rec["person"][f])
                for i, item in enumerate(items):
                    item["metadata"] = {"primary": i == 0, "source": source}
                out[f] = items
        return out

    # -- groups --------------------------------------------------------------------------

    def group_create(self, acct: Account, name: str) -> dict[str, Any]:
        self._ensure_groups(acct)
        if not name.strip():
            raise bad_request("Contact group name must not be empty.")
        taken = {g["formattedName"].lower() for g in acct.groups.values() if not g["deleted"]}
        if name.lower() in taken:
            raise HttpError(
                409, "alreadyExists", "Contact group name already exists.", grpc="ALREADY_EXISTS"
            )
        gid = new_id(8)
        acct.groups[gid] = {
            "id": gid, "name": name, "formattedName": name, "type": "USER_CONTACT_GROUP",
            "etag": new_id(6), "seq": acct.bump(), "updated": self.now(), "deleted": False,
        }  # fmt: skip
        return acct.groups[gid]

    def group_members(self, acct: Account, gid: str) -> list[str]:
        return [
            r["resourceName"]
            for r in acct.contacts.values()
            if not r["deleted"] and gid in self._memberships_of(r)
        ]

    def group_modify(
        self, acct: Account, gid: str, add: list[str], remove: list[str]
    ) -> dict[str, Any]:
        group = self._group(acct, gid)
        not_found_names, last = [], []
        membership = {
            "contactGroupMembership": {
                "contactGroupId": group["id"],
                "contactGroupResourceName": f"contactGroups/{group['id']}",
            }
        }
        for resource in add:
            rec = acct.contacts.get(resource)
            if rec is None or rec["deleted"]:
                not_found_names.append(resource)
            elif gid not in self._memberships_of(rec):
                rec["person"].setdefault("memberships", []).append(copy.deepcopy(membership))
                self._touch_contact(acct, rec)
        for resource in remove:
            rec = acct.contacts.get(resource)
            if rec is None or rec["deleted"]:
                not_found_names.append(resource)
            elif gid in self._memberships_of(rec):
                if len(self._memberships_of(rec)) == 1:
                    last.append(resource)
                    continue
                rec["person"]["memberships"] = [
                    m
                    for m in rec["person"]["memberships"]
                    if m.get("contactGroupMembership", {}).get("contactGroupId") != gid
                ]
                self._touch_contact(acct, rec)
        group["seq"], group["etag"], group["updated"] = acct.bump(), new_id(6), self.now()
        out: dict[str, Any] = {}
        if not_found_names:
            out["notFoundResourceNames"] = not_found_names
        if last:
            out["canNotRemoveLastContactGroupResourceNames"] = last
        return out

    def _group(self, acct: Account, gid: str) -> dict[str, Any]:
        self._ensure_groups(acct)
        group = acct.groups.get(gid)
        if group is None or group["deleted"]:
            raise not_found("Requested entity was not found.")
        return group

    def render_group(self, acct: Account, group: dict[str, Any], members: int = 0) -> dict:
        out = {
            "resourceName": f"contactGroups/{group['id']}",
            "etag": group["etag"],
            "metadata": {"updateTime": rfc3339(group["updated"])},
            "groupType": group["type"],
            "name": group["name"],
            "formattedName": group["formattedName"],
        }
        names = self.group_members(acct, group["id"])
        if names:
            out["memberCount"] = len(names)
        if members:
            out["memberResourceNames"] = names[:members]
        return out

    # -- routes: people ------------------------------------------------------------------

    @route("/v1/people/me/connections")
    def connections_list(self, request: Request, principal: str) -> dict[str, Any]:
        acct = self.account(principal)
        args = request.args
        fields = _mask(args.get("personFields"), "personFields", PERSON_FIELDS)
        size = int_param(args.get("pageSize"), "pageSize", 100) or 100
        if not 1 <= size <= 1000:
            raise bad_request("pageSize must be between 1 and 1000 inclusive.")
        sort = args.get("sortOrder", "LAST_MODIFIED_ASCENDING")
        sources = tuple(sorted(args.getlist("sources")))
        want_sync = args.get("requestSyncToken", "").lower() == "true"
        sync_token = args.get("syncToken")
        fingerprint = (tuple(fields), sort, sources, want_sync, sync_token)
        if args.get("pageToken"):
            page, nxt, extra = paginate(
                self.cursors, [], size, args["pageToken"],
                email=acct.email, kind="people", fingerprint=fingerprint,
            )  # fmt: skip
        else:
            since = self._sync_since(acct, sync_token, (tuple(fields), sources, sort))
            recs = [
                r
                for r in acct.contacts.values()
                if (r["seq"] > since if since is not None else not r["deleted"])
            ]
            recs.sort(key=_sort_key(sort))
            items = [self.render_person(r, fields) for r in recs]
            extra = {"total": len(items), "seq": acct.seq, "key": (tuple(fields), sources, sort)}
            page, nxt, extra = paginate(
                self.cursors, items, size, None,
                email=acct.email, kind="people", fingerprint=fingerprint, extra=extra,
            )  # fmt: skip
        out: dict[str, Any] = {"totalItems": extra["total"], "totalPeople": extra["total"]}
        if page:
            out["connections"] = page
        if nxt:
            out["nextPageToken"] = nxt
        elif want_sync:
            out["nextSyncToken"] = self.cursors.issue_sync(
                SyncState(acct.email, "people", extra["seq"], extra["key"], self.now())
            )
        return out

    def _sync_since(self, acct: Account, token: str | None, key: tuple[Any, ...]) -> int | None:
        if not token:
            return None
        state = self.cursors.sync.get(token)
        if state is None or state.email != acct.email or state.kind != "people":
            raise bad_request("Sync token is invalid.")
        if state.expired or self.now() - state.issued_at > SYNC_TOKEN_LIFETIME:
            raise _failed_precondition(
                "Sync token is expired. Clear local cache and retry call without the sync token.",
                "EXPIRED_SYNC_TOKEN",
            )
        if state.fingerprint != key:
            raise bad_request(
                "Parameters provided with a sync token must match the call that provided the "
                "sync token."
            )
        return state.seq

    @route("/v1/people/<pid>")
    def people_get(self, request: Request, principal: str, pid: str) -> dict[str, Any]:
        acct = self.account(principal)
        fields = _mask(request.args.get("personFields"), "personFields", PERSON_FIELDS)
        if pid == "me":
            return {
                "resourceName": f"people/{acct.numeric_id}",
                "etag": "%me",
                "names": [{"displayName": acct.display_name}],
                "emailAddresses": [{"value": acct.email}],
            }
        return self.render_person(self._live_contact(acct, f"people/{pid}"), fields)

    @route("/v1/people:batchGet")
    def people_batch_get(self, request: Request, principal: str) -> dict[str, Any]:
        acct = self.account(principal)
        fields = _mask(request.args.get("personFields"), "personFields", PERSON_FIELDS)
        names = request.args.getlist("resourceNames")
        if not 1 <= len(names) <= 200:
            raise bad_request("resourceNames must contain between 1 and 200 entries.")
        responses = []
        for name in names:
            rec = acct.contacts.get(name)
            if rec is None or rec["deleted"]:
                responses.append(
                    {"requestedResourceName": name, "httpStatusCode": 404, "status": {"code": 5}}
                )
            else:
                person = self.render_person(rec, fields)
                responses.append(
                    {"requestedResourceName": name, "httpStatusCode": 200, "person": person}
                )
        return {"responses": responses}

    @route("/v1/people:createContact", ("POST",))
    def people_create_route(self, request: Request, principal: str) -> dict[str, Any]:
        acct = self.account(principal)
        fields = _mask(request.args.get("personFields"), "personFields", PERSON_FIELDS, False)
        self._room_for(acct, 1)
        rec = self.people_create(acct, self.body(request))
        return self.render_person(rec, fields)

    @route("/v1/people/<pid>:updateContact", ("PATCH",))
    def people_update_route(self, request: Request, principal: str, pid: str) -> dict[str, Any]:
        acct = self.account(principal)
        update = _mask(request.args.get("updatePersonFields"), "updatePersonFields", UPDATABLE)
        fields = _mask(request.args.get("personFields"), "personFields", PERSON_FIELDS, False)
        person = self.body(request)
        rec = self._live_contact(acct, f"people/{pid}")
        self._check_etag(rec, person)
        rec = self.people_update(acct, rec["resourceName"], person, update)
        return self.render_person(rec, fields)

    @route("/v1/people/<pid>:deleteContact", ("DELETE",))
    def people_delete_route(self, request: Request, principal: str, pid: str) -> dict[str, Any]:
        self.people_delete(self.account(principal), f"people/{pid}")
        return {}

    @route("/v1/people:batchCreateContacts", ("POST",))
    def people_batch_create(self, request: Request, principal: str) -> dict[str, Any]:
        acct = self.account(principal)
        body = self.body(request)
        fields = _mask(body.get("readMask"), "readMask", PERSON_FIELDS)
        contacts = body.get("contacts") or []
        if not 1 <= len(contacts) <= 200:
            raise bad_request("contacts must contain between 1 and 200 entries.")
        request.environ["sandbox.units"] = len(contacts)  # the latency model's inner requests
        # Validate all first: the batch is all-or-nothing.
        for c in contacts:
            self._clean_person(acct, c.get("contactPerson") or {})
        self._room_for(acct, len(contacts))
        created = [self.people_create(acct, c.get("contactPerson") or {}) for c in contacts]
        return {
            "createdPeople": [
                {"httpStatusCode": 200, "person": self.render_person(r, fields), "status": {}}
                for r in created
            ]
        }

    @route("/v1/people:batchUpdateContacts", ("POST",))
    def people_batch_update(self, request: Request, principal: str) -> dict[str, Any]:
        acct = self.account(principal)
        body = self.body(request)
        update = _mask(body.get("updateMask"), "updateMask", UPDATABLE)
        fields = _mask(body.get("readMask"), "readMask", PERSON_FIELDS)
        contacts: dict[str, Any] = body.get("contacts") or {}
        if not 1 <= len(contacts) <= 200:
            raise bad_request("contacts must contain between 1 and 200 entries.")
        request.environ["sandbox.units"] = len(contacts)
        for resource, person in contacts.items():
            self._check_etag(self._live_contact(acct, resource), person)
            self._clean_person(acct, person)
        result = {}
        for resource, person in contacts.items():
            rec = self.people_update(acct, resource, person, update)
            result[resource] = {
                "httpStatusCode": 200, "person": self.render_person(rec, fields), "status": {}
            }  # fmt: skip
        return {"updateResult": result}

    @route("/v1/people:batchDeleteContacts", ("POST",))
    def people_batch_delete(self, request: Request, principal: str) -> dict[str, Any]:
        acct = self.account(principal)
        names = self.body(request).get("resourceNames") or []
        if not 1 <= len(names) <= 500:
            raise bad_request("resourceNames must contain between 1 and 500 entries.")
        request.environ["sandbox.units"] = len(names)
        for name in names:
            self._live_contact(acct, name)
        for name in names:
            self.people_delete(acct, name)
        return {}

    # -- routes: contact groups ----------------------------------------------------------

    @route("/v1/contactGroups")
    def groups_list(self, request: Request, principal: str) -> dict[str, Any]:
        acct = self.account(principal)
        self._ensure_groups(acct)
        groups = [self.render_group(acct, g) for g in acct.groups.values() if not g["deleted"]]
        return {"contactGroups": groups, "totalItems": len(groups), "nextSyncToken": new_id(8)}

    @route("/v1/contactGroups", ("POST",))
    def groups_create_route(self, request: Request, principal: str) -> dict[str, Any]:
        acct = self.account(principal)
        group = (self.body(request).get("contactGroup") or {}).get("name") or ""
        return self.render_group(acct, self.group_create(acct, group))

    @route("/v1/contactGroups/<gid>")
    def groups_get(self, request: Request, principal: str, gid: str) -> dict[str, Any]:
        acct = self.account(principal)
        members = int_param(request.args.get("maxMembers"), "maxMembers", 0)
        return self.render_group(acct, self._group(acct, gid), members)

    @route("/v1/contactGroups/<gid>", ("DELETE",))
    def groups_delete(self, request: Request, principal: str, gid: str) -> dict[str, Any]:
        acct = self.account(principal)
        group = self._group(acct, gid)
        if group["type"] != "USER_CONTACT_GROUP":
            raise bad_request("Cannot delete a system contact group.")
        wipe = request.args.get("deleteContacts", "").lower() == "true"
        for resource in self.group_members(acct, gid):
            if wipe:
                self.people_delete(acct, resource)
            else:
                self.group_modify(acct, gid, [], [resource])
        group["deleted"] = True
        group["seq"] = acct.bump()
        return {}

    @route("/v1/contactGroups/<gid>/members:modify", ("POST",))
    def groups_modify_route(self, request: Request, principal: str, gid: str) -> dict[str, Any]:
        acct = self.account(principal)
        body = self.body(request)
        add = body.get("resourceNamesToAdd") or []
        remove = body.get("resourceNamesToRemove") or []
        if len(add) + len(remove) > 1000:
            raise bad_request("Too many resource names; the limit is 1000.")
        group = self._group(acct, gid)
        if group["type"] != "USER_CONTACT_GROUP" and gid not in ("myContacts", "starred"):
            raise bad_request(f"Cannot modify members of contactGroups/{gid}.")
        return self.group_modify(acct, gid, add, remove)


def _sort_key(order: str) -> Any:
    def first(rec: dict[str, Any], part: str) -> str:
        names = rec["person"].get("names") or [{}]
        return (names[0].get(part) or "").lower()

    if order == "FIRST_NAME_ASCENDING":
        return lambda r: (first(r, "givenName"), r["seq"])
    if order == "LAST_NAME_ASCENDING":
        return lambda r: (first(r, "familyName"), r["seq"])
    if order == "LAST_MODIFIED_DESCENDING":
        return lambda r: -r["seq"]
    if order == "LAST_MODIFIED_ASCENDING":
        return lambda r: r["seq"]
    raise bad_request(f"Invalid value at 'sort_order': {order}")
