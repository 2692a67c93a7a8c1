"""The servers and processes the scale-out test needs: PostgreSQL and Redis (the ones
`.ci/run` started, or throw-away ones on a developer machine), Celery workers and beat."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Any, timeout: float, what: str, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    pytest.fail(f"scale-out: {what} within {timeout:.0f} s")


# -- PostgreSQL ------------------------------------------------------------------------------


def database_url(db: dict[str, Any]) -> str:
    """A DATABASE_URL for Django's connection settings (the test database's name)."""
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(db['NAME'], safe='')}"


def postgres_bin() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: [int(x) for x in Path(p).parts[-3].split(".") if x.isdigit()],
    )
    initdb = found[-1] if found else shutil.which("initdb")
    if not initdb:
        pytest.fail(
            "The scale-out test needs PostgreSQL: set DATABASE_URL=postgres://… (as .ci/run"
            " does), or install PostgreSQL (apt-get install postgresql) so the test can start"
            " a throw-away cluster; initdb was found neither in /usr/lib/postgresql/*/bin"
            " nor on PATH."
        )
    return Path(initdb).parent


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A PostgreSQL cluster in a temporary directory, trusting local connections; yields its
    DATABASE_URL. As root it runs as the `postgres` user (PostgreSQL refuses root)."""
    bin_dir = postgres_bin()
    base = Path(tempfile.mkdtemp(prefix="relay-scaleout-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        import pwd

        try:
            pg = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("The scale-out test runs as root but there is no `postgres` user.")
        os.chown(base, pg.pw_uid, pg.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", free_port()

    def run(*cmd: str) -> None:
        done = subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=120)
        if done.returncode:
            pytest.fail(f"scale-out: {' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")

    run(
        str(bin_dir / "initdb"),
        "-D",
        str(data),
        "-U",
        "relay",
        "--auth=trust",
        "-E",
        "UTF8",
        "--no-sync",
    )
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = str(bin_dir / "pg_ctl")
    run(pg_ctl, "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start")
    try:
        yield f"postgres://relay@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(base, ignore_errors=True)


# -- Redis -----------------------------------------------------------------------------------


def redis_ping(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=2).ping())
    except redis.RedisError:
        return False


@contextmanager
def redis_url() -> Iterator[str]:
    """The Redis of REDIS_URL (as .ci/run sets it), or a throw-away redis-server."""
    given = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL") or ""
    if given.startswith("redis://"):
        if not redis_ping(given):
            pytest.fail(f"scale-out: Redis at {given} does not answer PING")
        yield given
        return
    server = shutil.which("redis-server")
    if not server:
        pytest.fail(
            "The scale-out test needs Redis: set REDIS_URL=redis://… (as .ci/run does), or"
            " install redis-server so the test can start a throw-away one."
        )
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="relay-scaleout-redis-")
    process = subprocess.Popen(
        [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_until(lambda: redis_ping(url), 20, f"redis-server did not answer on port {port}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


# -- Celery processes ------------------------------------------------------------------------


@dataclass
class Processes:
    """Started in sessions of their own, so each one's prefork children stop with it."""

    log_dir: Path
    env: dict[str, str]
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, *args: str) -> None:
        log = (self.log_dir / f"{name}.log").open("wb")
        self.running[name] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def dead(self) -> list[str]:
        return [n for n, p in self.running.items() if p.poll() is not None]

    def tails(self, lines: int = 30) -> str:
        return "\n".join(
            f"--- {name} (last {lines} lines) ---\n"
            + "\n".join(self.log(name).splitlines()[-lines:])
            for name in self.running
        )

    def stop(self, grace: float = 30.0) -> None:
        """SIGTERM: a worker finishes the tasks it runs (a warm shutdown); then SIGKILL."""
        for process in self.running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.running.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
