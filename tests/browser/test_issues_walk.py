"""Issues → Reconnect → Sync now → History in a real browser (issue 6), against the
sandbox emulators over TLS: Playwright drives Debian's Chromium (/usr/bin/chromium)."""

import os

import pytest
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from accounts.models import Connection
from sandbox.demo_users import DEMO_PASSWORD, SandboxAccount, connect_relay_user
from sandbox.stack import build_stack
from syncengine.models import SyncSession

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
# test itself would otherwise be refused as "async unsafe".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EMAIL = "ann@acme.example"
REFUSED = "Office 365 refused the refresh token: invalid_grant"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    running = build_stack(ca_dir=tmp_path_factory.mktemp("issues-walk-ca")).start()
    yield running
    running.stop()


@pytest.fixture
def ann(sandbox, settings, transactional_db):
    """Ann: Salesforce connected, her Office 365 connection refused (needs reconnecting)."""
    for name, value in sandbox.settings().items():
        setattr(settings, name, value)
    for app in (sandbox.salesforce_app, sandbox.graph_app, sandbox.google_app):
        app.reset()
    sf = sandbox.salesforce_app
    me = sf.add_user(EMAIL, "Adams", "Ann")
    sf_access, sf_refresh = sf.issue_token(me)
    sandbox.graph_app.add_mailbox(EMAIL, "Ann Adams")
    mb_access, mb_refresh = sandbox.graph_app.issue_token(EMAIL)
    account = SandboxAccount(EMAIL, "office365", me, sf_access, sf_refresh, mb_access, mb_refresh)
    urls = {
        "salesforce": sandbox.salesforce.base_url,
        "graph": sandbox.graph.base_url,
        "google": sandbox.google.base_url,
    }
    user = connect_relay_user(account, urls, sf.org_id)
    sf.create("Contact", {"LastName": "Lovelace", "Email": "ada@client.example"}, me)
    mailbox = Connection.objects.mailbox_for(user)
    # The account id is learnt again from Graph at the reconnect.
    Connection.objects.filter(pk=mailbox.pk).update(external_account_id="")
    mailbox.refresh_from_db()
    mailbox.mark_needs_reconnect(REFUSED)
    return user


@pytest.fixture
def page():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # The emulators' certificates come from a throw-away test CA.
            context = browser.new_context(ignore_https_errors=True)
            page = context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()
            # ORM calls made while Playwright's sync API runs leave a connection that
            # pytest-django does not close; PostgreSQL would then refuse to drop the test
            # database at the end of the run ("being accessed by other users").
            connections.close_all()


def test_it_walks_issues_reconnect_sync_now_and_history(live_server, page, ann, sandbox):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill('input[name="login"]', EMAIL)
    page.fill('input[name="password"]', DEMO_PASSWORD)
    page.click('button[type="submit"]')
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Issues").click()
    expect(page.get_by_role("heading", name="Issues")).to_be_visible()
    issue = page.locator('.connection-issue[data-provider="office365"]')
    expect(issue).to_contain_text("Needs reconnecting")
    expect(issue).to_contain_text(REFUSED)

    issue.get_by_role("button", name="Reconnect Office 365").click()
    # The provider's consent page (the Graph emulator), where Ann approves.
    page.wait_for_url(f"{sandbox.graph.base_url}/**")
    expect(page.locator("body")).to_contain_text(EMAIL)
    page.locator(f'button[id="accept-{EMAIL}"]').click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"Office 365 connected as {EMAIL}")
    assert Connection.objects.mailbox_for(ann).status == Connection.Status.ACTIVE
    expect(page.locator('.connection-actions[data-side="mailbox"] .status')).to_have_text("Active")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Issues").click()
    expect(page.locator("#no-issues")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    page.locator("#sync-now").click()  # Celery is eager in tests: the session runs now
    expect(page.get_by_role("status")).to_contain_text("A sync session is queued")
    row = page.locator("tr.session").first
    expect(row).to_contain_text("Sync now")
    expect(row).to_contain_text("Succeeded")
    expect(row).to_contain_text("contact down: created 1")
    session = SyncSession.objects.get(user=ann)
    assert session.status == SyncSession.Status.SUCCEEDED
