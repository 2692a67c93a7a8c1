#!/usr/bin/env python
"""`make prod-check`: Relay's production settings, really served, walked through over HTTP.

Starts on 127.0.0.1, all on free ports: the sandbox emulators (Salesforce, Google), then
with `config.settings.production` gunicorn (deploy/gunicorn.conf.py), one Celery worker
(--max-tasks-per-child) and Celery beat, against the PostgreSQL and Redis of DATABASE_URL
and REDIS_URL (.ci/prod-check provides them). Every request carries X-Forwarded-Proto:
https, as the TLS proxy in front of gunicorn would. Then, as a new user would: sign up
(a weak password refused first), confirm the email address from the sent email, log in,
connect Salesforce and Gmail through the emulators' consent pages, press Sync now, wait
for the worker's session on History; checks the security headers on the way, /healthz,
/readyz (database, broker, beat, worker), /metrics and that the access log holds no OAuth
code. Exits non-zero on the first failure, with the tail of every process's log.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from bs4 import BeautifulSoup
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
USER_EMAIL = "pat.check@relay.example"
USER_PASSWORD = "long-and-unusual-" + secrets.token_hex(4)
SF_USER = "pat.check@salesforce.example"
GMAIL = "pat.check@gmail.example"


class CheckFailed(Exception):
    pass


def step(message: str) -> None:
    print(f"[prod-check] {message}", flush=True)


def expect(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(probe: Callable[[], object], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = probe()
        except (requests.RequestException, OSError, ValueError):
            value = None
        if value:
            return value
        time.sleep(0.5)
    raise CheckFailed(f"timed out after {seconds:.0f} s waiting for {what}")


class ProxyHopSession(requests.Session):
    """A browser behind the TLS proxy: says the request came over https and sends its
    Secure cookies on the plain hop to gunicorn (requests itself keeps them for https)."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.trust_env = False
        self.headers["X-Forwarded-Proto"] = "https"
        self.netloc = urlsplit(base).netloc

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if urlsplit(request.url).netloc == self.netloc:
            jar = "; ".join(f"{c.name}={c.value}" for c in self.cookies if c.value is not None)
            if jar:
                request.headers["Cookie"] = jar
        return super().send(request, **kwargs)


class Processes:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = (self.log_dir / f"{name}.log").open("wb")
        self.running[name] = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        step(f"started {name} (pid {self.running[name].pid})")

    def assert_alive(self) -> None:
        for name, process in self.running.items():
            expect(process.poll() is None, f"{name} exited with {process.returncode}")

    def stop(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def print_tails(self) -> None:
        for name in self.running:
            print(f"\n----- {name}.log (tail) -----")
            print("\n".join(self.log(name).splitlines()[-40:]))


def csrf_post(client: requests.Session, base: str, page_url: str, data: dict[str, str]):
    """POST the first form of `page_url` with its CSRF token, as a browser would."""
    page = client.get(page_url, timeout=10)
    expect(page.status_code == 200, f"GET {page_url} answered {page.status_code}")
    soup = BeautifulSoup(page.text, "html.parser")
    token = soup.find("input", {"name": "csrfmiddlewaretoken"})
    expect(token is not None, f"{page_url} has no CSRF token")
    return client.post(
        page_url,
        data={"csrfmiddlewaretoken": token["value"], **data},
        headers={"Referer": page_url.replace("http://", "https://"), "Origin": https(base)},
        allow_redirects=False,
        timeout=30,
    )


def https(base: str) -> str:
    return base.replace("http://", "https://")


def post_with_token(client: requests.Session, base: str, from_page: str, path: str, data=None):
    page = client.get(base + from_page, timeout=10)
    token = BeautifulSoup(page.text, "html.parser").find("input", {"name": "csrfmiddlewaretoken"})
    expect(token is not None, f"{from_page} has no CSRF token")
    return client.post(
        base + path,
        data={"csrfmiddlewaretoken": token["value"], **(data or {})},
        headers={"Referer": https(base) + from_page, "Origin": https(base)},
        allow_redirects=False,
        timeout=30,
    )


def check_security_headers(response: requests.Response) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    expect("default-src 'self'" in csp, f"no CSP default-src 'self' (got {csp!r})")
    hsts = headers.get("Strict-Transport-Security", "")
    expect("max-age=" in hsts, f"no HSTS header (got {hsts!r})")
    expect("preload" not in hsts, "HSTS preload is on, but it is opt-in")
    expect(headers.get("X-Frame-Options") == "DENY", "X-Frame-Options is not DENY")
    expect(headers.get("X-Content-Type-Options") == "nosniff", "no X-Content-Type-Options")
    expect(headers.get("Referrer-Policy"), "no Referrer-Policy")
    for cookie in response.cookies:
        expect(cookie.secure, f"cookie {cookie.name} is not Secure")


def approve_consent(authorize_url: str, account: str, ca_bundle: str) -> dict[str, str]:
    """Press Allow next to `account` on an emulator's consent page; the callback query."""
    session = requests.Session()
    session.verify, session.trust_env = ca_bundle, False
    page = session.get(authorize_url, timeout=10)
    expect(page.status_code == 200, f"consent page answered {page.status_code}")
    soup = BeautifulSoup(page.text, "html.parser")
    for form in soup.find_all("form"):
        fields = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("name")}
        if account.lower() not in {v.lower() for v in fields.values()}:
            continue
        for button in form.find_all("button"):
            if button.get("value", "").lower() in {"1", "allow", "accept"} and button.get("name"):
                fields[button["name"]] = button["value"]
        action = urljoin(authorize_url, form.get("action") or urlsplit(authorize_url).path)
        answer = session.post(action, data=fields, allow_redirects=False, timeout=10)
        expect(answer.status_code == 302, f"consent answered {answer.status_code}")
        return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
    raise CheckFailed(f"no consent form for {account}")


