#!/usr/bin/env python
"""`make run`: prepare the local demo, then run every process until Ctrl-C stops them all.

First the sandbox (the Salesforce, Graph and Google emulators, seeded, with two demo users
connected to them); once it has written its description, the web server, a Celery worker
and Celery beat start with Relay's provider settings pointed at the emulators.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
WEB_ADDRESS = os.environ.get("RELAY_DEMO_ADDRESS", "127.0.0.1:8000")


@dataclass
class Service:
    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)


def manage(*args: str) -> list[str]:
    return [PYTHON, "manage.py", *args]


SANDBOX_DESCRIPTION = ROOT / "var" / "sandbox" / "sandbox.json"
SANDBOX_START_TIMEOUT = 180.0

# Run in order before anything starts; each must succeed.
SETUP: list[list[str]] = [
    manage("migrate", "--noinput", "-v", "0"),
]

# Started first; the others wait until it has described itself in SANDBOX_DESCRIPTION.
SANDBOX = Service("sandbox", manage("sandbox", "--state-dir", str(SANDBOX_DESCRIPTION.parent)))

# Started together once the sandbox is up, with its settings; stopped together.
SERVICES: list[Service] = [
    Service("web", manage("runserver", WEB_ADDRESS, "--noreload")),
    Service(
        "worker",
        [PYTHON, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=2"],
    ),
    Service("beat", [PYTHON, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO"]),
]


def wait_for_sandbox(process: subprocess.Popen[bytes], started: float) -> dict[str, object]:
    """The sandbox's description, once it is newer than this start (it seeds first)."""
    deadline = time.monotonic() + SANDBOX_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the sandbox exited with {process.returncode}")
        path = SANDBOX_DESCRIPTION
        if path.exists() and path.stat().st_mtime >= started:
            return json.loads(path.read_text())
        time.sleep(0.5)
    raise RuntimeError("the sandbox did not start within 3 minutes")


# Staff logins for the demo: made (or their password reset) at every start, with a fresh
# random password printed once; nothing is stored in the repository.
STAFF_SCRIPT = """
import json, secrets, sys
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
User = get_user_model()
out = []
for email, role in (("support@relay.example", "support"), ("admin@relay.example", "superuser")):
    user, _ = User.objects.get_or_create(username=email, defaults={"email": email})
    user.email, user.is_staff, user.is_active = email, True, True
    user.is_superuser = role == "superuser"
    password = secrets.token_urlsafe(12)
    user.set_password(password)
    user.save()
    if role == "support":
        user.groups.add(Group.objects.get(name="Support"))
    out.append({"role": role, "email": email, "password": password})
sys.stdout.write(json.dumps(out))
"""


def make_staff_logins() -> list[dict[str, str]]:
    """A Support-group staff login and a superuser login for the demo admin."""
    done = subprocess.run(
        manage("shell", "-c", STAFF_SCRIPT), check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_logins(description: dict[str, object], staff: list[dict[str, str]]) -> None:
    print(f"\n  Relay is running at http://{WEB_ADDRESS}/\n")
    for login in description.get("demo_logins", []):  # type: ignore[union-attr]
        print(f"  {login['mailbox']:<10} {login['email']:<24} password {login['password']}")
    print(f"\n  Admin (support desk) at http://{WEB_ADDRESS}/admin/")
    for login in staff:
        print(f"  {login['role']:<10} {login['email']:<24} password {login['password']}")
    print()


def stop_all(processes: dict[str, subprocess.Popen[bytes]], grace: float = 10.0) -> None:
    """SIGTERM every process group (runserver's reloader has a child), then SIGKILL."""
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes.values():
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> int:
    os.chdir(ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    for command in SETUP:
        subprocess.run(command, check=True)
    staff = make_staff_logins()

    processes: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    def start(service: Service, extra_env: dict[str, str]) -> None:
        # A session of its own, so Ctrl-C reaches only this supervisor, which then
        # stops every service in order instead of leaving some running.
        processes[service.name] = subprocess.Popen(
            service.command,
            env={**os.environ, **extra_env, **service.env},
            start_new_session=True,
        )
        print(f"[run_demo] started {service.name} (pid {processes[service.name].pid})")

    try:
        started = time.time()
        start(SANDBOX, {})
        description = wait_for_sandbox(processes[SANDBOX.name], started)
        provider_env = {k: str(v) for k, v in description["settings"].items()}  # type: ignore[union-attr]
        for service in SERVICES:
            start(service, provider_env)
        print_logins(description, staff)
        print("[run_demo] Press Ctrl-C to stop everything.")
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"[run_demo] {name} exited with {process.returncode}; stopping.")
                    stopping = True
                    break
            time.sleep(0.5)
    finally:
        stop_all(processes)
        print("[run_demo] stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
