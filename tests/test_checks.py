"""The production system checks (accounts/checks.py)."""

import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from accounts.checks import (
    DEFAULT_SECRET_KEY,
    check_deploy_settings,
    check_production_settings,
    production_problems,
)

GOOD = {
    "RELAY_ENCRYPTION_KEYS": [Fernet.generate_key().decode()],
    "DEBUG": False,
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": ["relay.example.com"],
    "CACHES": {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
        }
    },
}
ROOT = Path(__file__).resolve().parent.parent


def ids(**overrides) -> list[str]:
    with override_settings(**{**GOOD, **overrides}):
        return [problem.id for problem in production_problems()]


def test_it_accepts_a_good_production_configuration():
    assert ids() == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"RELAY_ENCRYPTION_KEYS": []}, "relay.E001"),
        ({"RELAY_ENCRYPTION_KEYS": ["not-a-fernet-key"]}, "relay.E002"),
        ({"DEBUG": True}, "relay.E003"),
        ({"SECRET_KEY": DEFAULT_SECRET_KEY}, "relay.E004"),
        ({"SECRET_KEY": "short"}, "relay.E004"),
        ({"ALLOWED_HOSTS": []}, "relay.E005"),
    ],
)
def test_it_refuses_each_bad_setting(overrides, expected):
    assert ids(**overrides) == [expected]


def test_it_says_how_to_fix_each_problem():
    with override_settings(RELAY_ENCRYPTION_KEYS=[], DEBUG=True, SECRET_KEY="x", ALLOWED_HOSTS=[]):
        problems = production_problems()
    hints = " ".join(problem.hint for problem in problems)
    for variable in ("RELAY_ENCRYPTION_KEYS", "DJANGO_DEBUG", "DJANGO_SECRET_KEY"):
        assert variable in hints
    assert "DJANGO_ALLOWED_HOSTS" in hints
    assert all(problem.is_serious() for problem in problems)


def test_it_runs_always_under_production_settings_and_on_deploy_otherwise():
    with override_settings(RELAY_PRODUCTION=True, DEBUG=True):
        assert [p.id for p in check_production_settings()] != []
        assert check_deploy_settings() == []  # not reported twice
    with override_settings(RELAY_PRODUCTION=False, DEBUG=True):
        assert check_production_settings() == []
        assert "relay.E003" in [p.id for p in check_deploy_settings()]


def run_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    base_env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings.production"}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**base_env, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_check_deploy_with_production_variables():
    result = run_check(
        {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DJANGO_ALLOWED_HOSTS": "relay.example.com",
            "RELAY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "REDIS_URL": "redis://127.0.0.1:6379/0",  # not contacted by the checks
        }
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_it_fails_check_deploy_without_them():
    result = run_check({})
    assert result.returncode != 0
    for code in ("relay.E001", "relay.E004", "relay.E005", "relay.E006"):
        assert code in result.stderr