def connect(client: requests.Session, base: str, provider: str, account: str, ca: str) -> str:
    start = post_with_token(client, base, "/", f"/connect/{provider}/")
    expect(start.status_code == 302, f"connect {provider} answered {start.status_code}")
    answer = approve_consent(start.headers["Location"], account, ca)
    expect("code" in answer, f"{provider} consent gave no code: {answer}")
    done = client.get(f"{base}/connect/{provider}/callback/", params=answer, timeout=30)
    expect(done.status_code == 200, f"{provider} callback ended at {done.status_code}")
    expect("connected as" in done.text, f"{provider} did not connect: {done.text[:500]}")
    return answer["code"]


def walk(
    base: str, sandbox: dict[str, Any], sf_user_id: str, email_dir: Path, metrics_token: str
) -> list[str]:
    """The user's path over HTTP; returns the OAuth codes seen (for the log check)."""
    plain = requests.get(base + "/accounts/login/", allow_redirects=False, timeout=10)
    expect(plain.status_code == 301, "plain http was not redirected to https")
    expect(plain.headers["Location"].startswith("https://"), "redirect is not to https")

    client = ProxyHopSession(base)

    expect(client.get(base + "/healthz", timeout=5).json() == {"status": "ok"}, "/healthz")
    ready = wait_until(
        lambda: client.get(base + "/readyz", timeout=10).status_code == 200, 90, "/readyz 200"
    )
    expect(ready, "/readyz")
    step("/healthz and /readyz (database, broker, beat, worker) answer 200")

    signup_url = base + "/accounts/signup/"
    check_security_headers(client.get(signup_url, timeout=10))
    weak = csrf_post(
        client,
        base,
        signup_url,
        {"email": USER_EMAIL, "password1": "123456", "password2": "123456"},
    )
    expect(weak.status_code == 200 and "too short" in weak.text, "a weak password was accepted")
    step("security headers present; the password 123456 is refused")
    created = csrf_post(
        client,
        base,
        signup_url,
        {"email": USER_EMAIL, "password1": USER_PASSWORD, "password2": USER_PASSWORD},
    )
    expect(created.status_code == 302, f"sign-up answered {created.status_code}")
    link = wait_until(lambda: confirmation_link(email_dir), 20, "the confirmation email")
    path = urlsplit(link).path
    confirmed = csrf_post(client, base, base + path, {})
    expect(confirmed.status_code == 302, f"confirmation answered {confirmed.status_code}")
    step("signed up and confirmed the address from the email")

    logged_in = csrf_post(
        client, base, base + "/accounts/login/", {"login": USER_EMAIL, "password": USER_PASSWORD}
    )
    expect(logged_in.status_code == 302, f"login answered {logged_in.status_code}")
    dashboard = client.get(base + "/", timeout=10)
    expect(dashboard.status_code == 200 and USER_EMAIL in dashboard.text, "dashboard after login")
    check_security_headers(dashboard)
    step("logged in")

    codes = [
        connect(client, base, "salesforce", sf_user_id, sandbox["ca_bundle"]),
        connect(client, base, "gmail", GMAIL, sandbox["ca_bundle"]),
    ]
    step("connected Salesforce and Gmail through the consent pages")

    queued = post_with_token(client, base, "/", "/sync/sync-now/")
    expect(queued.status_code == 302, f"Sync now answered {queued.status_code}")

    def finished_session() -> bool:
        page = client.get(base + "/sync/history/", timeout=10)
        return page.status_code == 200 and bool(re.search(r"Succeeded|Finished with", page.text))

    wait_until(finished_session, 180, "a finished session on History (run by the worker)")
    step("Sync now ran through the worker; History shows the session")

    refused = requests.get(base + "/metrics", timeout=10)
    expect(refused.status_code == 403, f"/metrics without the token answered {refused.status_code}")
    scraped = requests.get(
        base + "/metrics", headers={"Authorization": f"Bearer {metrics_token}"}, timeout=10
    )
    expect(scraped.status_code == 200, f"/metrics answered {scraped.status_code}")
    expect('relay_sync_sessions{outcome="' in scraped.text, "no session metric")
    expect('relay_api_calls_total{provider="gmail"}' in scraped.text, "no Gmail API calls metric")
    step("/metrics refuses without the token and counts the session with it")
    return codes


