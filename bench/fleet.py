#!/usr/bin/env python
"""Fleet benchmark: N sandbox users already synced and idle, one worker process. Prints JSON.

    python bench/fleet.py [--users 200] [--kind office365|gmail]

Three processes, as in production: this one (the driver), the emulators (a separate
process, so their CPU is not the worker's), and one worker process that runs each user's
session through the Celery task's code path (`runs.run_claimed_session`: lease, session,
outcome). The worker first makes every user synced (initial session, then the one that
reads back its echoes), then runs one idle round over all users and reports:
sessions per minute (wall), CPU ms per idle session in the worker (median and p90, process
time), SQL queries per idle session (a second round over a sample, counted apart so the
counting does not inflate the CPU figures) and the API calls per idle session the emulators
logged. Each user has one Salesforce contact and one mailbox contact, so "synced" is real
but cheap to reach.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--kind", choices=("office365", "gmail"), default="office365")
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # emulator process: write here
    parser.add_argument("--work", help=argparse.SUPPRESS)  # worker process: read this
    parser.add_argument("--sample", type=int, default=20)
    args = parser.parse_args()
    if args.serve:
        return serve(args.users, args.kind, Path(args.serve))
    if args.work:
        print(json.dumps(work(Path(args.work), args.sample)))
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="relay-fleet-"))
    description = workdir / "stack.json"
    emulators = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(description), "--users", str(args.users),
         "--kind", args.kind],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 600
        while not description.exists():
            if emulators.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the emulator process did not come up")
            time.sleep(0.2)
        out = subprocess.run(
            [sys.executable, __file__, "--work", str(description), "--sample", str(args.sample)],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
    finally:
        if emulators.stdin:
            emulators.stdin.close()  # the emulator process stops when its stdin closes
        emulators.wait(timeout=60)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps({"users": args.users, "kind": args.kind, **result}, indent=2))
    return 0


def serve(users: int, kind: str, description: Path) -> int:
    """The emulator process: seed `users` people on both sides, describe, wait for EOF."""
    sys.path.insert(0, str(ROOT))
    import logging

    logging.disable(logging.WARNING)
    from sandbox.stack import build_stack

    stack = build_stack(ca_dir=description.parent / "ca").start()
    profile_to = os.environ.get("BENCH_PROFILE_SERVE")
    if profile_to:  # profile the emulators' request handling (the worker is sequential)
        profile_emulators(Path(profile_to), description.parent / "idle-round")
    sf = stack.salesforce_app
    accounts = []
    seeded_at = datetime.now(UTC) - timedelta(hours=2)
    for i in range(users):
        email = f"fleet{i:05}@relay.example"
        sf_user = sf.add_user(email, f"User{i}", "Fleet", email)
        # Backdated: a real book was not all edited in the last minutes, so an idle read's
        # overlap window (adapter DEFAULT_OVERLAP) holds none of it.
        sf.set_clock(seeded_at)
        sf.create("Contact", {"LastName": f"Customer{i}", "Email": f"c{i}@x.example"}, sf_user)
        sf.set_clock(None)
        if kind == "office365":
            stack.graph_app.add_mailbox(email, f"Fleet User{i}")
            mb_access, mb_refresh = stack.graph_app.issue_token(email)
        else:
            stack.google_app.add_account(email, f"Fleet User{i}")
            mb_access, mb_refresh = stack.google_app.issue_token(email)
        sf_access, sf_refresh = sf.issue_token(sf_user)
        accounts.append([email, kind, sf_user, sf_access, sf_refresh, mb_access, mb_refresh])
    payload = {
        "settings": stack.settings(),
        "urls": {
            "salesforce": stack.salesforce.base_url,
            "graph": stack.graph.base_url,
            "google": stack.google.base_url,
        },
        "control": (stack.graph if kind == "office365" else stack.google).base_url,
        "salesforce": stack.salesforce.base_url,
        "org_id": sf.org_id,
        "accounts": accounts,
    }
    partial = description.with_suffix(".partial")
    partial.write_text(json.dumps(payload))
    partial.rename(description)
    sys.stdin.read()  # until the driver closes the pipe
    stack.stop()
    return 0


def profile_emulators(out: Path, only_while: Path) -> None:
    """cProfile the emulators' handlers while `only_while` exists (the idle round)."""
    import atexit
    import cProfile
    import threading

    from sandbox.common.app import Emulator

    profiler = cProfile.Profile()
    lock = threading.Lock()
    dispatch = Emulator._dispatch

    def profiled(self: Emulator, *args: Any, **kwargs: Any) -> Any:
        if not only_while.exists():
            return dispatch(self, *args, **kwargs)
        with lock:
            return profiler.runcall(dispatch, self, *args, **kwargs)

    Emulator._dispatch = profiled  # type: ignore[method-assign]
    atexit.register(profiler.dump_stats, str(out))


