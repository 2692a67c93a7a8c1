"""The delta-query engine shared by contacts, calendarView, To Do tasks and messages.

A round starts from nothing (full state) or from a `$deltatoken`; its rows are computed once,
at the start, by comparing the collection's current versions with the versions the client
saw at the end of the previous round. Rows are then paged out with `$skiptoken` links and
the last page carries the `$deltatoken` link for the next round. Both links are absolute and
point at the emulator, as Graph's point at graph.microsoft.com.

Token state lives in the mailbox so `expire_delta_tokens` can drop it: the next use of any
link then answers 410 `syncStateNotFound`, as Outlook does when its sync state is evicted.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request

from sandbox.common import HttpError

from .odata import arg, page_size, select
from .store import DeltaState, Item, Mailbox, render

# compute(params, since_seq) -> ({id: (version, full row)}, extra ids to report as removed)
Compute = Callable[[dict[str, Any], int], tuple[dict[str, tuple[str, Item]], list[str]]]
Reason = Callable[[str], str]

DEFAULT_DELTA_PAGE = 100


def sync_state_not_found() -> HttpError:
    return HttpError(
        410,
        "syncStateNotFound",
        "The sync state generation is not found. Please restart the sync with a fresh request.",
    )


def run_delta(
    *,
    base_url: str,
    request: Request,
    mailbox: Mailbox,
    kind: str,
    scope: str,
    params: dict[str, Any],
    compute: Compute,
    reason: Reason,
    default_page: int = DEFAULT_DELTA_PAGE,
) -> dict[str, Any]:
    """Answer one delta GET (initial, `$skiptoken` or `$deltatoken`)."""
    skiptoken = arg(request, "$skiptoken")
    deltatoken = arg(request, "$deltatoken")
    token = skiptoken or deltatoken
    if token:
        state = mailbox.tokens.get(token)
        if state is None:
            raise sync_state_not_found()
        if (state.kind, state.scope) != (kind, scope):
            raise HttpError(
                400, "ErrorInvalidParameter", "The state token is for another collection."
            )
        params = state.params
    if skiptoken:
        rows = state.pending
        seen, since = state.seen, state.since_seq
    else:
        since = mailbox.seq
        current, extra_removed = compute(params, state.since_seq if deltatoken else 0)
        if deltatoken:
            rows = _changes(state.seen, current, extra_removed, reason)
        else:
            rows = [row for _, row in current.values()]
        seen = {item_id: version for item_id, (version, _) in current.items()}
    # Page size is a per-request preference (Prefer: odata.maxpagesize), not part of the state.
    size = page_size(request, default_page)
    page, rest = rows[:size], rows[size:]
    chosen = params.get("select")
    body: dict[str, Any] = {
        "@odata.context": f"{base_url}/v1.0/$metadata#Collection({kind})",
        "value": [r if "@removed" in r else render(r, chosen) for r in page],
    }
    new_token = secrets.token_urlsafe(24)
    link = f"{base_url}{request.path}"
    if rest:
        mailbox.tokens[new_token] = DeltaState(kind, scope, params, seen, since, rest)
        body["@odata.nextLink"] = f"{link}?$skiptoken={new_token}"
    else:
        mailbox.tokens[new_token] = DeltaState(kind, scope, params, seen, since)
        body["@odata.deltaLink"] = f"{link}?$deltatoken={new_token}"
    return body


def initial_params(request: Request, **extra: Any) -> dict[str, Any]:
    return {"select": select(request), **extra}


def _changes(
    seen: dict[str, str],
    current: dict[str, tuple[str, Item]],
    extra_removed: list[str],
    reason: Reason,
) -> list[Item]:
    rows = [row for item_id, (version, row) in current.items() if seen.get(item_id) != version]
    gone = [item_id for item_id in seen if item_id not in current]
    gone += [i for i in extra_removed if i not in current and i not in seen]
    rows += [{"id": item_id, "@removed": {"reason": reason(item_id)}} for item_id in gone]
    return rows
