#!/usr/bin/env python
"""CPU cost of validating blocklists (SPEC §8: linear work, a cap, bounded error output).

Prints JSON: CPU seconds (time.process_time, this process only) for
- a 20,000-line user blocklist posted to Detailed settings (refused by the 2,000 cap),
- 20,000 valid entries parsed at the org list's scale (parse_blocklist, cap 20,000),
- the largest allowed user list (2,000 entries) through the whole form,
- 20,000 and 100,000 junk lines through the whole form: errors shown and message size,
- Blocklist.merge of 20,000 org entries (what each session builds).

Run: .venv/bin/python bench/blocklist_bench.py
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from django.core.exceptions import ValidationError  # noqa: E402

from syncengine.emails.blocklist import Blocklist, parse_entry  # noqa: E402
from syncsettings.blocklists import ORG_BLOCKLIST_MAX_ENTRIES, parse_blocklist  # noqa: E402
from syncsettings.forms import DetailedSettingsForm  # noqa: E402
from syncsettings.models import SyncSettings  # noqa: E402


def cpu(fn: Any) -> tuple[float, Any]:
    start = time.process_time()
    result = fn()
    return round(time.process_time() - start, 4), result


def valid_lines(n: int) -> str:
    return "\n".join(f"person{i}@blocked{i % 997}.example" for i in range(n))


def junk_lines(n: int) -> str:
    return "\n".join(f"not an entry {i} !!" for i in range(n))


def form_errors(text: str) -> dict[str, Any]:
    form = DetailedSettingsForm(
        data={"blocklist": text, "time_zone": "UTC"}, instance=SyncSettings(time_zone="UTC")
    )
    seconds, valid = cpu(form.is_valid)
    errors = form.errors.get("blocklist", [])
    return {
        "cpu_seconds": seconds,
        "valid": valid,
        "errors_shown": len(errors),
        "error_text_bytes": len(" ".join(errors).encode()),
        "first_error": errors[0][:160] if errors else "",
    }


def main() -> None:
    results: dict[str, Any] = {}
    results["user_form_20000_valid_lines"] = form_errors(valid_lines(20_000))
    results["user_form_2000_valid_lines"] = form_errors(valid_lines(2_000))
    results["user_form_20000_junk_lines"] = form_errors(junk_lines(20_000))
    results["user_form_100000_junk_lines"] = form_errors(junk_lines(100_000))
    results["user_form_1500_junk_lines"] = form_errors(junk_lines(1_500))
    text = valid_lines(20_000)
    seconds, entries = cpu(lambda: parse_blocklist(text, max_entries=ORG_BLOCKLIST_MAX_ENTRIES))
    results["parse_20000_valid_entries_org_scale"] = {
        "cpu_seconds": seconds,
        "entries": len(entries),
    }
    duplicated = valid_lines(10_000) + "\n" + valid_lines(10_000)
    seconds, entries = cpu(
        lambda: parse_blocklist(duplicated, max_entries=ORG_BLOCKLIST_MAX_ENTRIES)
    )
    results["parse_20000_lines_half_duplicates"] = {"cpu_seconds": seconds, "entries": len(entries)}
    org = [parse_entry(line) for line in text.splitlines()]
    seconds, merged = cpu(lambda: Blocklist.merge(org, [], ["ann@acme.example"]))
    results["merge_20000_org_entries"] = {
        "cpu_seconds": seconds,
        "addresses": len(merged.addresses),
    }
    try:
        parse_blocklist(valid_lines(20_001), max_entries=ORG_BLOCKLIST_MAX_ENTRIES)
    except ValidationError as exc:
        results["org_scale_over_cap_message"] = exc.messages[0]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