def work(description: Path, sample: int) -> dict[str, Any]:
    """The worker process: connect every user, sync them, then time an idle round."""
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = f"sqlite:///{description.parent / 'fleet.sqlite3'}"
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)
    import requests
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sandbox.demo_users import SandboxAccount, connect_relay_user
    from syncengine import runs

    stack = json.loads(description.read_text())
    for name, value in stack["settings"].items():
        setattr(settings, name, value)
    call_command("migrate", verbosity=0)
    users = [
        connect_relay_user(SandboxAccount(*a), stack["urls"], stack["org_id"])
        for a in stack["accounts"]
    ]
    ca = stack["settings"].get("SALESFORCE_CA_BUNDLE") or True

    def calls(base_url: str) -> int:
        answer = requests.get(f"{base_url}/_sandbox/calls", verify=ca, timeout=30)
        return len(answer.json().get("calls", [])) if answer.ok else -1

    started = time.perf_counter()
    for _ in range(2):  # the initial session, then the one reading back its echoes
        for user in users:
            runs.run_claimed_session(user.pk, "schedule")
    setup_s = time.perf_counter() - started
    before = {"salesforce": calls(stack["salesforce"]), "mailbox": calls(stack["control"])}
    cpu_ms: list[float] = []
    statuses: dict[str, int] = {}
    profiler = None
    if os.environ.get("BENCH_PROFILE"):  # wall-clock profile of the idle round, to stderr
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    (description.parent / "idle-round").touch()
    wall_started = time.perf_counter()
    for user in users:
        cpu = time.process_time()
        session = runs.run_claimed_session(user.pk, "schedule")
        cpu_ms.append((time.process_time() - cpu) * 1000)
        status = session.status if session else "not claimed"
        statuses[status] = statuses.get(status, 0) + 1
    wall = time.perf_counter() - wall_started
    (description.parent / "idle-round").unlink()
    if profiler is not None:
        import pstats

        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative")
        stats.print_stats(int(os.environ["BENCH_PROFILE"]))
    after = {"salesforce": calls(stack["salesforce"]), "mailbox": calls(stack["control"])}
    queries: list[int] = []
    for user in users[:sample]:
        with CaptureQueriesContext(connection) as captured:
            runs.run_claimed_session(user.pk, "schedule")
        queries.append(len(captured))
        if os.environ.get("BENCH_DUMP_QUERIES") and len(queries) == 1:
            for q in captured.captured_queries:
                print(q["sql"][:160], file=sys.stderr)
    cpu_ms.sort()
    n = len(users)
    return {
        "setup_s": round(setup_s, 1),
        "idle_round_wall_s": round(wall, 2),
        "sessions_per_minute": round(n / wall * 60, 1) if wall else None,
        "cpu_ms_per_idle_session": {
            "median": round(statistics.median(cpu_ms), 1),
            "p90": round(cpu_ms[int(0.9 * (n - 1))], 1),
        },
        "sql_queries_per_idle_session": {"median": statistics.median(queries), "max": max(queries)},
        "api_calls_per_idle_session": {
            side: round((after[side] - before[side]) / n, 2) if before[side] >= 0 else None
            for side in before
        },
        "statuses": statuses,
    }


if __name__ == "__main__":
    sys.exit(main())
