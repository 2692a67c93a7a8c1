"""`seed(data)` and the Salesforce-specific `/_sandbox/…` controls (clock, budget, tokens).

Seed format: {"users": [{"Username", "LastName", …, "ref"?}], "records": {"Contact": [{…}]},
"demo": bool, "shared_activities": bool}. A value "@{ref}" is replaced by the id of the user
or record seeded with that "ref", so one JSON document can wire owners and relations.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from sandbox.common import HttpError

from .values import parse_datetime

if TYPE_CHECKING:
    from .app import SalesforceEmulator


def _resolve(value: Any, refs: dict[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("@{") and value.endswith("}"):
        key = value[2:-1]
        if key not in refs:
            raise HttpError(400, "INVALID_SEED", f"unknown ref {key}")
        return refs[key]
    if isinstance(value, list):
        return [_resolve(v, refs) for v in value]
    return value


def seed(emu: SalesforceEmulator, data: dict[str, Any]) -> dict[str, Any]:
    refs: dict[str, str] = {}
    out: dict[str, Any] = {"org_id": emu.org_id, "users": [], "records": {}}
    if "shared_activities" in data:
        emu.shared_activities = bool(data["shared_activities"])
    if data.get("demo"):
        out["demo"] = _demo(emu)
    for user in data.get("users") or []:
        fields = {k: v for k, v in user.items() if k != "ref"}
        uid = emu.store.create("User", fields, actor="", system=True)
        access, refresh = emu.issue_token(uid)
        if user.get("ref"):
            refs[user["ref"]] = uid
        out["users"].append(
            {
                "id": uid,
                "username": fields.get("Username"),
                "access_token": access,
                "refresh_token": refresh,
            }
        )
    for sobject, rows in (data.get("records") or {}).items():
        obj = emu.store.sobject(sobject)
        if obj is None:
            raise HttpError(400, "INVALID_TYPE", f"unknown sObject {sobject}")
        ids = []
        for row in rows:
            fields = {k: _resolve(v, refs) for k, v in row.items() if k not in ("ref", "as")}
            actor = _resolve(row.get("as"), refs) if row.get("as") else None
            rid = emu.store.create(obj.name, fields, actor, system=True)
            if row.get("ref"):
                refs[row["ref"]] = rid
            ids.append(rid)
        out["records"][obj.name] = ids
    out["refs"] = refs
    return out


def _demo(emu: SalesforceEmulator) -> dict[str, Any]:
    from .demo import seed_demo_org

    return seed_demo_org(emu)


def control(emu: SalesforceEmulator, request: Request) -> Response | None:
    """Handle the Salesforce-only controls; None lets the base handle the rest."""
    action = request.path[len("/_sandbox/") :].strip("/")
    if request.method != "POST" or action not in ("clock", "budget", "token", "settings", "purge"):
        return None
    body = request.get_json(silent=True) or {}
    try:
        with emu.lock:
            result: dict[str, Any] = {"ok": True}
            if action == "clock":
                if body.get("now"):
                    emu.set_clock(parse_datetime(body["now"]))
                elif body.get("real"):
                    emu.set_clock(None)
                if body.get("advance_seconds"):
                    emu.set_clock(emu.clock() + timedelta(seconds=float(body["advance_seconds"])))
                result["now"] = emu.clock().isoformat()
            elif action == "budget":
                if body.get("exhaust"):
                    emu.exhaust_budget()
                else:
                    emu.set_budget(body.get("max"), body.get("used"))
                result.update(max=emu.budget_max, used=emu.budget_used)
            elif action == "token":
                access, refresh = emu.issue_token(body["user_id"])
                result.update(access_token=access, refresh_token=refresh)
            elif action == "settings":
                if "enhanced_email" in body:
                    emu.enhanced_email = bool(body["enhanced_email"])
                if "shared_activities" in body:
                    emu.store.set_shared_activities(bool(body["shared_activities"]))
                if "event_relation_in_bin" in body:
                    emu.event_relation_in_bin = bool(body["event_relation_in_bin"])
                if "long_running" in body:
                    emu.hold_long_running(int(body["long_running"]), body.get("long_running_max"))
                result["enhanced_email"] = emu.enhanced_email
                result["shared_activities"] = emu.store.shared_activities
                result["event_relation_in_bin"] = emu.event_relation_in_bin
            elif action == "purge":
                age = body.get("older_than_days")
                age = timedelta(days=float(age)) if age is not None else None
                result["purged"] = emu.store.purge_deleted(age)
    except (KeyError, ValueError, TypeError) as err:
        result = {"error": str(err)}
        return Response(json.dumps(result), status=400, content_type="application/json")
    return Response(json.dumps(result), content_type="application/json")
