"""Structured (JSON) logs for production: one object a line, with the user and the sync
session a record belongs to, and never a secret.

- `ContextFilter` adds `user_id` and `sync_session_id` from context variables bound by
  `RequestContextMiddleware` (the logged-in user of a web request), by Celery's task_prerun
  (the user a session task runs for) and when a SyncSession row is created in that thread.
- `scrub` removes what must never reach a log: OAuth `code` and `state` query parameters
  (callback URLs appear in Django's and gunicorn's request lines), tokens, passwords,
  client secrets and `Authorization` headers.
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

user_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("user_id", default=None)
sync_session_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "sync_session_id", default=None
)

_SECRET_PARAMS = re.compile(
    r"(?i)\b(code|state|access_token|refresh_token|id_token|client_secret|password|token)"
    r"(=|\"?\s*:\s*\"?)([^&\s\"',;]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
REDACTED = "[redacted]"


def scrub(text: str) -> str:
    """`text` with every secret value (query parameter or `key: value`) replaced."""
    text = _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "user_id", None) is None:
            record.user_id = user_id_var.get()
        if getattr(record, "sync_session_id", None) is None:
            record.sync_session_id = sync_session_id_var.get()
        return True


class JsonFormatter(_BaseJsonFormatter):
    """python-json-logger with fixed field names; the message and traceback scrubbed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level"})
        super().__init__(*args, **kwargs)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        for key, value in list(log_data.items()):
            if isinstance(value, str):
                log_data[key] = scrub(value)
        return log_data

    def formatException(self, ei: Any) -> str:
        text = super().formatException(ei)  # a list only with exc_info_as_array, never set here
        return scrub(text if isinstance(text, str) else "\n".join(text))


class ScrubbedGunicornLogger:
    """Placeholder replaced below when gunicorn is importable (the web process only)."""


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover - gunicorn is a runtime requirement
    pass
else:

    class ScrubbedGunicornLogger(_GunicornLogger):  # type: ignore[no-redef]
        """gunicorn's access log with `code`, `state` and tokens removed from the request
        line and query string (`logger_class` in deploy/gunicorn.conf.py)."""

        def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
            atoms = super().atoms(resp, req, environ, request_time)
            # Every atom: the request line, query string, referer and the environ/header
            # atoms ({raw_uri}e, {referer}i, ...) can all carry the callback's query.
            return {k: scrub(v) if isinstance(v, str) else v for k, v in atoms.items()}


class RequestContextMiddleware:
    """Binds the logged-in user's id for every log record of the request (and unbinds it,
    with any sync session id, when the request ends)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        token = user_id_var.set(user.pk if user is not None and user.is_authenticated else None)
        # A session created during an earlier request of this worker thread is not this one's.
        session_token = sync_session_id_var.set(None)
        try:
            return self.get_response(request)
        finally:
            user_id_var.reset(token)
            sync_session_id_var.reset(session_token)


def _bind_task_user(sender: Any = None, args: Any = None, kwargs: Any = None, **_: Any) -> None:
    if getattr(sender, "name", "") == "relay.run_sync_session":
        user_id = (kwargs or {}).get("user_id") or (args[0] if args else None)
        user_id_var.set(user_id if isinstance(user_id, int) else None)
        sync_session_id_var.set(None)


def _unbind_task(**_: Any) -> None:
    user_id_var.set(None)
    sync_session_id_var.set(None)


def _bind_new_session(sender: Any, instance: Any, created: bool = False, **_: Any) -> None:
    if created:
        sync_session_id_var.set(instance.pk)
        user_id_var.set(getattr(instance, "user_id", None))


def connect_signals() -> None:
    """Called once from the Celery app and accounts' AppConfig.ready()."""
    from celery.signals import task_postrun, task_prerun
    from django.db.models.signals import post_save

    task_prerun.connect(_bind_task_user, weak=False, dispatch_uid="relay.log.task_prerun")
    task_postrun.connect(_unbind_task, weak=False, dispatch_uid="relay.log.task_postrun")
    post_save.connect(
        _bind_new_session,
        sender="syncengine.SyncSession",
        weak=False,
        dispatch_uid="relay.log.session_created",
    )
