#!/usr/bin/env python
"""Cost of the links reconciliation (syncengine.reconcile) against the Salesforce
emulator: for N links, the API calls and wall time of `existing_ids`. Prints JSON.

    python bench/reconcile_bench.py [--links 1000 5000 20000]

Links are split 60/20/20 over Contact, Task and Event, 5 % of them deleted and purged.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--links", type=int, nargs="+", default=[1000, 5000, 20000])
    args = parser.parse_args()

    import django

    django.setup()
    import requests
    from simple_salesforce import Salesforce

    from sandbox.common import EmulatorServer, SandboxCA
    from sandbox.salesforce import SalesforceEmulator
    from syncengine.salesforce.adapter import SalesforceAdapter

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        ca = SandboxCA(Path(tmp))
        with EmulatorServer(SalesforceEmulator(), ca) as server:
            emu = server.app
            for n in args.links:
                emu.reset()
                emu.set_clock(datetime(2024, 5, 15, 12, tzinfo=UTC))
                me = emu.add_user("bench@relay.example", "Bench")
                token, _ = emu.issue_token(me)
                start = datetime(2024, 5, 20, 9, tzinfo=UTC)
                ids: dict[str, list[str]] = {"Contact": [], "Task": [], "Event": []}
                for i in range(n):
                    if i % 5 < 3:
                        ids["Contact"].append(emu.create("Contact", {"LastName": f"C{i}"}, me))
                    elif i % 5 == 3:
                        task = {"Subject": f"T{i}", "Status": "Not Started"}
                        ids["Task"].append(emu.create("Task", task, me))
                    else:
                        end = start + timedelta(hours=1)
                        event = {
                            "Subject": f"E{i}",
                            "StartDateTime": start.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
                            "EndDateTime": end.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
                        }
                        ids["Event"].append(emu.create("Event", event, me))
                every = [i for group in ids.values() for i in group]
                for sf_id in every[::20]:
                    emu.delete(sf_id, me)
                emu.purge_deleted()
                session = requests.Session()
                session.verify = server.ca_bundle
                session.trust_env = False
                sf = Salesforce(
                    instance_url=server.base_url, session_id=token, version="59.0", session=session
                )
                adapter = SalesforceAdapter(lambda fn, sf=sf: fn(sf), me, "59.0")
                began = time.perf_counter()
                alive = adapter.existing_ids(ids)
                seconds = time.perf_counter() - began
                out.append(
                    {
                        "links": n,
                        "gone": n - len(alive),
                        "api_calls": adapter.api_calls,
                        "api_calls_per_1000_links": round(1000 * adapter.api_calls / n, 3),
                        "seconds": round(seconds, 3),
                    }
                )
    print(json.dumps({"reconciliation": out}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
