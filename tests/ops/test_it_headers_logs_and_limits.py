"""Production headers, request limits and logs (SPEC §8, §10)."""

import io
import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.test import override_settings

from config.log import ContextFilter, JsonFormatter, scrub, user_id_var

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def test_it_sends_a_content_security_policy(client):
    response = client.get("/accounts/login/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    # The page's style is a same-origin file the policy allows, not an inline <style>.
    page = response.content.decode()
    assert "<style" not in page and "/static/relay/relay.css" in page


def production_value(expression: str, **env: str) -> str:
    code = f"import config.settings.production as s; print({expression})"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_it_keeps_hsts_preload_off_unless_the_operator_opts_in():
    assert production_value("s.SECURE_HSTS_PRELOAD") == "False"
    assert production_value("s.SECURE_HSTS_PRELOAD", DJANGO_SECURE_HSTS_PRELOAD="true") == "True"
    assert production_value("s.ACCOUNT_EMAIL_VERIFICATION") == "mandatory"


def test_it_refuses_an_oversized_post_with_a_clear_message(user_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = user_client.post("/settings/detailed/", {"blocklist": "x" * 20_000})
    assert response.status_code == 413
    assert "larger than Relay accepts (9 KB at most per form)" in response.content.decode()


def test_it_refuses_a_per_process_cache_in_production():
    from accounts.checks import production_problems

    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    ):
        problems = {p.id: p for p in production_problems()}
    assert "relay.E006" in problems
    assert "REDIS_URL" in problems["relay.E006"].hint


def test_it_strips_oauth_codes_and_tokens_from_log_lines():
    line = (
        "GET /connect/gmail/callback/?state=s3cr3tstate&code=4/0AbCdEf&scope=email HTTP/1.1 "
        '{"access_token": "ya29.tok", "refresh_token":"1//rt"} Authorization: Bearer eyJhbGc.x.y'
    )
    cleaned = scrub(line)
    for secret in ("s3cr3tstate", "4/0AbCdEf", "ya29.tok", "1//rt", "eyJhbGc"):
        assert secret not in cleaned
    assert "scope=email" in cleaned
    assert "/connect/gmail/callback/" in cleaned


def test_it_writes_json_records_with_the_user_and_no_secret():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("relay.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    token = user_id_var.set(42)
    try:
        logger.warning("callback failed: /connect/salesforce/callback/?code=abc123&state=xyz")
    finally:
        user_id_var.reset(token)
        logger.removeHandler(handler)
    record = json.loads(stream.getvalue())
    assert record["user_id"] == 42
    assert record["level"] == "WARNING"
    assert "abc123" not in record["message"] and "xyz" not in record["message"]


def test_it_scrubs_the_gunicorn_access_log():
    from gunicorn.config import Config

    from config.log import ScrubbedGunicornLogger

    query = "code=c0de-value&state=st4te-value&scope=email"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/connect/gmail/callback/?{query}",
        "PATH_INFO": "/connect/gmail/callback/",
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"https://127.0.0.1/connect/gmail/callback/?{query}",
    }
    response = SimpleNamespace(status="302 Found", sent=0, headers=[])
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    atoms = ScrubbedGunicornLogger(Config()).atoms(
        response, request, environ, timedelta(milliseconds=5)
    )
    assert (
        atoms["r"]
        == "GET /connect/gmail/callback/?code=[redacted]&state=[redacted]&scope=email HTTP/1.1"
    )
    for key, value in atoms.items():
        assert "c0de-value" not in str(value) and "st4te-value" not in str(value), key


def test_it_tags_log_records_with_the_session_being_run(user):
    import contextvars

    from syncengine.models import SyncSession

    seen = {}

    def task():
        session = SyncSession.objects.create(user=user, trigger=SyncSession.Trigger.SCHEDULE)
        record = logging.LogRecord("relay", logging.INFO, __file__, 1, "step", None, None)
        ContextFilter().filter(record)
        seen.update(session=session.pk, record=(record.user_id, record.sync_session_id))

    contextvars.Context().run(task)  # an empty context, as a worker thread starts with
    assert seen["record"] == (user.pk, seen["session"])
