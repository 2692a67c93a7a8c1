"""Tasks API v1: task lists and tasks. No sync token: clients poll with updatedMin."""

from __future__ import annotations

import copy
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.common import route

from .errors import bad_request, bool_param, int_param, not_found
from .service import Service
from .store import Account, new_id, paginate, parse_time, rfc3339

WRITABLE = {"title", "notes", "status", "due", "completed", "deleted"}
TOP = 10**12  # positions grow downwards from here: new top-level tasks go first


def _etag() -> str:
    return f'"{new_id(10)}"'


class TasksApi(Service):
    # -- model ---------------------------------------------------------------------------

    def tasklist_create(self, acct: Account, title: str) -> dict[str, Any]:
        if not title.strip():
            raise bad_request("Missing title.", "required")
        lid = new_id(12)
        acct.tasklists[lid] = {"id": lid, "title": title, "updated": rfc3339(self.now())}
        acct.tasklists[lid]["etag"] = _etag()
        acct.tasks[lid] = {}
        return acct.tasklists[lid]

    def _list(self, acct: Account, lid: str) -> str:
        if not acct.tasklists:
            self.tasklist_create(acct, "My Tasks")
        if lid == "@default":
            return next(iter(acct.tasklists))
        if lid not in acct.tasklists:
            raise not_found("Task list not found.")
        return lid

    def _task(self, acct: Account, lid: str, tid: str) -> dict[str, Any]:
        task = acct.tasks[self._list(acct, lid)].get(tid)
        if task is None:
            raise not_found("Task not found.")
        return task

    def _apply(self, task: dict[str, Any], changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            if key not in WRITABLE:
                continue
            if value is None:
                task.pop(key, None)
            elif key == "due":
                # Documented: only the date is kept; the time portion is discarded.
                task["due"] = parse_time(value, "due").date().isoformat() + "T00:00:00.000Z"
            elif key == "completed":
                task["completed"] = rfc3339(parse_time(value, "completed"))
            else:
                task[key] = value
        if len(task.get("notes") or "") > 8192:
            raise bad_request("Notes are limited to 8192 characters.", "invalid")
        if len(task.get("title") or "") > 1024:
            raise bad_request("Titles are limited to 1024 characters.", "invalid")
        if task.get("status") not in ("needsAction", "completed"):
            raise bad_request(f"Invalid task status: {task.get('status')}", "invalid")
        if task["status"] == "completed":
            task.setdefault("completed", rfc3339(self.now()))
        else:
            task.pop("completed", None)
            task["hidden"] = False

    def _touch(self, task: dict[str, Any]) -> None:
        task["updated"] = rfc3339(self.now())
        task["etag"] = _etag()

    def task_insert(
        self,
        acct: Account,
        lid: str,
        body: dict[str, Any],
        parent: str | None = None,
        previous: str | None = None,
    ) -> dict[str, Any]:
        lid = self._list(acct, lid)
        tasks = acct.tasks[lid]
        if parent and parent not in tasks:
            raise bad_request("Invalid parent task.", "invalid")
        task: dict[str, Any] = {"id": new_id(10), "status": "needsAction", "title": ""}
        self._apply(task, body)
        task["hidden"] = False
        task["_pos"] = self._position(tasks, parent, previous)
        if parent:
            task["parent"] = parent
        task["_list"] = lid
        self._touch(task)
        tasks[task["id"]] = task
        return task

    def _position(self, tasks: dict[str, Any], parent: str | None, previous: str | None) -> int:
        siblings = sorted(t["_pos"] for t in tasks.values() if t.get("parent") == parent)
        if previous:
            if previous not in tasks:
                raise bad_request("Invalid previous task.", "invalid")
            before = tasks[previous]["_pos"]
            after = [p for p in siblings if p > before]
            return (before + after[0]) // 2 if after else before + 1000
        return (siblings[0] if siblings else TOP) - 1000

    def task_update(
        self, acct: Account, lid: str, tid: str, changes: dict[str, Any], replace: bool = False
    ) -> dict[str, Any]:
        task = self._task(acct, lid, tid)
        if replace:
            for key in WRITABLE - {"status"}:
                task.pop(key, None)
            changes = {"status": "needsAction", **changes}
        self._apply(task, changes)
        self._touch(task)
        return task

    def task_delete(self, acct: Account, lid: str, tid: str) -> None:
        task = self._task(acct, lid, tid)
        task["deleted"] = True
        self._touch(task)

    def tasks_clear(self, acct: Account, lid: str) -> None:
        """Hide completed tasks, as "Clear completed" does in the Tasks UI."""
        for task in acct.tasks[self._list(acct, lid)].values():
            if task["status"] == "completed" and not task.get("hidden"):
                task["hidden"] = True
                self._touch(task)

    def render_task(self, task: dict[str, Any]) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in task.items() if not k.startswith("_")}
        out["kind"] = "tasks#task"
        out["position"] = f"{task['_pos']:020d}"
        out["selfLink"] = f"{self.base_url}/tasks/v1/lists/{task['_list']}/tasks/{task['id']}"  # type: ignore[attr-defined]
        out["webViewLink"] = f"https://tasks.google.com/task/{task['id']}"
        out["links"] = []
        if not out.get("deleted"):
            out.pop("deleted", None)
        if not out.get("hidden"):
            out.pop("hidden", None)
        return out

    def render_list(self, tl: dict[str, Any]) -> dict[str, Any]:
        return {
            **tl,
            "kind": "tasks#taskList",
            "selfLink": f"{self.base_url}/tasks/v1/users/@me/lists/{tl['id']}",
        }  # type: ignore[attr-defined]

    # -- routes: lists -------------------------------------------------------------------

    @route("/tasks/v1/users/@me/lists")
    def tasklists_list(self, request: Request, principal: str) -> dict[str, Any]:
        acct = self.account(principal)
        self._list(acct, "@default")
        size = min(int_param(request.args.get("maxResults"), "maxResults", 1000), 1000)
        items = [self.render_list(t) for t in acct.tasklists.values()]
        page, nxt, _ = paginate(
            self.cursors,
            items,
            max(size, 1),
            request.args.get("pageToken"),
            email=acct.email,
            kind="tasklists",
            fingerprint=(),
        )
        out: dict[str, Any] = {"kind": "tasks#taskLists", "etag": _etag(), "items": page}
        if nxt:
            out["nextPageToken"] = nxt
        return out

    @route("/tasks/v1/users/@me/lists", ("POST",))
    def tasklists_insert(self, request: Request, principal: str) -> dict[str, Any]:
        acct = self.account(principal)
        self._list(acct, "@default")
        return self.render_list(self.tasklist_create(acct, self.body(request).get("title") or ""))

    @route("/tasks/v1/users/@me/lists/<lid>")
    def tasklists_get(self, request: Request, principal: str, lid: str) -> dict[str, Any]:
        acct = self.account(principal)
        return self.render_list(acct.tasklists[self._list(acct, lid)])

    @route("/tasks/v1/users/@me/lists/<lid>", ("PATCH", "PUT"))
    def tasklists_patch(self, request: Request, principal: str, lid: str) -> dict[str, Any]:
        acct = self.account(principal)
        tl = acct.tasklists[self._list(acct, lid)]
        title = self.body(request).get("title")
        if title is not None:
            if not title.strip():
                raise bad_request("Missing title.", "required")
            tl["title"] = title
        tl["updated"], tl["etag"] = rfc3339(self.now()), _etag()
        return self.render_list(tl)

    @route("/tasks/v1/users/@me/lists/<lid>", ("DELETE",))
    def tasklists_delete(self, request: Request, principal: str, lid: str) -> Response:
        acct = self.account(principal)
        lid = self._list(acct, lid)
        if lid == next(iter(acct.tasklists)):
            raise bad_request("The default task list cannot be deleted.", "invalid")
        del acct.tasklists[lid], acct.tasks[lid]
        return Response(status=204)

    # -- routes: tasks -------------------------------------------------------------------

    @route("/tasks/v1/lists/<lid>/tasks")
    def tasks_list(self, request: Request, principal: str, lid: str) -> dict[str, Any]:
        acct = self.account(principal)
        lid = self._list(acct, lid)
        args = request.args
        size = min(int_param(args.get("maxResults"), "maxResults", 20), 100)
        fingerprint = tuple(
            (k, args.get(k)) for k in sorted(args) if k not in ("pageToken", "maxResults")
        )
        items: list[dict[str, Any]] = []
        if not args.get("pageToken"):
            bounds = {
                k: parse_time(args[k], k)
                for k in ("updatedMin", "dueMin", "dueMax", "completedMin", "completedMax")
                if args.get(k)
            }
            show_deleted = bool_param(args.get("showDeleted"))
            show_hidden = bool_param(args.get("showHidden"))
            show_completed = bool_param(args.get("showCompleted"), True)
            for task in sorted(acct.tasks[lid].values(), key=lambda t: (t["_pos"], t["id"])):
                if task.get("deleted") and not show_deleted:
                    continue
                if task.get("hidden") and not show_hidden:
                    continue
                if task["status"] == "completed" and not show_completed:
                    continue
                if _outside(task, bounds):
                    continue
                items.append(self.render_task(task))
        page, nxt, _ = paginate(
            self.cursors,
            items,
            max(size, 1),
            args.get("pageToken"),
            email=acct.email,
            kind="tasks:" + lid,
            fingerprint=fingerprint,
        )
        out: dict[str, Any] = {"kind": "tasks#tasks", "etag": _etag(), "items": page}
        if nxt:
            out["nextPageToken"] = nxt
        return out

    @route("/tasks/v1/lists/<lid>/tasks", ("POST",))
    def tasks_insert(self, request: Request, principal: str, lid: str) -> dict[str, Any]:
        acct = self.account(principal)
        task = self.task_insert(
            acct, lid, self.body(request), request.args.get("parent"), request.args.get("previous")
        )
        return self.render_task(task)

    @route("/tasks/v1/lists/<lid>/tasks/<tid>")
    def tasks_get(self, request: Request, principal: str, lid: str, tid: str) -> dict[str, Any]:
        return self.render_task(self._task(self.account(principal), lid, tid))

    @route("/tasks/v1/lists/<lid>/tasks/<tid>", ("PATCH", "PUT"))
    def tasks_patch(self, request: Request, principal: str, lid: str, tid: str) -> dict[str, Any]:
        acct = self.account(principal)
        task = self.task_update(acct, lid, tid, self.body(request), request.method == "PUT")
        return self.render_task(task)

    @route("/tasks/v1/lists/<lid>/tasks/<tid>", ("DELETE",))
    def tasks_delete(self, request: Request, principal: str, lid: str, tid: str) -> Response:
        self.task_delete(self.account(principal), lid, tid)
        return Response(status=204)

    @route("/tasks/v1/lists/<lid>/clear", ("POST",))
    def tasks_clear_route(self, request: Request, principal: str, lid: str) -> Response:
        self.tasks_clear(self.account(principal), lid)
        return Response(status=204)

    @route("/tasks/v1/lists/<lid>/tasks/<tid>/move", ("POST",))
    def tasks_move(self, request: Request, principal: str, lid: str, tid: str) -> dict[str, Any]:
        acct = self.account(principal)
        task = self._task(acct, lid, tid)
        parent = request.args.get("parent") or None
        tasks = acct.tasks[task["_list"]]
        if parent and parent not in tasks:
            raise bad_request("Invalid parent task.", "invalid")
        task.pop("parent", None)
        task["_pos"] = self._position(tasks, parent, request.args.get("previous"))
        if parent:
            task["parent"] = parent
        self._touch(task)
        return self.render_task(task)


def _outside(task: dict[str, Any], bounds: dict[str, Any]) -> bool:
    checks = (
        ("updatedMin", "updated", 1),
        ("dueMin", "due", 1),
        ("dueMax", "due", -1),
        ("completedMin", "completed", 1),
        ("completedMax", "completed", -1),
    )
    for param, field, direction in checks:
        if param not in bounds:
            continue
        if not task.get(field):
            return True
        value = parse_time(task[field])
        if (value < bounds[param]) if direction == 1 else (value > bounds[param]):
            return True
    return False
