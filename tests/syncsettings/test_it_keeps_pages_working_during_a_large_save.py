"""SPEC §8: a slow request on SQLite leaves other users' pages working.

A real gunicorn (two worker processes, each with its own connection) serves a real SQLite
file database with Relay's settings. One user saves the largest blocklist allowed, again and
again; meanwhile another user loads pages and logs in (which writes its session). Before,
every request ran in an IMMEDIATE transaction (ATOMIC_REQUESTS), so one slow save held the
write lock and the other user got 500 "database is locked".
"""

import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from syncsettings.blocklists import USER_BLOCKLIST_MAX_ENTRIES

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served_sqlite(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'relay.sqlite3'}",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    make_users = (
        "from accounts.models import User\n"
        "for email in ('saver@acme.example', 'reader@acme.example'):\n"
        f"    User.objects.create_user(username=email, email=email, password={PASSWORD!r})\n"
    )
    subprocess.run([*manage, "shell", "-c", make_users], cwd=ROOT, env=env, check=True)
    port = free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn), "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "120", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(base + "/healthz", timeout=10)
            break
        except requests.RequestException:
            time.sleep(0.3)
    yield base
    server.terminate()
    server.wait(timeout=30)


def login(base: str, email: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    page = session.get(base + "/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        base + "/accounts/login/",
        data={"csrfmiddlewaretoken": token, "login": email, "password": PASSWORD},
        headers={"Referer": base + "/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, answer.text[:500]
    return session


def largest_blocklist() -> str:
    return "\n".join(
        f"person{n}@blocked{n % 97}.example" for n in range(USER_BLOCKLIST_MAX_ENTRIES)
    )


def test_it_keeps_other_users_pages_working_while_the_largest_blocklist_saves(served_sqlite):
    base = served_sqlite
    saver = login(base, "saver@acme.example")
    page = saver.get(base + "/settings/detailed/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    form = {"csrfmiddlewaretoken": token, "blocklist": largest_blocklist(), "time_zone": "UTC"}
    saves: list[int] = []
    stop = threading.Event()

    def keep_saving() -> None:
        while not stop.is_set():
            answer = saver.post(
                base + "/settings/detailed/",
                data=form,
                headers={"Referer": base + "/settings/detailed/"},
                allow_redirects=False,
                timeout=60,
            )
            saves.append(answer.status_code)

    thread = threading.Thread(target=keep_saving)
    thread.start()
    try:
        while not saves:  # the first save is under way or done: the lock would be held
            time.sleep(0.05)
        reader_answers = []
        for _ in range(5):
            reader = login(base, "reader@acme.example")  # a write: the session row
            for path in ("/", "/settings/detailed/", "/sync/history/", "/accounts/login/"):
                reader_answers.append((path, reader.get(base + path, timeout=30).status_code))
    finally:
        stop.set()
        thread.join(timeout=120)
    assert all(status == 200 for _, status in reader_answers), reader_answers
    assert saves and all(status == 302 for status in saves), saves  # every save succeeded
    saved = saver.get(base + "/settings/detailed/", timeout=30).text
    assert "person1999@blocked59.example" in saved
