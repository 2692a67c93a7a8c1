#!/usr/bin/env python
"""Sync benchmark: one user, a seeded org, each mailbox kind, three phases. Prints JSON.

    python bench/sync_bench.py [--contacts 5000] [--tasks 1000] [--events 1000]

For each kind (office365, gmail, exchange) a fresh process (so peak memory is that kind's) seeds the
sandbox emulators for one user, connects a Relay user to them, and runs three sessions:
`initial`, `after_initial` (the next session, which reads back the echoes of the initial
writes), `idle` (30 minutes later, nothing changed) and `changes` (after 1 % of the records
changed on each side). Each phase reports wall time, the process's peak RSS so
far, the API calls each emulator logged for the user, and the lower bound from the issue:
⌈N/2000⌉ Salesforce reads and ⌈N/200⌉ writes; ⌈N/20⌉ Graph batches; ⌈N/200⌉ People
batches and ⌈N/1000⌉ Calendar or Tasks batches (Google batches cannot mix APIs); an idle
session 1 Salesforce call and 1 Graph call or 4 Google calls (People, Calendar, Tasks and
Gmail history).

Each kind runs at latency 0 (CPU only) and at the realistic latency model (`--latency`):
per call `base + per_sub_request * inner requests`, values and their sources in
sandbox/FIDELITY.md ("Latency values the benchmark uses"). Each phase then also reports
`wall_bound_s`: the calls the emulators logged, each at its modelled latency (the call's
time at the server, the emulator's own work included; `server_s` per service says how much
of it the emulators worked, sandbox/FIDELITY.md), divided by the
concurrency the service allows one user (Graph 4 per mailbox; Google 1 per API, as it asks
for one user's People mutations to be sequential and documents no other limit but Gmail's
unpublished one, its APIs being separate services that a client may use at once — the
bound is its busiest API's; Salesforce: its reads one at a time — a query's pages follow
one another, and the writes wait for them — and its sObject Collections writes
SALESFORCE_WRITE_CONCURRENCY at once, short requests being uncapped) — the wall time no
client could beat with these calls. Peak RSS includes the
emulators, which run in the same process.

Per phase the JSON also says `cpu_s` (CPU seconds of the process, engine and emulators and
all their threads: load does not distort it), `load_1min` (the load average before and
after: a wall time taken on a loaded machine is CPU starvation), `ratio` (wall / bound, the
issue's target is ≤ 1.3 for the initial session) and per service its calls, inner
requests, bound and peak requests in flight against what the bound allows. `--phases
initial` stops after that phase; BENCH_PROFILE=<phase> prints a cProfile of the session's
own thread to stderr, BENCH_TIMELINE=1 each logged call (end time in the phase, service,
inner requests, status, path), to find where the calls wait for the engine.

Exchange (EWS): writes in CreateItem/UpdateItem calls of ≤100 items (the
adapter's chunk) per type, and an idle session 4 SyncFolderItems calls (one per folder: EWS
cannot batch them); Basic auth, so each call is one HTTP request. At the realistic model an
EWS call costs a base plus a part per item it carries, and the bound allows 10 in flight
(EWSMaxConcurrency, sandbox/FIDELITY.md).

Events carry 0 to 5 attendees (EventRelation invitees: Contacts, Leads and colleagues), so
the initial session also writes the meetings' people; the bounds do not grow with them
(relations must ride the event writes, not add a call per event).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("office365", "gmail", "exchange")
USER_EMAIL = "bench@relay.example"
# (base s, s per inner request) per emulator; see sandbox/FIDELITY.md for the sources.
REALISTIC = {
    "salesforce": (0.2, 0.002),
    "graph": (0.25, 0.01),
    "google": (0.25, 0.002),
    "ews": (0.25, 0.005),
}
# Requests one user may have in flight, as the bound assumes (see the docstring).
ALLOWED_CONCURRENCY = {"salesforce": 1, "graph": 4, "google": 1, "ews": 10}


def salesforce_writes_at_once() -> int:
    """Collections calls Relay sends at once (its setting; Django is set up by then)."""
    from django.conf import settings

    return int(settings.SALESFORCE_WRITE_CONCURRENCY)


FLEET_KINDS = ("office365", "gmail")  # bench/fleet.py's kinds
MODELS = ("zero", "realistic")
PHASES = ("initial", "after_initial", "idle", "changes")
LAST_PHASE = len(PHASES) - 1  # --phases: the worker stops after this one


def stop_after(name: str) -> bool:
    return PHASES.index(name) >= LAST_PHASE


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--latency", default=",".join(MODELS), help="zero,realistic")
    parser.add_argument("--fleet", type=int, default=0, help="also run the fleet phase (users)")
    parser.add_argument(
        "--phases", default=",".join(PHASES), help="phases to run (the later need the earlier)"
    )
    parser.add_argument("--worker", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--model", choices=MODELS, default="zero", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        global LAST_PHASE
        LAST_PHASE = max(PHASES.index(p) for p in args.phases.split(","))
        out = run_kind(args.worker, args.contacts, args.tasks, args.events, args.model)
        print(json.dumps(out))
        return 0
    result: dict[str, Any] = {}
    models = [m for m in args.latency.split(",") if m]  # --latency "" with --fleet: fleet only
    for kind, model in [(k, m) for k in args.kinds.split(",") for m in models]:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--worker",
                kind,
                "--contacts",
                str(args.contacts),
                "--tasks",
                str(args.tasks),
                "--events",
                str(args.events),
                "--phases",
                args.phases,
                "--model",
                model,
            ],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        result.setdefault(kind, {})[f"latency_{model}"] = json.loads(
            out.stdout.strip().splitlines()[-1]
        )
    if args.fleet:
        for kind in [k for k in args.kinds.split(",") if k in FLEET_KINDS]:
            fleet = subprocess.run(
                [sys.executable, str(ROOT / "bench" / "fleet.py"), "--users", str(args.fleet),
                 "--kind", kind],
                check=True, capture_output=True, text=True, cwd=ROOT,
            )  # fmt: skip
            result.setdefault(kind, {})["fleet"] = json.loads(fleet.stdout)
    print(json.dumps(result, indent=2))
    return 0


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def call_seconds(name: str, record: Any) -> float:
    """A logged call's time at the server: its modelled latency (a plain call's record says
    units=1; only a batch's inner requests add time), which includes the emulator's own
    work — or that work, when the emulator was slower than its model."""
    base, per_sub = REALISTIC[name]
    return max(base + per_sub * (record.units if record.units > 1 else 0), record.server_s)


def service_bound_s(name: str, records: list[Any]) -> float:
    """Σ modelled latency of one emulator's logged calls ÷ the concurrency allowed (but never
    less than its slowest single call, which cannot be split). Google's allowance is one
    call at a time per API (`ALLOWED_CONCURRENCY` is per API there): its APIs are
    separate services, so the bound is that of its busiest API."""
    if name == "google":
        from sandbox.google.batch import api_of_request

        by_api: dict[str, list[Any]] = {}
        for r in records:
            by_api.setdefault(api_of_request(r.path) or "other", []).append(r)
        return max((_bound_s(name, group) for group in by_api.values()), default=0.0)
    return _bound_s(name, records)


def _bound_s(name: str, records: list[Any]) -> float:
    each = [call_seconds(name, r) for r in records]
    if name == "salesforce":  # Collections writes go several at once, the reads do not
        writes = sum(s for s, r in zip(each, records, strict=True) if _sf_write(r))
        total = sum(each) - writes + writes / salesforce_writes_at_once()
        return max(total, max(each, default=0.0))
    return max(sum(each) / ALLOWED_CONCURRENCY[name], max(each, default=0.0))


def _sf_write(record: Any) -> bool:
    return record.method != "GET" and "/composite/sobjects" in record.path


def wall_bound_s(calls: dict[str, list[Any]]) -> float:
    """Per emulator, Σ modelled latency of the logged calls ÷ the concurrency allowed (but
    never less than its slowest single call, which cannot be split), summed."""
    return round(sum(service_bound_s(name, records) for name, records in calls.items()), 2)


def cpu_s() -> float:
    """CPU seconds of this process (the engine and the in-process emulators, all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed_session(name: str, run: Any) -> tuple[Any, dict[str, Any]]:
    """Run one phase's session (profiled when BENCH_PROFILE names the phase): the session
    and its wall / CPU seconds and the load average around it."""
    profiler = cProfile.Profile() if os.environ.get("BENCH_PROFILE") == name else None
    load_before = os.getloadavg()[0]
    cpu_before, started, epoch = cpu_s(), time.perf_counter(), time.time()
    if profiler:
        profiler.enable()
    session = run()
    wall = time.perf_counter() - started
    cpu = cpu_s() - cpu_before
    if profiler:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumtime").print_stats(60)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(30)
    figures = {
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "_epoch": epoch,
    }
    return session, figures


def phase_report(
    figures: dict[str, Any],
    logged: dict[str, list[Any]],
    peaks: dict[str, int],
    model: str,
) -> dict[str, Any]:
    """The figures every phase reports: the bound (realistic model only), the ratio
    wall / bound, and per service its calls, bound and peak requests in flight."""
    realistic = model == "realistic"
    epoch = figures.pop("_epoch")
    if os.environ.get("BENCH_TIMELINE"):  # each call: end time in the phase, service, path
        for name, records in logged.items():
            for r in records:
                print(f"{r.at - epoch:8.2f} {name:10} {r.units:5} {r.status} {r.path[:90]}",
                      file=sys.stderr)  # fmt: skip
    bound = wall_bound_s(logged) if realistic else 0.0
    services = {
        name: {
            "calls": len(records),
            "inner_requests": sum(max(1, r.units) for r in records),
            **({"bound_s": round(service_bound_s(name, records), 2)} if realistic else {}),
            # the emulator's own work on them (inside the modelled latency when realistic)
            "server_s": round(sum(r.server_s for r in records), 2),
            "allowed_in_flight": (
                salesforce_writes_at_once() if name == "salesforce" else ALLOWED_CONCURRENCY[name]
            ),
            "peak_in_flight": peaks.get(name, 0),
        }
        for name, records in logged.items()
    }
    return {
        **figures,
        "wall_bound_s": bound,
        **({"ratio": round(figures["wall_s"] / bound, 2)} if bound else {}),
        "services": services,
    }


def run_kind(
    kind: str, contacts: int, tasks: int, events: int, model: str = "zero"
) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    workdir = Path(tempfile.mkdtemp(prefix=f"relay-bench-{kind}-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)  # werkzeug logs every request
    from django.conf import settings
    from django.core.management import call_command

    from sandbox.demo_users import SandboxAccount, connect_relay_user
    from sandbox.stack import build_stack
    from syncengine.session import run_session

    call_command("migrate", verbosity=0)
    stack = build_stack(ca_dir=workdir / "ca").start()
    for name, value in stack.settings().items():
        setattr(settings, name, value)
    now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    apps = (stack.salesforce_app, stack.graph_app, stack.google_app, stack.ews_app)

    def set_clock(when: datetime) -> None:
        for app in apps:
            app.set_clock(when)

    set_clock(now)
    sf = stack.salesforce_app
    sf_user = sf.add_user(USER_EMAIL, "Bench", "Ben", USER_EMAIL)
    seeded = seed_salesforce(sf, sf_user, now, contacts, tasks, events)
    if kind == "exchange":
        if model == "realistic":
            sf.set_latency(*REALISTIC["salesforce"])
            stack.ews_app.set_latency(*REALISTIC["ews"])
        return run_exchange(
            stack, sf, sf_user, seeded, now, phase_runner(stack, apps, set_clock, sf_user, model)
        )
    if kind == "office365":
        stack.graph_app.add_mailbox(USER_EMAIL, "Ben Bench")
        mb_access, mb_refresh = stack.graph_app.issue_token(USER_EMAIL)
        mailbox_app = stack.graph_app
    else:
        stack.google_app.add_account(USER_EMAIL, "Ben Bench")
        mb_access, mb_refresh = stack.google_app.issue_token(USER_EMAIL)
        mailbox_app = stack.google_app
    sf_access, sf_refresh = sf.issue_token(sf_user)
    user = connect_relay_user(
        SandboxAccount(USER_EMAIL, kind, sf_user, sf_access, sf_refresh, mb_access, mb_refresh),
        {
            "salesforce": stack.salesforce.base_url,
            "graph": stack.graph.base_url,
            "google": stack.google.base_url,
        },
        sf.org_id,
    )

    mailbox_name = "graph" if kind == "office365" else "google"
    if model == "realistic":
        sf.set_latency(*REALISTIC["salesforce"])
        mailbox_app.set_latency(*REALISTIC[mailbox_name])

    def peak() -> int:
        if kind == "office365":
            return int(mailbox_app.peak_in_flight(USER_EMAIL))
        return max(
            mailbox_app.peak_in_flight_for(USER_EMAIL, api)
            for api in ("people", "calendar", "tasks", "gmail")
        )

    def phase(name: str, when: datetime, bound: dict[str, int]) -> dict[str, Any]:
        set_clock(when)
        for app in apps:
            app.clear_calls()
            app.reset_peak_in_flight()
        session, figures = timed_session(name, lambda: run_session(user, "manual", now=when))
        with sf.lock, mailbox_app.lock:
            logged = {
                "salesforce": [c for c in sf.calls if c.principal == sf_user],
                mailbox_name: [c for c in mailbox_app.calls if c.principal == USER_EMAIL],
            }
        peaks = {"salesforce": sf.peak_in_flight(sf_user), mailbox_name: peak()}
        return {
            **phase_report(figures, logged, peaks, model),
            "peak_in_flight": peak(),
            "peak_rss_mb": peak_rss_mb(),
            "status": session.status,
            **({"error": session.error} if session.error else {}),
            "calls": {
                "salesforce": sf.call_count(sf_user),
                "mailbox": mailbox_app.call_count(USER_EMAIL),
            },
            "lower_bound": bound,
        }

    out: dict[str, Any] = {}
    idle_mailbox = 1 if kind == "office365" else 4
    initial_mailbox = mailbox_write_bound(
        kind, {"Contact": contacts, "Task": tasks, "Event": events}
    )
    out["initial"] = phase(
        "initial",
        now,
        {
            "salesforce": sum(math.ceil(n / 2000) for n in (contacts, tasks, events)),
            "mailbox": initial_mailbox,
        },
    )
    if stop_after("initial"):
        stack.stop()
        return out
    # The first session after a bulk load reads back the echoes of its own writes (Graph
    # delta and Google sync tokens replay them; Salesforce's cursor overlap re-reads rows
    # stamped in its last 2 minutes once), so it is reported apart from a truly idle one.
    settle_at = now + timedelta(minutes=30)
    out["after_initial"] = phase(
        "after_initial", settle_at, {"salesforce": 1, "mailbox": idle_mailbox}
    )
    later = settle_at + timedelta(minutes=30)
    if not stop_after("after_initial"):
        out["idle"] = phase("idle", later, {"salesforce": 1, "mailbox": idle_mailbox})
    if stop_after("idle"):
        stack.stop()
        return out
    changed = change_one_percent(stack, kind, sf, seeded, later + timedelta(minutes=5))
    sf_writes = sum(math.ceil(n / 200) for n in changed["mailbox"].values() if n)
    out["changes"] = phase(
        "changes",
        later + timedelta(minutes=30),
        {
            "salesforce": 1 + sf_writes,
            "mailbox": idle_mailbox + mailbox_write_bound(kind, changed["salesforce"]),
        },
    )
    stack.stop()
    return out


def phase_runner(stack: Any, apps: Any, set_clock: Any, sf_user: str, model: str) -> Any:
    """A `phase(name, when, bound, user)` for the Exchange run (the EWS emulator's calls)."""
    from syncengine.session import run_session

    def phase(name: str, when: datetime, bound: dict[str, int], user: Any) -> dict[str, Any]:
        set_clock(when)
        for app in apps:
            app.clear_calls()
            app.reset_peak_in_flight()
        session, figures = timed_session(name, lambda: run_session(user, "manual", now=when))
        sf, ews = stack.salesforce_app, stack.ews_app
        with sf.lock, ews.lock:
            logged = {
                "salesforce": [c for c in sf.calls if c.principal == sf_user],
                "ews": list(ews.calls),  # one mailbox; EWS logs on per call (no principal)
            }
        peaks = {"salesforce": sf.peak_in_flight(sf_user), "ews": ews.peak_in_flight(USER_EMAIL)}
        return {
            **phase_report(figures, logged, peaks, model),
            "peak_rss_mb": peak_rss_mb(),
            "status": session.status,
            **({"error": session.error} if session.error else {}),
            "calls": {
                "salesforce": stack.salesforce_app.call_count(sf_user),
                "mailbox": stack.ews_app.call_count(),
                "mailbox_operations": stack.ews_app.operation_counts(),
            },
            "lower_bound": bound,
        }

    return phase


def run_exchange(
    stack: Any, sf: Any, sf_user: str, seeded: dict[str, list[str]], now: datetime, phase: Any
) -> dict[str, Any]:
    from accounts.models import ExchangeServerConfig
    from sandbox.exchange_users import connect_exchange_user

    stack.ews_app.add_service_account("svc-bench", "bench-only-password", can_impersonate=True)
    stack.ews_app.add_mailbox(USER_EMAIL, "Ben Bench")
    config = ExchangeServerConfig.objects.create(
        ews_url=f"{stack.ews.base_url}/EWS/Exchange.asmx",
        username="svc-bench",
        password="bench-only-password",  # the emulator's throw-away account
        auth_type="Basic",
        ca_bundle=str(stack.ca.ca_bundle),
    )
    user = connect_exchange_user(
        USER_EMAIL, sf_user, sf.issue_token(sf_user), stack.salesforce.base_url, sf.org_id, config
    )
    counts = {k: len(v) for k, v in seeded.items()}
    out: dict[str, Any] = {}
    out["initial"] = phase(
        "initial",
        now,
        {
            "salesforce": sum(math.ceil(n / 2000) for n in counts.values()),
            "mailbox": mailbox_write_bound("exchange", counts),
        },
        user,
    )
    settle_at = now + timedelta(minutes=30)
    later = settle_at + timedelta(minutes=30)
    for name, when in (("after_initial", settle_at), ("idle", later)):
        if stop_after(PHASES[PHASES.index(name) - 1]):
            stack.stop()
            return out
        out[name] = phase(name, when, {"salesforce": 1, "mailbox": 4}, user)
    if stop_after("idle"):
        stack.stop()
        return out
    changed = change_one_percent(stack, "exchange", sf, seeded, later + timedelta(minutes=5))
    sf_writes = sum(math.ceil(n / 200) for n in changed["mailbox"].values() if n)
    out["changes"] = phase(
        "changes",
        later + timedelta(minutes=30),
        {
            "salesforce": 1 + sf_writes,
            "mailbox": 4 + mailbox_write_bound("exchange", changed["salesforce"]),
        },
        user,
    )
    stack.stop()
    return out


def mailbox_write_bound(kind: str, counts: dict[str, int]) -> int:
    """Fewest calls that can write these items: Graph $batch takes 20 of any kind; Google
    batches cannot mix APIs, People takes 200 contacts, Calendar and Tasks 1,000 calls."""
    if kind == "office365":
        return math.ceil(sum(counts.values()) / 20)
    if kind == "exchange":  # one CreateItem/UpdateItem per type and 100 items
        return sum(math.ceil(n / 100) for n in counts.values() if n)
    limits = {"Contact": 200, "Task": 1000, "Event": 1000}
    return sum(math.ceil(n / limits[k]) for k, n in counts.items() if n)


def seed_salesforce(
    sf: Any, owner: str, now: datetime, contacts: int, tasks: int, events: int
) -> dict[str, list[str]]:
    """Records the user owns, all inside the scope and windows, made without API calls."""
    account = sf.create("Account", {"Name": "Bench Corp"}, owner)
    ids: dict[str, list[str]] = {"Contact": [], "Task": [], "Event": []}
    for i in range(contacts):
        ids["Contact"].append(
            sf.create(
                "Contact",
                {
                    "FirstName": f"First{i}",
                    "LastName": f"Last{i}",
                    "Email": f"c{i}@bench.example",
                    "Phone": f"+1 555 {i:07d}",
                    "Title": "Buyer",
                    "AccountId": account,
                    "MailingCity": "Springfield",
                },
                owner,
            )
        )
    for i in range(tasks):
        due = (now + timedelta(days=i % 60 - 7)).date().isoformat()
        ids["Task"].append(
            sf.create(
                "Task",
                {
                    "Subject": f"Task {i}",
                    "ActivityDate": due,
                    "Status": "Not Started",
                    "Priority": "Normal",
                    "OwnerId": owner,
                },
                owner,
            )
        )
    # Events carry 0 to 5 attendees (i % 6): customers (Contacts, Leads) and colleagues.
    people = [
        *ids["Contact"][:40],
        *(
            sf.create("Lead", {"LastName": f"Lead{k}", "Company": "Prospect Inc",
                               "Email": f"lead{k}@prospect.example"}, owner)
            for k in range(20)
        ),
        *(
            sf.add_user(f"colleague{k}@relay.example", f"Colleague{k}", "Col",
                        f"colleague{k}@relay.example")
            for k in range(5)
        ),
    ]  # fmt: skip
    for i in range(events):
        start = now + timedelta(days=i % 50 - 7, hours=i % 8)
        event_id = sf.create(
            "Event",
            {
                "Subject": f"Meeting {i}",
                "StartDateTime": start.isoformat(),
                "EndDateTime": (start + timedelta(minutes=30)).isoformat(),
                "OwnerId": owner,
            },
            owner,
        )
        ids["Event"].append(event_id)
        for k in range(i % 6):
            relation = people[(i * 7 + k * 13) % len(people)]
            sf.create(
                "EventRelation",
                {"EventId": event_id, "RelationId": relation, "IsInvitee": True},
                owner,
            )
    return ids


def change_one_percent(
    stack: Any, kind: str, sf: Any, seeded: dict[str, list[str]], when: datetime
) -> dict[str, dict[str, int]]:
    """Edit 1 % of each type in Salesforce, and 1 % of other items in the mailbox."""
    for app in (stack.salesforce_app, stack.graph_app, stack.google_app, stack.ews_app):
        app.set_clock(when)
    counts: dict[str, dict[str, int]] = {"salesforce": {}, "mailbox": {}}
    field = {"Contact": "Title", "Task": "Subject", "Event": "Subject"}
    for sobject, ids in seeded.items():
        n = max(1, len(ids) // 100) if ids else 0
        for record_id in ids[:n]:
            sf.update(record_id, {field[sobject]: f"Changed in Salesforce {record_id}"})
        counts["salesforce"][sobject] = n
    from syncengine.models import SyncLink

    for sobject, item_type in (("Contact", "contact"), ("Task", "task"), ("Event", "event")):
        ids = seeded[sobject]
        n = max(1, len(ids) // 100) if ids else 0
        links = list(SyncLink.objects.filter(item_type=item_type).order_by("-sf_id")[:n])
        for link in links:
            edit_mailbox_item(stack, kind, item_type, link.mailbox_id)
        counts["mailbox"][sobject] = len(links)
    return counts


def task_list_id() -> str:
    from syncengine.models import MailboxContainer

    return MailboxContainer.objects.get(role=MailboxContainer.Role.TASKS).external_id


def edit_mailbox_item(stack: Any, kind: str, item_type: str, mailbox_id: str) -> None:
    if kind == "exchange":
        if item_type == "contact":
            stack.ews_app.touch_item(USER_EMAIL, mailbox_id, JobTitle="Changed in Outlook")
        else:
            stack.ews_app.touch_item(USER_EMAIL, mailbox_id, Subject="Changed in Outlook")
        return
    if kind == "office365":
        graph = stack.graph_app
        if item_type == "contact":
            graph.update_contact(USER_EMAIL, mailbox_id, {"jobTitle": "Changed in Outlook"})
        elif item_type == "event":
            graph.update_event(USER_EMAIL, mailbox_id, {"subject": "Changed in Outlook"})
        else:
            list_id, task_id = task_list_id(), mailbox_id
            graph.update_task(USER_EMAIL, list_id, task_id, {"title": "Changed in To Do"})
        return
    google = stack.google_app
    if item_type == "contact":
        google.update_contact(
            USER_EMAIL, mailbox_id, {"organizations": [{"title": "Changed in Gmail"}]}
        )
    elif item_type == "event":
        google.update_event(USER_EMAIL, mailbox_id, {"summary": "Changed in Gmail"})
    else:
        list_id, task_id = task_list_id(), mailbox_id
        google.update_task(USER_EMAIL, list_id, task_id, {"title": "Changed in Tasks"})


if __name__ == "__main__":
    sys.exit(main())
