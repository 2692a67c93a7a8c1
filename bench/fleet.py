#!/usr/bin/env python
"""Fleet benchmark: N sandbox users already synced and idle, one worker process. Prints JSON.

    python bench/fleet.py [--users 200] [--kind office365|gmail|exchange] [--threads 8]

Three processes, as in production: this one (the driver), the emulators (a separate
process, so their CPU is not the worker's), and one worker process that runs each user's
session through the Celery task's code path (`runs.run_claimed_session`: lease, session,
outcome) on `--threads` threads at once, as a Celery worker with CELERY_WORKER_POOL=threads
and CELERY_WORKER_CONCURRENCY does (config/settings/base.py). The worker first makes every
user synced (initial session, then the one that reads back its echoes), then runs one idle
round over all users and reports (the JSON's "explain" says what each figure is):
sessions per minute (wall, so read it with the load average reported beside it), CPU ms per
idle session in the worker (the process's CPU time over the round ÷ sessions, and the
median / p90 of each session's own thread CPU time), SQL queries per idle session (a
second, sequential round over a sample, counted apart so the counting does not inflate
the CPU figures) and the API calls per idle session the emulators logged. Each user has
one Salesforce contact and one mailbox contact, so "synced" is real but cheap to reach.

Profiling: BENCH_PROFILE=N prints the N top functions of the idle round (all threads
merged) by cumulative time (BENCH_PROFILE_SORT=tottime: own time) to stderr: wall time,
or CPU time with BENCH_PROFILE_CPU=1;
BENCH_PROFILE_SERVE=path dumps a cProfile of the emulators' handlers during the idle round;
BENCH_DUMP_QUERIES=1 prints the SQL of one idle session to stderr.
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

from worker_process import start_worker

ROOT = Path(__file__).resolve().parent.parent
EWS_SERVICE = ("svc-fleet", "fleet-only-password")  # the EWS emulator's throw-away account


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--kind", choices=("office365", "gmail", "exchange"), default="office365")
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # emulator process: write here
    parser.add_argument("--work", help=argparse.SUPPRESS)  # worker process: read this
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument(
        "--keep-alive",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="emulators keep connections alive, as the real APIs do (Werkzeug's server, "
        "--no-keep-alive, closes each one: a TLS handshake per call)",
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="sessions at once (default: the worker's)"
    )
    args = parser.parse_args()
    if args.serve:
        return serve(args.users, args.kind, Path(args.serve), args.keep_alive)
    if args.work:
        print(json.dumps(work(Path(args.work), args.sample, args.threads)))
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="relay-fleet-"))
    description = workdir / "stack.json"
    emulators = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(description), "--users", str(args.users),
         "--kind", args.kind, *(["--keep-alive"] if args.keep_alive else [])],
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
            [
                sys.executable,
                __file__,
                *("--work", str(description), "--sample", str(args.sample)),
                *("--threads", str(args.threads)),
            ],
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
    described = {"users": args.users, "kind": args.kind, "keep_alive": args.keep_alive}
    print(json.dumps({**described, **result}, indent=2))
    return 0


def serve(users: int, kind: str, description: Path, keep_alive: bool) -> int:
    """The emulator process: seed `users` people on both sides, describe, wait for EOF."""
    sys.path.insert(0, str(ROOT))
    import logging

    logging.disable(logging.WARNING)
    from sandbox.stack import build_stack

    stack = (keep_alive_stack if keep_alive else build_stack)(ca_dir=description.parent / "ca")
    stack.start()
    profile_to = os.environ.get("BENCH_PROFILE_SERVE")
    if profile_to:  # profile the emulators' request handling (all threads, one at a time)
        profile_emulators(Path(profile_to), description.parent / "idle-round")
    sf = stack.salesforce_app
    if kind == "exchange":  # the emulator's throw-away service account
        stack.ews_app.add_service_account(*EWS_SERVICE, can_impersonate=True)
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
        mb_access = mb_refresh = ""  # Exchange: the service account opens every mailbox
        if kind == "office365":
            stack.graph_app.add_mailbox(email, f"Fleet User{i}")
            mb_access, mb_refresh = stack.graph_app.issue_token(email)
        elif kind == "gmail":
            stack.google_app.add_account(email, f"Fleet User{i}")
            mb_access, mb_refresh = stack.google_app.issue_token(email)
        else:
            stack.ews_app.add_mailbox(email, f"Fleet User{i}")
        sf_access, sf_refresh = sf.issue_token(sf_user)
        accounts.append([email, kind, sf_user, sf_access, sf_refresh, mb_access, mb_refresh])
    payload = {
        "settings": stack.settings(),
        "urls": {
            "salesforce": stack.salesforce.base_url,
            "graph": stack.graph.base_url,
            "google": stack.google.base_url,
        },
        "control": {
            "office365": stack.graph.base_url,
            "gmail": stack.google.base_url,
            "exchange": stack.ews.base_url if stack.ews else "",
        }[kind],
        "ews_url": f"{stack.ews.base_url}/EWS/Exchange.asmx" if stack.ews else "",
        "ca_bundle": str(stack.ca.ca_bundle),
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


def keep_alive_stack(ca_dir: Path) -> Any:
    """sandbox.stack.build_stack with every emulator on the keep-alive server the EWS
    emulator uses (sandbox/ews/server.py), so connections outlive one call as with the real
    providers, and a worker that keeps them across sessions is measured as such."""
    from sandbox.common import SandboxCA
    from sandbox.ews.app import EwsEmulator
    from sandbox.ews.server import KeepAliveServer
    from sandbox.google.app import GoogleEmulator
    from sandbox.graph.app import GraphEmulator
    from sandbox.salesforce.app import SalesforceEmulator
    from sandbox.stack import SandboxStack

    ca = SandboxCA(ca_dir)
    return SandboxStack(
        ca=ca,
        salesforce=KeepAliveServer(SalesforceEmulator(), ca),
        graph=KeepAliveServer(GraphEmulator(), ca),
        google=KeepAliveServer(GoogleEmulator(), ca),
        ews=KeepAliveServer(EwsEmulator(), ca),
    )


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


def work(description: Path, sample: int, threads: int) -> dict[str, Any]:
    """The worker process: connect every user, sync them, then time an idle round."""
    stack = start_worker(description, "fleet.sqlite3")
    import requests
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from syncengine import runs

    threads = threads or settings.CELERY_WORKER_CONCURRENCY
    users = connect_users(stack)
    ca = stack["settings"].get("SALESFORCE_CA_BUNDLE") or True

    def calls(base_url: str) -> int:
        answer = requests.get(f"{base_url}/_sandbox/calls", verify=ca, timeout=30)
        return len(answer.json().get("calls", [])) if answer.ok else -1

    started = time.perf_counter()
    for _ in range(2):  # the initial session, then the one reading back its echoes
        run_round([u.pk for u in users], threads)
    setup_s = time.perf_counter() - started
    before = {"salesforce": calls(stack["salesforce"]), "mailbox": calls(stack["control"])}
    (description.parent / "idle-round").touch()
    load_before = os.getloadavg()
    cpu_started = time.process_time()
    wall_started = time.perf_counter()
    results, profile = run_round([u.pk for u in users], threads, os.environ.get("BENCH_PROFILE"))
    wall = time.perf_counter() - wall_started
    process_cpu = time.process_time() - cpu_started
    (description.parent / "idle-round").unlink()
    if profile is not None:
        profile.sort_stats(os.environ.get("BENCH_PROFILE_SORT", "cumulative"))
        profile.print_stats(int(os.environ["BENCH_PROFILE"]))
    after = {"salesforce": calls(stack["salesforce"]), "mailbox": calls(stack["control"])}
    queries: list[int] = []
    for user in users[:sample]:
        with CaptureQueriesContext(connection) as captured:
            runs.run_claimed_session(user.pk, "schedule")
        queries.append(len(captured))
        if os.environ.get("BENCH_DUMP_QUERIES") and len(queries) == 1:
            for q in captured.captured_queries:
                print(q["sql"][:160], file=sys.stderr)
    thread_ms = sorted(ms for _, ms in results)
    statuses: dict[str, int] = {}
    for status, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    n = len(users)
    return {
        "threads": threads,
        "cpus": os.cpu_count(),
        "load_average_before_idle_round": [round(x, 2) for x in load_before],
        "load_average_after_idle_round": [round(x, 2) for x in os.getloadavg()],
        "setup_s": round(setup_s, 1),
        "idle_round_wall_s": round(wall, 2),
        "sessions_per_minute": round(n / wall * 60, 1) if wall else None,
        "cpu_ms_per_idle_session": {
            "process": round(process_cpu / n * 1000, 1),
            "thread_median": round(statistics.median(thread_ms), 1),
            "thread_p90": round(thread_ms[int(0.9 * (n - 1))], 1),
        },
        "sql_queries_per_idle_session": {"median": statistics.median(queries), "max": max(queries)},
        "api_calls_per_idle_session": {
            side: round((after[side] - before[side]) / n, 2) if before[side] >= 0 else None
            for side in before
        },
        "statuses": statuses,
        "explain": EXPLAIN,
    }


EXPLAIN = {
    "keep_alive": "the emulators kept connections open between calls (as the real APIs do)",
    "threads": "sessions the worker process ran at once (CELERY_WORKER_CONCURRENCY)",
    "load_average_*": "os.getloadavg() around the idle round: wall figures need a quiet machine",
    "setup_s": "wall time of the two rounds that bring every user to idle",
    "sessions_per_minute": "users ÷ the idle round's wall time, per minute (target ≥ 1,000)",
    "cpu_ms_per_idle_session.process": "the worker process's CPU time (all threads, the "
    "Celery-less driver loop included) over the idle round ÷ users (target ≤ 60)",
    "cpu_ms_per_idle_session.thread_*": "time.thread_time of each session's own thread "
    "around runs.run_claimed_session: median and 90th percentile",
    "sql_queries_per_idle_session": "queries of one idle session through "
    "runs.run_claimed_session, over a sequential sample of --sample users (target ≤ 15)",
    "api_calls_per_idle_session": "calls the emulators logged in the idle round ÷ users: "
    "salesforce 1; mailbox 1 (Graph $batch), 4 (Google: People, Calendar, Tasks, Gmail) or "
    "4 (EWS: one SyncFolderItems per folder)",
}


def connect_users(stack: dict[str, Any]) -> list[Any]:
    """The Relay users of the seeded accounts (Exchange ones through the org's server)."""
    from sandbox.demo_users import SandboxAccount, connect_relay_user

    if not stack["accounts"] or stack["accounts"][0][1] != "exchange":
        return [
            connect_relay_user(SandboxAccount(*a), stack["urls"], stack["org_id"])
            for a in stack["accounts"]
        ]
    from accounts.models import ExchangeServerConfig
    from sandbox.exchange_users import connect_exchange_user

    config = ExchangeServerConfig.objects.create(
        ews_url=stack["ews_url"],
        username=EWS_SERVICE[0],
        password=EWS_SERVICE[1],
        auth_type="Basic",
        ca_bundle=stack["ca_bundle"],
    )
    return [
        connect_exchange_user(
            email, sf_user, (sf_access, sf_refresh), stack["salesforce"], stack["org_id"], config
        )
        for email, _, sf_user, sf_access, sf_refresh, _, _ in stack["accounts"]
    ]


def run_round(
    user_ids: list[int], threads: int, profile: str | None = None
) -> tuple[list[tuple[str, float]], Any]:
    """Every user's session through runs.run_claimed_session on `threads` threads (what a
    Celery worker with the threads pool does with its queue). Each thread closes its own
    database connection at the end, as Celery's Django fixup does after a task.
    Returns (status, thread CPU ms) per session, and the merged profile if asked."""
    import cProfile
    import pstats
    import queue
    import threading

    from django.db import connection

    from syncengine import runs

    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for user_id in user_ids:
        todo.put(user_id)
    results: list[tuple[str, float]] = []
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()
    timer = time.thread_time if os.environ.get("BENCH_PROFILE_CPU") else time.perf_counter

    def worker() -> None:
        profiler = cProfile.Profile(timer) if profile else None
        try:
            while True:
                try:
                    user_id = todo.get_nowait()
                except queue.Empty:
                    return
                cpu = time.thread_time()
                if profiler is not None:
                    profiler.enable()
                session = runs.run_claimed_session(user_id, "schedule")
                if profiler is not None:
                    profiler.disable()
                ms = (time.thread_time() - cpu) * 1000
                with lock:
                    results.append((session.status if session else "not claimed", ms))
        finally:
            connection.close()
            if profiler is not None:
                with lock:
                    profiles.append(profiler)

    pool = [threading.Thread(target=worker, name=f"fleet-{i}") for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    merged = None
    if profiles:
        merged = pstats.Stats(profiles[0], stream=sys.stderr)
        for more in profiles[1:]:
            merged.add(more)
    return results, merged


if __name__ == "__main__":
    sys.exit(main())
