#!/usr/bin/env python
"""Big-book benchmark: "All contacts" over N Salesforce contacts into one mailbox. Prints JSON.

    python bench/bigbook.py [--contacts 50000] [--kinds office365,gmail,exchange]

Per kind three processes, as in bench/fleet.py: this one (the driver), the emulators (a
separate process, so their memory and CPU are not Relay's) and one worker process that
runs the initial session and the next one (which reads back the initial writes' echoes)
through `run_session`. The worker reports per session: wall time, CPU time, the worker's
peak RSS so far (`resource.getrusage` maxrss: the Relay process alone), the session status,
and the calls each emulator logged against the bound of bench/sync_bench.py's docstring:
⌈N/2000⌉ Salesforce reads; ⌈N/20⌉ Graph batches, ⌈N/200⌉ People batches, ⌈N/100⌉ EWS
CreateItem calls (Google: of the contacts that fit the account's 25,000-contact limit,
which Relay stops 1 % short of; the emulator enforces the limit). The next session's bound
is an idle session's calls (1 Salesforce; 1 Graph, 4 Google, 4 EWS) with each contacts
feed paging through the N echoes: ⌈N/200⌉ Graph calls, 3 + ⌈N/1000⌉ Google, 3 + ⌈N/512⌉
EWS (the page caps of the Graph delta, People connections.list and SyncFolderItems).
`--trace` adds tracemalloc's peak and its top allocation sites (slower; for measuring).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from worker_process import start_worker

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("office365", "gmail", "exchange")
EMAIL = "bigbook@relay.example"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.contacts, args.kind, Path(args.serve))
    if args.work:
        print(json.dumps(work(Path(args.work), args.kind, args.contacts, args.trace)))
        return 0
    result: dict[str, Any] = {"contacts": args.contacts}
    for kind in args.kinds.split(","):
        result[kind] = run_kind(kind, args.contacts, args.trace)
    result["load_average"] = list(os.getloadavg())
    print(json.dumps(result, indent=2))
    return 0


def run_kind(kind: str, contacts: int, trace: bool) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"relay-bigbook-{kind}-"))
    description = workdir / "stack.json"
    emulators = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(description), "--contacts", str(contacts),
         "--kind", kind],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 900
        while not description.exists():
            if emulators.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the emulator process did not come up")
            time.sleep(0.2)
        command = [sys.executable, __file__, "--work", str(description), "--kind", kind,
                   "--contacts", str(contacts), *(["--trace"] if trace else [])]  # fmt: skip
        out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    finally:
        if emulators.stdin:
            emulators.stdin.close()  # the emulator process stops when its stdin closes
        emulators.wait(timeout=120)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def serve(contacts: int, kind: str, description: Path) -> int:
    """The emulator process: one user, `contacts` Contacts (half of them a colleague's,
    so only "All contacts" brings them all), backdated; describe; wait for EOF."""
    sys.path.insert(0, str(ROOT))
    import logging

    logging.disable(logging.WARNING)
    from sandbox.stack import build_stack

    stack = build_stack(ca_dir=description.parent / "ca").start()
    sf = stack.salesforce_app
    sf_user = sf.add_user(EMAIL, "Big", "Book", EMAIL)
    colleague = sf.add_user("colleague@relay.example", "Col", "League", "colleague@relay.example")
    # Backdated and a second apart, as a real book is edited over time (one shared stamp
    # would put every row inside the feed cursor's overlap window, re-read once).
    seeded_at = datetime.now(UTC) - timedelta(hours=2, seconds=contacts)
    sf.set_clock(seeded_at)
    account = sf.create("Account", {"Name": "Big Book Corp"}, sf_user)
    for i in range(contacts):
        sf.set_clock(seeded_at + timedelta(seconds=i))
        fields = {
            "FirstName": f"First{i}",
            "LastName": f"Last{i}",
            "Email": f"c{i}@bigbook.example",
            "Phone": f"+1 555 {i:07d}",
            "Title": "Buyer",
            "AccountId": account,
            "MailingCity": "Springfield",
        }
        sf.create("Contact", fields, sf_user if i % 2 else colleague)
    sf.set_clock(None)
    payload: dict[str, Any] = {
        "settings": stack.settings(),
        "urls": {
            "salesforce": stack.salesforce.base_url,
            "graph": stack.graph.base_url,
            "google": stack.google.base_url,
        },
        "org_id": sf.org_id,
        "sf_user": sf_user,
        "sf_tokens": list(sf.issue_token(sf_user)),
        "ca_bundle": str(stack.ca.ca_bundle),
    }
    if kind == "office365":
        stack.graph_app.add_mailbox(EMAIL, "Big Book")
        payload["mb_tokens"] = list(stack.graph_app.issue_token(EMAIL))
        payload["control"] = stack.graph.base_url
    elif kind == "gmail":
        stack.google_app.add_account(EMAIL, "Big Book")
        payload["mb_tokens"] = list(stack.google_app.issue_token(EMAIL))
        payload["control"] = stack.google.base_url
    else:
        stack.ews_app.add_service_account(
            "svc-bigbook", "bench-only-password", can_impersonate=True
        )
        stack.ews_app.add_mailbox(EMAIL, "Big Book")
        payload["ews_url"] = f"{stack.ews.base_url}/EWS/Exchange.asmx"
        payload["control"] = stack.ews.base_url
    partial = description.with_suffix(".partial")
    partial.write_text(json.dumps(payload))
    partial.rename(description)
    sys.stdin.read()  # until the driver closes the pipe
    stack.stop()
    return 0


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def work(description: Path, kind: str, contacts: int, trace: bool) -> dict[str, Any]:
    """The worker process: connect the user ("All contacts"), run two sessions."""
    stack = start_worker(description, "bigbook.sqlite3")
    import requests

    from sandbox.demo_users import SandboxAccount, connect_relay_user
    from syncengine.models import SyncLink
    from syncengine.session import run_session
    from syncsettings.models import SyncSettings

    if kind == "exchange":
        from accounts.models import ExchangeServerConfig
        from sandbox.exchange_users import connect_exchange_user

        config = ExchangeServerConfig.objects.create(
            ews_url=stack["ews_url"],
            username="svc-bigbook",
            password="bench-only-password",  # the emulator's throw-away account
            auth_type="Basic",
            ca_bundle=stack["ca_bundle"],
        )
        user = connect_exchange_user(
            EMAIL, stack["sf_user"], tuple(stack["sf_tokens"]), stack["urls"]["salesforce"],
            stack["org_id"], config,
        )  # fmt: skip
    else:
        account = SandboxAccount(EMAIL, kind, stack["sf_user"], *stack["sf_tokens"],
                                 *stack["mb_tokens"])  # fmt: skip
        user = connect_relay_user(account, stack["urls"], stack["org_id"])
    sync = SyncSettings.for_user(user)
    sync.contact_scope = SyncSettings.ContactScope.ALL
    sync.save()
    ca = stack["ca_bundle"]
    http = requests.Session()
    http.verify, http.trust_env = ca, False

    def calls(base_url: str) -> int:
        answer = http.get(f"{base_url}/_sandbox/calls", timeout=60)
        return len(answer.json().get("calls", []))

    def paths(base_url: str, since: int) -> list[str]:
        """The calls after the first `since`, as "METHOD path" (a session's few reads)."""
        logged = http.get(f"{base_url}/_sandbox/calls", timeout=60).json().get("calls", [])
        return [f"{c['method']} {c['path'][:80]}" for c in logged[since:]]

    at_inputs: list[list[str]] = []  # --trace: what is held once a type's inputs are built
    if trace:
        import tracemalloc

        from syncengine import reads

        tracemalloc.start(8)
        inputs = reads.Reader.inputs

        def traced_inputs(self: Any, *args: Any) -> Any:
            data = inputs(self, *args)
            if data.links:
                stats = tracemalloc.take_snapshot().statistics("lineno")[:10]
                at_inputs.append(
                    [f"{s.size / 2**20:.1f} MB {s.traceback.format()[-1].strip()}" for s in stats]
                )
            return data

        reads.Reader.inputs = traced_inputs  # type: ignore[method-assign,assignment]
    from syncengine.mailboxes.gmail.people import max_contacts

    # Google: only what fits the account's limit is created (Relay stops 1 % before it).
    fitting = min(contacts, max_contacts()) if kind == "gmail" else contacts
    chunk = {"office365": 20, "gmail": 200, "exchange": 100}[kind]
    # The next session: an idle one's calls, except that each feed pages through the N
    # echoes of the initial creates, whatever Relay does with them: Graph's contacts
    # delta at about 200 a page (Outlook's cap; the first page rides the idle $batch),
    # People's connections.list at 1,000 (its pageSize maximum), EWS's SyncFolderItems at
    # 512 (the schema's MaxChangesReturned cap; their content is not read: they are at
    # the ChangeKey Relay wrote).
    idle = {
        "office365": math.ceil(fitting / 200),
        "gmail": 3 + math.ceil(fitting / 1000),
        "exchange": 3 + math.ceil(fitting / 512),
    }[kind]
    bounds = [
        {"salesforce": math.ceil(contacts / 2000), "mailbox": math.ceil(fitting / chunk)},
        {"salesforce": 1, "mailbox": idle},
    ]
    out: dict[str, Any] = {}
    now = datetime.now(UTC)
    for n, name in enumerate(("initial", "next")):
        before = {
            "salesforce": calls(stack["urls"]["salesforce"]),
            "mailbox": calls(stack["control"]),
        }
        cpu, started = time.process_time(), time.perf_counter()
        session = run_session(user, "manual", now=now + timedelta(minutes=30 * n))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        after = {
            "salesforce": calls(stack["urls"]["salesforce"]),
            "mailbox": calls(stack["control"]),
        }
        made = {side: after[side] - before[side] for side in before}
        phase: dict[str, Any] = {
            "wall_s": round(wall, 1),
            "cpu_s": round(cpu, 1),
            "peak_rss_mb": peak_rss_mb(),
            "status": session.status,
            **({"error": session.error[:300]} if session.error else {}),
            "calls": made,
            "bound": bounds[n],
            "calls_over_bound": {
                side: round(made[side] / bounds[n][side], 2) if bounds[n][side] else None
                for side in made
            },
            "links": SyncLink.objects.filter(user=user, item_type="contact").count(),
        }
        if name == "next":  # what the session after the bulk load read, call by call
            phase["paths"] = {
                "salesforce": paths(stack["urls"]["salesforce"], before["salesforce"]),
                "mailbox": paths(stack["control"], before["mailbox"])[:12],
            }
        if trace:
            import tracemalloc

            _, peak = tracemalloc.get_traced_memory()
            phase["tracemalloc_peak_mb"] = round(peak / 2**20, 1)
            snapshot = tracemalloc.take_snapshot()
            phase["top"] = [
                f"{s.size / 2**20:.1f} MB {s.traceback.format()[-1].strip()}"
                for s in snapshot.statistics("lineno")[:8]
            ]
            tracemalloc.reset_peak()
            phase["held_at_inputs"] = list(at_inputs)
            at_inputs.clear()
        out[name] = phase
    return out


if __name__ == "__main__":
    sys.exit(main())
