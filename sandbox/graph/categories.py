"""The user's master category list (`/me/outlook/masterCategories`).

Items name categories by displayName, which is unique (case-insensitively) and cannot be
changed after creation; only the colour can be patched.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.common import HttpError, route

from .core import GraphCore
from .store import Item, Mailbox, get_or_404, invalid, render

COLORS = {"none"} | {f"preset{i}" for i in range(25)}


class CategoriesMixin(GraphCore):
    def _new_category(self, box: Mailbox, body: dict[str, Any]) -> Item:
        name = (body.get("displayName") or "").strip()
        color = _color(body.get("color"))
        if not name:
            raise invalid("displayName is required.", "ErrorInvalidRequest")
        if any(c["displayName"].lower() == name.lower() for c in box.categories.values()):
            raise HttpError(
                409,
                "ErrorDuplicateObject",
                f"A category with the display name '{name}' already exists.",
            )
        category = {"id": self.ids("category")[5:41].lower(), "displayName": name, "color": color}
        box.categories[category["id"]] = category
        return category

    def create_category(self, upn: str, display_name: str, color: str = "preset0") -> Item:
        with self.lock:
            box = self.mailbox(upn)
            return render(self._new_category(box, {"displayName": display_name, "color": color}))

    @route("/v1.0/me/outlook/masterCategories", methods=("GET", "POST"))
    def http_categories(self, request: Request, principal: str) -> Any:
        box = self.mailbox(principal)
        if request.method == "POST":
            return self.json_response(
                self._new_category(box, request.get_json(force=True) or {}), 201
            )
        # The master list is not paged by Graph.
        return {"value": [render(c) for c in box.categories.values()]}

    @route("/v1.0/me/outlook/masterCategories/<category_id>", methods=("GET", "PATCH", "DELETE"))
    def http_category(self, request: Request, principal: str, category_id: str) -> Any:
        box = self.mailbox(principal)
        category = get_or_404(box.categories, category_id)
        if request.method == "DELETE":
            del box.categories[category_id]
            return Response(status=204)
        if request.method == "PATCH":
            body = request.get_json(force=True) or {}
            if "displayName" in body and body["displayName"] != category["displayName"]:
                raise invalid(
                    "The displayName of a category cannot be changed.", "ErrorInvalidRequest"
                )
            if "color" in body:
                if body["color"] not in COLORS:
                    raise invalid(
                        f"The color '{body['color']}' is not valid.", "ErrorInvalidRequest"
                    )
                category["color"] = body["color"]
        return render(category)


def _color(value: str | None) -> str:
    """Graph's categoryColor enum, read case-insensitively; null means "none"."""
    color = (value or "none").lower()
    if color not in COLORS:
        raise invalid(f"The color '{value}' is not a valid categoryColor.", "ErrorInvalidRequest")
    return color
