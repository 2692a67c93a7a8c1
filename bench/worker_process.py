"""What bench/fleet.py's and bench/bigbook.py's worker processes share: Django on a fresh
SQLite file next to the emulator process's description, pointed at those emulators.
(Imported by the benchmark scripts, which run from bench/; not a benchmark itself.)"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def start_worker(description: Path, database: str) -> dict[str, Any]:
    """Set Django up on `database` (a file beside `description`), apply the emulator
    process's settings, migrate; the description the emulator process wrote."""
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = f"sqlite:///{description.parent / database}"
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)  # werkzeug logs every request
    from django.conf import settings
    from django.core.management import call_command

    stack: dict[str, Any] = json.loads(description.read_text())
    for name, value in stack["settings"].items():
        setattr(settings, name, value)
    call_command("migrate", verbosity=0)
    return stack