def confirmation_link(email_dir: Path) -> str | None:
    for path in sorted(email_dir.glob("*.log")):
        found = re.search(r"https?://\S+/accounts/confirm-email/\S+/", path.read_text())
        if found:
            return found.group(0)
    return None


def seed_sandbox(sandbox: dict[str, Any]) -> str:
    """A Salesforce user and a Gmail account with demo data; the Salesforce user's id."""
    session = requests.Session()
    session.verify, session.trust_env = sandbox["ca_bundle"], False
    users = [{"Username": SF_USER, "Email": SF_USER, "FirstName": "Pat", "LastName": "Check"}]
    answer = session.post(
        f"{sandbox['salesforce']}/_sandbox/seed", json={"users": users}, timeout=30
    )
    answer.raise_for_status()
    accounts = [{"email": GMAIL, "display_name": "Pat Check", "demo": True}]
    session.post(
        f"{sandbox['google']}/_sandbox/seed", json={"accounts": accounts}, timeout=30
    ).raise_for_status()
    return str(answer.json()["users"][0]["id"])


def main() -> int:
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name, "").startswith(("postgres", "redis")):
            print(f"prod-check needs {name} (PostgreSQL and Redis); run .ci/prod-check.")
            return 2
    work = Path(tempfile.mkdtemp(prefix="relay-prod-check-"))
    (work / "email").mkdir()
    processes = Processes(work)
    metrics_token = secrets.token_urlsafe(24)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        sandbox_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": f"sqlite:///{work / 'sandbox.sqlite3'}",
        }
        processes.start(
            "sandbox",
            [
                PYTHON,
                "manage.py",
                "sandbox",
                "--no-demo",
                "--state-dir",
                str(work / "sandbox"),
                "--salesforce-port",
                "0",
                "--graph-port",
                "0",
                "--google-port",
                "0",
            ],
            sandbox_env,
        )
        description = work / "sandbox" / "sandbox.json"
        wait_until(description.exists, 120, "the sandbox to describe itself")
        sandbox = json.loads(description.read_text())
        sf_user_id = seed_sandbox(sandbox)

        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "RELAY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "RELAY_BASE_URL": https(base),
            "RELAY_METRICS_TOKEN": metrics_token,
            "DATABASE_URL": os.environ["DATABASE_URL"],
            "REDIS_URL": os.environ["REDIS_URL"],
            "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL") or os.environ["REDIS_URL"],
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "DJANGO_EMAIL_FILE_PATH": str(work / "email"),
            "CELERY_BEAT_MAX_LOOP_INTERVAL": "5",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_ACCESS_LOG": str(work / "access.log"),
            **{k: str(v) for k, v in sandbox["settings"].items()},
        }
        for command in (
            ["migrate", "--noinput", "-v", "0"],
            ["collectstatic", "--noinput", "-v", "0"],
        ):
            subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=env, check=True)
        step("migrated PostgreSQL and collected the static files")
        processes.start(
            "web", [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "config.wsgi"], env
        )
        processes.start(
            "worker",
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                "--concurrency=1",
                "--max-tasks-per-child=10",
                f"--hostname=prodcheck-{port}@%h",
            ],
            env,
        )
        processes.start(
            "beat",
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel=INFO",
                "--schedule",
                str(work / "beat-schedule"),
            ],
            env,
        )
        wait_until(
            lambda: requests.get(base + "/healthz", timeout=2).status_code in (200, 301),
            60,
            "gunicorn",
        )

        static = requests.get(
            base + "/static/relay/relay.css", headers={"X-Forwarded-Proto": "https"}, timeout=10
        )
        expect(static.status_code == 200 and ":root" in static.text, "WhiteNoise static file")
        codes = walk(base, sandbox, sf_user_id, work / "email", metrics_token)
        processes.assert_alive()

        access_log = (work / "access.log").read_text()
        expect("/connect/gmail/callback/" in access_log, "the access log has no callback line")
        for code in codes:
            expect(code not in access_log, "an OAuth code reached gunicorn's access log")
        for name in ("web", "worker", "beat"):
            for code in codes:
                expect(code not in processes.log(name), f"an OAuth code reached the {name} log")
        step("no OAuth code in the access log or any process log")
    except (CheckFailed, subprocess.CalledProcessError, requests.RequestException) as exc:
        print(f"\n[prod-check] FAILED: {exc} (logs kept in {work})", flush=True)
        processes.print_tails()
        return 1
    finally:
        processes.stop()
    shutil.rmtree(work, ignore_errors=True)
    step("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
