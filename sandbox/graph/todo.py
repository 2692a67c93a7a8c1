"""Microsoft To Do: task lists, tasks, their delta, and linkedResources."""

from __future__ import annotations

import copy
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.common import HttpError, route

from .core import GraphCore
from .delta import initial_params, run_delta
from .odata import arg, listing, single
from .store import Item, Mailbox, get_or_404, invalid, merge, pop_ci, render

STATUSES = {"notStarted", "inProgress", "completed", "waitingOnOthers", "deferred"}
IMPORTANCE = {"low", "normal", "high"}
TASK_FIELDS = {
    "title",
    "body",
    "status",
    "importance",
    "dueDateTime",
    "startDateTime",
    "completedDateTime",
    "reminderDateTime",
    "isReminderOn",
    "categories",
    "recurrence",
}
LINK_FIELDS = {"webUrl", "applicationName", "displayName", "externalId"}


class TodoMixin(GraphCore):
    def _init_mailbox(self, box: Mailbox) -> None:
        super()._init_mailbox(box)
        self._new_list(box, {"displayName": "Tasks"}, wellknown="defaultList")

    def _new_list(self, box: Mailbox, body: dict[str, Any], wellknown: str = "none") -> Item:
        name = (body.get("displayName") or "").strip()
        if not name:
            raise invalid("displayName is required.", "invalidRequest")
        todo_list = {
            "id": self.ids("todolist"),
            "displayName": name,
            "isOwner": True,
            "isShared": False,
            "wellknownListName": wellknown,
        }
        box.todo_lists[todo_list["id"]] = self.touch(box, todo_list)
        return todo_list

    def _check(self, task: Item) -> None:
        # Graph stores an empty itemBody / empty list where a client sends null.
        if not isinstance(task.get("body"), dict):
            task["body"] = {"content": "", "contentType": "text"}
        task["categories"] = task.get("categories") or []
        if task.get("status") not in STATUSES:
            raise invalid(f"Invalid status '{task.get('status')}'.", "invalidRequest")
        if task.get("importance") not in IMPORTANCE:
            raise invalid(f"Invalid importance '{task.get('importance')}'.", "invalidRequest")
        for key in ("dueDateTime", "startDateTime", "completedDateTime", "reminderDateTime"):
            value = task.get(key)
            if value is not None and not (isinstance(value, dict) and value.get("dateTime")):
                raise invalid(f"'{key}' must be a dateTimeTimeZone.", "invalidRequest")
        if task["status"] == "completed" and not task.get("completedDateTime"):
            task["completedDateTime"] = {
                "dateTime": self.stamp()[:-1] + ".0000000",
                "timeZone": "UTC",
            }
        if task["status"] != "completed":
            task["completedDateTime"] = None

    def _new_task(self, box: Mailbox, list_id: str, body: dict[str, Any]) -> Item:
        get_or_404(box.todo_lists, list_id)
        body = dict(body)
        links = pop_ci(body, "linkedResources") or []
        task: Item = {
            "title": "",
            "body": {"content": "", "contentType": "text"},
            "status": "notStarted",
            "importance": "normal",
            "isReminderOn": False,
            "categories": [],
            "hasAttachments": False,
        }
        merge(task, body, TASK_FIELDS)
        self._check(task)
        task["id"] = self.ids("task")
        task["_list"] = list_id
        task["_links"] = {}
        for link in links:
            self._add_link(task, link)
        box.tasks[task["id"]] = self.touch(box, task)
        return task

    def _add_link(self, task: Item, body: dict[str, Any]) -> Item:
        link = {"id": self.ids("link")[5:41].lower()}
        merge(link, body, LINK_FIELDS)
        task["_links"][link["id"]] = link
        return link

    def _task(self, box: Mailbox, list_id: str, task_id: str) -> Item:
        get_or_404(box.todo_lists, list_id)
        task = get_or_404(box.tasks, task_id)
        if task["_list"] != list_id:
            raise HttpError(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        return task

    def _update_task(self, box: Mailbox, list_id: str, task_id: str, body: dict[str, Any]) -> Item:
        task = self._task(box, list_id, task_id)
        body = dict(body)
        pop_ci(body, "linkedResources")
        updated = copy.deepcopy(task)
        merge(updated, body, TASK_FIELDS)
        if "completedDateTime" in body and body["completedDateTime"] and "status" not in body:
            updated["status"] = "completed"
        self._check(updated)
        task.update(updated)
        return self.touch(box, task)

    def _render_task(self, request: Request | None, task: Item, expand: str | None = None) -> Item:
        """`expand` overrides the request's `$expand` (a delta round keeps its first one)."""
        out = single(request, task) if request else render(task)
        for key in ("dueDateTime", "startDateTime", "completedDateTime", "reminderDateTime"):
            if out.get(key) is None:
                out.pop(key, None)  # To Do omits unset date properties
        if expand is None:
            expand = (arg(request, "$expand") or "") if request else ""
        if "linkedresources" in expand.lower() or request is None:
            out["linkedResources"] = [dict(v) for v in task["_links"].values()]
        return out

    # -- Python API ----------------------------------------------------------------------

    def create_todo_list(self, upn: str, display_name: str) -> Item:
        with self.lock:
            return render(self._new_list(self.mailbox(upn), {"displayName": display_name}))

    def default_todo_list(self, upn: str) -> Item:
        box = self.mailbox(upn)
        return render(
            next(t for t in box.todo_lists.values() if t["wellknownListName"] == "defaultList")
        )

    def create_task(self, upn: str, list_id: str, fields: dict[str, Any]) -> Item:
        with self.lock:
            return self._render_task(None, self._new_task(self.mailbox(upn), list_id, fields))

    def update_task(self, upn: str, list_id: str, task_id: str, fields: dict[str, Any]) -> Item:
        with self.lock:
            box = self.mailbox(upn)
            return self._render_task(None, self._update_task(box, list_id, task_id, fields))

    def delete_task(self, upn: str, list_id: str, task_id: str) -> None:
        with self.lock:
            box = self.mailbox(upn)
            del box.tasks[self._task(box, list_id, task_id)["id"]]
            box.seq += 1

    # -- HTTP ------------------------------------------------------------------------------

    @route("/v1.0/me/todo/lists", methods=("GET", "POST"))
    def http_lists(self, request: Request, principal: str) -> Any:
        box = self.mailbox(principal)
        if request.method == "POST":
            return self.json_response(
                render(self._new_list(box, request.get_json(force=True) or {})), 201
            )
        return listing(request, self.base_url, list(box.todo_lists.values()), default_page=100)

    @route("/v1.0/me/todo/lists/delta")
    def http_lists_delta(self, request: Request, principal: str) -> Any:
        box = self.mailbox(principal)
        return run_delta(
            base_url=self.base_url,
            request=request,
            mailbox=box,
            kind="lists",
            scope="",
            params=initial_params(request),
            compute=lambda p, s: (
                {k: (v["changeKey"], render(v)) for k, v in box.todo_lists.items()},
                [],
            ),
            reason=lambda i: "deleted",
        )

    @route("/v1.0/me/todo/lists/<list_id>", methods=("GET", "PATCH", "DELETE"))
    def http_list(self, request: Request, principal: str, list_id: str) -> Any:
        box = self.mailbox(principal)
        todo_list = get_or_404(box.todo_lists, list_id)
        if request.method == "DELETE":
            if todo_list["wellknownListName"] == "defaultList":
                raise invalid("The default list cannot be deleted.", "invalidRequest")
            del box.todo_lists[list_id]
            for tid in [t for t, v in box.tasks.items() if v["_list"] == list_id]:
                del box.tasks[tid]
            box.seq += 1
            return Response(status=204)
        if request.method == "PATCH":
            merge(todo_list, request.get_json(force=True) or {}, {"displayName"})
            self.touch(box, todo_list)
        return render(todo_list)

    @route("/v1.0/me/todo/lists/<list_id>/tasks", methods=("GET", "POST"))
    def http_tasks(self, request: Request, principal: str, list_id: str) -> Any:
        box = self.mailbox(principal)
        if request.method == "POST":
            task = self._new_task(box, list_id, request.get_json(force=True) or {})
            return self.json_response(self._render_task(request, task), 201)
        get_or_404(box.todo_lists, list_id)
        rows = [t for t in box.tasks.values() if t["_list"] == list_id]
        page = listing(request, self.base_url, rows, default_page=100)
        page["value"] = [self._render_task(request, box.tasks[v["id"]]) for v in page["value"]]
        return page

    @route("/v1.0/me/todo/lists/<list_id>/tasks/delta")
    def http_tasks_delta(self, request: Request, principal: str, list_id: str) -> Any:
        box = self.mailbox(principal)
        get_or_404(box.todo_lists, list_id)

        def compute(
            params: dict[str, Any], since: int
        ) -> tuple[dict[str, tuple[str, Item]], list[str]]:
            # Graph encodes the first request's query in its links, so `$expand` holds for
            # every page and every later round of the same delta link.
            expand = params.get("expand") or ""
            rows = {
                t["id"]: (t["changeKey"], self._render_task(request, t, expand))
                for t in box.tasks.values()
                if t["_list"] == list_id
            }
            return rows, []

        return run_delta(
            base_url=self.base_url,
            request=request,
            mailbox=box,
            kind="tasks",
            scope=list_id,
            params=initial_params(request, expand=arg(request, "$expand")),
            compute=compute,
            reason=lambda i: "deleted",
        )

    @route("/v1.0/me/todo/lists/<list_id>/tasks/<task_id>", methods=("GET", "PATCH", "DELETE"))
    def http_task(self, request: Request, principal: str, list_id: str, task_id: str) -> Any:
        box = self.mailbox(principal)
        task = self._task(box, list_id, task_id)
        if request.method == "DELETE":
            del box.tasks[task_id]
            box.seq += 1
            return Response(status=204)
        if request.method == "PATCH":
            task = self._update_task(box, list_id, task_id, request.get_json(force=True) or {})
        return self._render_task(request, task)

    @route("/v1.0/me/todo/lists/<list_id>/tasks/<task_id>/linkedResources", methods=("GET", "POST"))
    def http_links(self, request: Request, principal: str, list_id: str, task_id: str) -> Any:
        box = self.mailbox(principal)
        task = self._task(box, list_id, task_id)
        if request.method == "POST":
            link = self._add_link(task, request.get_json(force=True) or {})
            self.touch(box, task)
            return self.json_response(dict(link), 201)
        return {"value": [dict(v) for v in task["_links"].values()]}

    @route(
        "/v1.0/me/todo/lists/<list_id>/tasks/<task_id>/linkedResources/<link_id>",
        methods=("GET", "PATCH", "DELETE"),
    )
    def http_link(
        self, request: Request, principal: str, list_id: str, task_id: str, link_id: str
    ) -> Any:
        box = self.mailbox(principal)
        task = self._task(box, list_id, task_id)
        link = get_or_404(task["_links"], link_id)
        if request.method == "DELETE":
            del task["_links"][link_id]
            self.touch(box, task)
            return Response(status=204)
        if request.method == "PATCH":
            merge(link, request.get_json(force=True) or {}, LINK_FIELDS)
            self.touch(box, task)
        return dict(link)
