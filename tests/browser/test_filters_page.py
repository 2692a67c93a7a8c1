"""The Filters page in a real browser: Playwright drives Debian's Chromium (/usr/bin/chromium)."""

import os

import pytest
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from syncsettings.models import SyncSettings
from tests.factories import PASSWORD, UserFactory

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

pytestmark = pytest.mark.browser


@pytest.fixture
def page():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()
            # ORM calls made while Playwright's sync API runs leave a connection that
            # pytest-django does not close; PostgreSQL would then refuse to drop the test
            # database at the end of the run ("being accessed by other users").
            connections.close_all()


def test_it_saves_a_switch_and_validates_the_custom_view(live_server, page):
    user = UserFactory(username="browser-user", email="browser@example.com")

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill('input[name="login"]', user.email)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.get_by_role("link", name="Filters").first.click()
    tasks = page.locator("#id_tasks_down_enabled")
    expect(tasks).to_be_checked()
    tasks.uncheck()
    page.get_by_role("button", name="Save filters").click()
    expect(page.get_by_role("status")).to_contain_text("Filters saved")

    page.reload()
    expect(page.locator("#id_tasks_down_enabled")).not_to_be_checked()
    expect(page.locator("#id_contacts_down_enabled")).to_be_checked()
    assert not SyncSettings.objects.get(user=user).tasks_down_enabled

    page.get_by_text("Customize").click()
    page.get_by_label("Custom view").check()
    page.get_by_role("button", name="Save filters").click()
    expect(page.locator("#contact-scope .errorlist")).to_have_text(
        "Choose a view, or pick another set of contacts."
    )
    expect(page.get_by_label("Custom view")).to_be_checked()
    assert SyncSettings.objects.get(user=user).contact_scope == "mine"
