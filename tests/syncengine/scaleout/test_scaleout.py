"""Scale-out (issue 5): on Redis and PostgreSQL, two Celery worker processes and beat run
the sessions of 50 sandbox users, each fired twice at once: every user gets its sessions,
never two at the same time, nothing is duplicated and no session fails.

Where the servers come from:
- CI (`.ci/run`): DATABASE_URL names PostgreSQL and REDIS_URL/CELERY_BROKER_URL Redis;
  the test runs on pytest-django's test database (committed rows: `transactional_db`),
  which the workers and beat open through their own DATABASE_URL.
- A developer machine without DATABASE_URL (SQLite): the test starts a throw-away
  PostgreSQL cluster (initdb/pg_ctl) and, without REDIS_URL, a throw-away redis-server,
  then runs itself again in a pytest subprocess pointed at them. Neither found: it fails
  and says what to install; it never skips.

The workers get a queue of their own (CELERY_TASK_DEFAULT_QUEUE), so a shared Redis and a
`make run` worker on the same machine neither steal nor receive the test's tasks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import logging
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from . import infra

# transaction=True: rows are committed, so the workers see them (on SQLite the test only
# reruns itself on a throw-away PostgreSQL).
pytestmark = [pytest.mark.scaleout, pytest.mark.django_db(transaction=True)]

USERS = 50
CONTACTS, TASKS, EVENTS = 3, 2, 2
FIRINGS = 2  # each user's session is fired twice at once
WAIT_SECONDS = 180
TASK_LINE = re.compile(
    r"Task (relay\.\w+)\[([0-9a-f-]+)\] (?:succeeded in [\d.]+s: (\S+)|raised (.*))"
)


def test_two_workers_and_beat_sync_50_users_fired_twice_never_overlapping(
    request, tmp_path, record_testsuite_property, caplog
):
    caplog.set_level(logging.WARNING, logger="werkzeug")  # the emulators log every request
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        rerun_on_throwaway_postgres(request)
        return
    with infra.redis_url() as broker:
        outcome = scale_out(broker, tmp_path)
    record_testsuite_property("scaleout", json.dumps(outcome))  # in CI's junit file
    print("scale-out:", json.dumps(outcome))


def rerun_on_throwaway_postgres(request) -> None:
    with infra.throwaway_postgres() as db_url, infra.redis_url() as broker:
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "REDIS_URL": broker,
            "CELERY_BROKER_URL": broker,
            "PYTEST_ADDOPTS": "",
        }
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                request.node.nodeid,
                "-q",
                "-s",
                "-p",
                "no:cacheprovider",
            ],
            cwd=infra.ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    print(done.stdout[-3000:])
    assert done.returncode == 0, (
        f"the scale-out test on a throw-away PostgreSQL failed:\n{done.stdout[-12000:]}"
        f"\n{done.stderr[-4000:]}"
    )


# -- the run -----------------------------------------------------------------------------------


def scale_out(broker: str, tmp_path: Path) -> dict[str, Any]:
    from celery import Celery
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from sandbox.stack import build_stack

    queue = f"relay-scaleout-{uuid.uuid4().hex[:8]}"
    stack = build_stack(ca_dir=tmp_path / "ca").start()
    procs = infra.Processes(tmp_path, {})
    client = Celery("relay-scaleout-client", broker=broker)
    try:
        users = seed_users(stack)
        dispatch = PeriodicTask.objects.create(
            name=f"Scale-out test: dispatch once ({queue})",
            task="relay.dispatch_due_sessions",
            interval=IntervalSchedule.objects.create(every=2, period=IntervalSchedule.SECONDS),
            one_off=True,
            queue=queue,
        )
        procs.env = worker_env(stack, broker, queue)
        common = ["-Q", queue, "--concurrency", "2", "-l", "info"]
        quiet = ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        for n in (1, 2):
            procs.start(f"worker{n}", "worker", *common, *quiet, "-n", f"scaleout{n}-{queue}@%h")
        procs.start(
            "beat",
            "beat",
            "-l",
            "info",
            "--pidfile",
            str(tmp_path / "beat.pid"),
            "-s",
            str(tmp_path / "beat-schedule"),
        )

        started = time.monotonic()
        for user in users:  # both firings of a user back to back: they meet in the workers
            for _ in range(FIRINGS):
                client.send_task("relay.run_sync_session", args=[user.pk, "manual"], queue=queue)

        wait_until_drained(procs, broker, queue, users)
        elapsed = time.monotonic() - started
        procs.stop()  # a warm shutdown: nothing runs while the results are read
        outcomes = task_outcomes(procs)
        dispatch.refresh_from_db()
        return check(stack, users, outcomes, procs, dispatch, elapsed)
    finally:
        procs.stop()
        client.close()
        stack.stop()
        purge_queue(broker, queue)


def seed_users(stack: Any) -> list[Any]:
    """50 users, every other one on Office 365 and Gmail, a few records each."""
    from django.utils import timezone

    from sandbox.demo_users import SandboxAccount, connect_relay_user

    sf = stack.salesforce_app
    urls = {
        "salesforce": stack.salesforce.base_url,
        "graph": stack.graph.base_url,
        "google": stack.google.base_url,
    }
    now = timezone.now()
    users = []
    for i in range(USERS):
        kind = "office365" if i % 2 == 0 else "gmail"
        email = f"user{i:02d}@scale.example"
        me = sf.add_user(email, f"User{i:02d}", "Scale")
        sf_access, sf_refresh = sf.issue_token(me)
        if kind == "office365":
            stack.graph_app.add_mailbox(email, f"User {i}")
            mb_access, mb_refresh = stack.graph_app.issue_token(email)
        else:
            stack.google_app.add_account(email, f"User {i}")
            mb_access, mb_refresh = stack.google_app.issue_token(email)
        for j in range(CONTACTS):
            sf.create("Contact", {"LastName": f"C{j} of {i}", "Email": f"c{j}.u{i}@ex.com"}, me)
        for j in range(TASKS):
            due = (now + dt.timedelta(days=j + 1)).date().isoformat()
            fields = {"Subject": f"T{j} of {i}", "Status": "Not Started", "ActivityDate": due}
            sf.create("Task", {**fields, "Priority": "Normal"}, me)
        for j in range(EVENTS):
            start = (now + dt.timedelta(days=j + 1)).replace(microsecond=0)
            sf.create(
                "Event",
                {
                    "Subject": f"E{j} of {i}",
                    "StartDateTime": sf_stamp(start),
                    "EndDateTime": sf_stamp(start + dt.timedelta(hours=1)),
                },
                me,
            )
        account = SandboxAccount(email, kind, me, sf_access, sf_refresh, mb_access, mb_refresh)
        user = connect_relay_user(account, urls, sf.org_id)
        user.sf_id, user.kind = me, kind
        users.append(user)
    return users


def sf_stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def worker_env(stack: Any, broker: str, queue: str) -> dict[str, str]:
    return {
        **os.environ,
        **stack.settings(),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": infra.database_url(connection.settings_dict),  # the test database
        "REDIS_URL": broker,
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        # Tokens were encrypted here: the workers must decrypt them with the same key.
        "RELAY_TEST_ENCRYPTION_KEYS": ",".join(settings.RELAY_ENCRYPTION_KEYS),
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


# -- waiting and reading the outcome -----------------------------------------------------------


def task_outcomes(procs: infra.Processes) -> dict[str, dict[str, str]]:
    """{task name: {task id: return value or "raised …"}} from the workers' info logs."""
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for name in procs.running:
        for m in TASK_LINE.finditer(procs.log(name)):
            out[m.group(1)][m.group(2)] = m.group(3) if m.group(3) else f"raised {m.group(4)}"
    return out


