"""Issue 10 in a real browser (Playwright driving Debian's Chromium), against the sandbox
emulators over TLS: onboarding to the first sync with progress on screen, the Items search
explaining an excluded contact, a session's page listing its items, the dashboard at
375 px without sideways scrolling, and the support desk pausing a user (the user's
dashboard says so) and asking before Disconnect."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts.models import Connection
from sandbox.demo_users import DEMO_PASSWORD, SandboxAccount, connect_relay_user
from sandbox.stack import build_stack
from syncengine.models import SyncSession
from tests.factories import PASSWORD, UserFactory

from .test_issues_walk import page  # noqa: F401  (the Chromium page fixture)

EMAIL = "ann@acme.example"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    running = build_stack(ca_dir=tmp_path_factory.mktemp("explain-walk-ca")).start()
    yield running
    running.stop()


@pytest.fixture
def ann(sandbox, settings, transactional_db):
    """Ann, connected to Salesforce and Office 365; one contact of hers, one of Bob's."""
    for name, value in sandbox.settings().items():
        setattr(settings, name, value)
    for app in (sandbox.salesforce_app, sandbox.graph_app, sandbox.google_app):
        app.reset()
    sf = sandbox.salesforce_app
    me = sf.add_user(EMAIL, "Adams", "Ann")
    bob = sf.add_user("bob@acme.example", "Brown", "Bob")
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
    sf.create("Contact", {"LastName": "Babbage", "Email": "charles@client.example"}, bob)
    user.bob_id = bob
    return user


def support_group() -> Group:
    """The Support group as the data migrations make it (a transactional test's flush
    removed it): the same grant functions, run again."""
    import importlib

    from django.apps import apps

    for module in (
        "accounts.migrations.0002_support_group",
        "syncengine.migrations.0004_support_desk_permissions",
        "syncengine.migrations.0007_item_ledger",
    ):
        migration = importlib.import_module(module)
        grant = getattr(migration, "grant", None) or migration.create_support_group
        grant(apps, None)
    return Group.objects.get(name="Support")


def sign_in(page, url: str, email: str, password: str) -> None:  # noqa: F811
    page.goto(f"{url}/accounts/login/")
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', password)
    page.click('button[type="submit"]')
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_it_walks_onboarding_progress_items_and_a_session_page(live_server, page, ann):  # noqa: F811
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, live_server.url, EMAIL, DEMO_PASSWORD)
    onboarding = page.locator("#onboarding")
    expect(onboarding).to_contain_text("First sync")
    expect(onboarding.locator(".step.todo")).to_have_count(1)
    # 375 px: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # A first sync running: its progress per type is on the page and refreshes by itself.
    running = SyncSession.objects.create(
        user=ann, trigger="manual", progress={"contact": {"done": 1, "total": 2}}
    )
    page.reload()
    expect(page.get_by_role("status")).to_contain_text("1 of 2 done")
    expect(page.locator("#sync-now")).to_be_disabled()
    SyncSession.objects.filter(pk=running.pk).update(progress={"contact": {"done": 2, "total": 2}})
    expect(page.locator("#sync-progress")).to_contain_text("2 of 2 done", timeout=15_000)
    SyncSession.objects.filter(pk=running.pk).update(status="abandoned")
    page.reload()

    page.locator("#sync-now").click()  # Celery is eager in tests: the session runs now
    expect(page.get_by_role("status")).to_contain_text("A sync session is queued")
    expect(page.locator("#onboarding")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # Items: the contact that did not come down, and why.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Items").click()
    page.fill("#item-q", "charles@client")
    page.get_by_role("button", name="Search").click()
    answer = page.locator("#item-answers tr.answer")
    expect(answer).to_have_count(1)
    expect(answer).to_contain_text("not_in_contact_scope")
    expect(answer).to_contain_text("your scope is Only my contacts")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # The session's page lists its items (opened from History).
    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    page.locator("tr.session").first.get_by_role("link").first.click()
    items = page.locator("#session-items tr.item")
    expect(items.filter(has_text="Lovelace")).to_contain_text("Created")
    expect(items.filter(has_text="Babbage")).to_contain_text("Skipped by a rule")
    page.get_by_label("Action").select_option("created")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#session-items tr.item")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_support_pauses_a_user_who_then_sees_it_and_disconnect_asks_first(
    live_server,
    page,  # noqa: F811
    ann,
):
    agent = UserFactory(username="agent@relay.example", email="agent@relay.example")
    agent.is_staff = True
    agent.save()
    agent.groups.add(support_group())
    page.goto(f"{live_server.url}/admin/login/")
    page.fill('input[name="username"]', "agent@relay.example")
    page.fill('input[name="password"]', PASSWORD)
    page.click('input[type="submit"]')
    page.goto(f"{live_server.url}/admin/accounts/user/{ann.pk}/change/")
    expect(page.locator("#desk-state")).to_contain_text("Paused")

    page.locator("#desk-state").locator("xpath=..").get_by_role("link", name="Pause").click()
    page.fill("#pause-reason", "Your org is over its API limit; we resume tomorrow.")
    page.locator("#desk-confirm-button").click()
    expect(page.locator("#desk-state")).to_contain_text("yes — Your org is over its API limit")

    page.locator("#desk-state").locator("xpath=..").get_by_role("link", name="Disconnect").click()
    expect(page.locator("#desk-confirm")).to_contain_text("Are you sure?")
    page.get_by_role("link", name="No, go back").click()
    assert Connection.objects.filter(user=ann, status=Connection.Status.ACTIVE).count() == 2

    page.context.clear_cookies()
    sign_in(page, live_server.url, EMAIL, DEMO_PASSWORD)
    expect(page.locator("#paused")).to_contain_text("Syncing is paused by support")
    expect(page.locator("#paused")).to_contain_text("over its API limit")
    expect(page.locator("#next-sync")).to_contain_text("not scheduled")
