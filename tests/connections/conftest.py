"""The three emulators, and Relay's provider settings pointed at them."""

from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from bs4 import BeautifulSoup

from sandbox.stack import build_stack

APPROVE_VALUES = {"1", "allow", "accept"}


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    running = build_stack(ca_dir=tmp_path_factory.mktemp("ca")).start()
    yield running
    running.stop()


@pytest.fixture
def providers(stack, settings):
    """Point Relay's provider settings at the sandbox for one test, emulators emptied."""
    for app in (stack.salesforce_app, stack.graph_app, stack.google_app):
        app.reset()
    for name, value in stack.settings().items():
        setattr(settings, name, value)
    return stack


def approve_consent(authorize_url: str, account: str, ca_bundle: str) -> dict[str, str]:
    """Do what the person does on the consent page: press Allow next to their account.

    Returns the query of the redirect back to Relay (code and state, or error).
    """
    session = requests.Session()
    session.verify, session.trust_env = ca_bundle, False
    page = session.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text
    soup = BeautifulSoup(page.text, "html.parser")
    for form in soup.find_all("form"):
        fields = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("name")}
        if account.lower() not in {v.lower() for v in fields.values()}:
            continue
        for button in form.find_all("button"):
            if button.get("value", "").lower() in APPROVE_VALUES and button.get("name"):
                fields[button["name"]] = button["value"]
        action = urljoin(authorize_url, form.get("action") or urlsplit(authorize_url).path)
        answer = session.post(action, data=fields, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        query = parse_qs(urlsplit(answer.headers["Location"]).query)
        return {k: v[0] for k, v in query.items()}
    raise AssertionError(f"no consent form for {account} on {authorize_url}")