def queue_busy(broker: str, queue: str) -> int:
    """Messages of our queue waiting or delivered and not yet acknowledged (acks_late)."""
    import redis

    r = redis.Redis.from_url(broker)
    waiting = r.llen(queue)
    unacked = 0
    for raw in r.hvals("unacked"):
        try:
            if json.loads(raw)[-1] == queue:
                unacked += 1
        except (ValueError, IndexError, TypeError):
            continue
    return waiting + unacked


def purge_queue(broker: str, queue: str) -> None:
    import redis

    with contextlib.suppress(redis.RedisError):
        redis.Redis.from_url(broker).delete(queue)


def wait_until_drained(procs: infra.Processes, broker: str, queue: str, users: list) -> None:
    """Every firing and the dispatcher's own ran, and the queue stayed empty for 2 s."""
    from syncengine.models import SyncSession

    deadline = time.monotonic() + WAIT_SECONDS
    quiet_since = None
    while time.monotonic() < deadline:
        if procs.dead():
            pytest.fail(f"scale-out: {procs.dead()} exited early\n{procs.tails()}")
        outcomes = task_outcomes(procs)
        dispatched = [
            int(v) for v in outcomes["relay.dispatch_due_sessions"].values() if v.isdigit()
        ]
        expected = USERS * FIRINGS + sum(dispatched)
        done = (
            dispatched
            and len(outcomes["relay.run_sync_session"]) >= expected
            and queue_busy(broker, queue) == 0
            and not SyncSession.objects.filter(status=SyncSession.Status.RUNNING).exists()
        )
        if done:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= 2:
                return
        else:
            quiet_since = None
        time.sleep(0.5)
    outcomes = task_outcomes(procs)
    pytest.fail(
        f"scale-out: not drained within {WAIT_SECONDS} s: "
        f"{len(outcomes['relay.run_sync_session'])} sessions tasks ran, dispatcher:"
        f" {dict(outcomes['relay.dispatch_due_sessions'])}, queue: {queue_busy(broker, queue)}"
        f"\n{procs.tails()}"
    )


def check(stack, users, outcomes, procs, dispatch, elapsed) -> dict[str, Any]:
    from syncengine.models import SyncLink, SyncSession

    for name in procs.running:
        assert "Traceback" not in procs.log(name), procs.tails(80)
    runs = outcomes["relay.run_sync_session"]
    raised = {k: v for k, v in runs.items() if v.startswith("raised")}
    assert not raised, raised
    (dispatched,) = (int(v) for v in outcomes["relay.dispatch_due_sessions"].values())
    assert not dispatch.enabled  # beat sent it, once (a one-off task turns itself off)
    assert len(runs) == USERS * FIRINGS + dispatched

    ran_ids = {int(v) for v in runs.values() if v != "None"}
    refused = sum(1 for v in runs.values() if v == "None")
    sessions = list(SyncSession.objects.filter(user__in=users).order_by("user_id", "started_at"))
    assert {s.pk for s in sessions} == ran_ids
    failed = [(s.user_id, s.status, s.error) for s in sessions if s.status != "succeeded"]
    assert not failed, failed

    per_user: dict[int, list[Any]] = defaultdict(list)
    for s in sessions:
        per_user[s.user_id].append(s)
    overlaps = [
        (uid, a.pk, b.pk)
        for uid, rows in per_user.items()
        for a, b in itertools.pairwise(rows)
        if b.started_at < a.finished_at
    ]
    assert not overlaps, overlaps
    assert all(per_user[u.pk] for u in users), [u.email for u in users if not per_user[u.pk]]

    for user in users:
        expected = {"contact": CONTACTS, "task": TASKS, "event": EVENTS}
        mailbox = mailbox_ids(stack, user)
        for item_type, n in expected.items():
            links = SyncLink.objects.filter(user=user, item_type=item_type)
            sf_ids = list(links.values_list("sf_id", flat=True))
            mb_ids = list(links.values_list("mailbox_id", flat=True))
            assert len(sf_ids) == n, (user.email, item_type, sf_ids)
            assert len(set(sf_ids)) == len(set(mb_ids)) == n, (user.email, item_type)
            assert len(mailbox[item_type]) == n, (user.email, item_type, mailbox[item_type])
            assert set(mailbox[item_type]) == set(mb_ids), (user.email, item_type)
            sobject = item_type.capitalize()
            in_sf = stack.salesforce_app.query(
                f"SELECT Id FROM {sobject} WHERE OwnerId = '{user.sf_id}'"
            )
            assert {r["Id"] for r in in_sf} == set(sf_ids), (user.email, item_type)

    counts = Counter(len(rows) for rows in per_user.values())
    return {
        "users": USERS,
        "fired": USERS * FIRINGS,
        "dispatched_by_beat": dispatched,
        "tasks_run": len(runs),
        "sessions": len(sessions),
        "refused_another_session_running": refused,
        "sessions_per_user": {str(k): v for k, v in sorted(counts.items())},
        "sessions_by_trigger": dict(Counter(s.trigger for s in sessions)),
        "overlaps": len(overlaps),
        "seconds_from_firing_to_drained": round(elapsed, 1),
    }


def mailbox_ids(stack: Any, user: Any) -> dict[str, list[str]]:
    """The ids of the items in the user's Salesforce containers, per item type."""
    from django.utils import timezone

    from syncengine.models import MailboxContainer

    role = dict(MailboxContainer.objects.filter(user=user).values_list("role", "external_id"))
    email = user.email
    if user.kind == "office365":
        graph = stack.graph_app
        box = graph.mailbox(email)
        now = timezone.now()
        events = graph.calendar_view(
            email, now - dt.timedelta(days=30), now + dt.timedelta(days=90)
        )
        return {
            "contact": [c["id"] for c in graph.contacts_in(email, role["contacts"])],
            "task": [t["id"] for t in box.tasks.values() if t["_list"] == role["tasks"]],
            "event": [e["id"] for e in events if "Salesforce" in (e.get("categories") or [])],
        }
    google = stack.google_app
    contacts = [
        p["resourceName"]
        for p in google.contacts(email)
        if any(
            (m.get("contactGroupMembership") or {}).get("contactGroupResourceName")
            == role["contacts"]
            for m in p.get("memberships") or ()
        )
    ]
    events = [
        e["id"]
        for e in google.events(email)
        if ((e.get("extendedProperties") or {}).get("private") or {}).get("relaySalesforce")
    ]
    tasks = [t["id"] for t in google.tasks_of(email, role["tasks"]) if not t.get("deleted")]
    return {"contact": contacts, "task": tasks, "event": events}
