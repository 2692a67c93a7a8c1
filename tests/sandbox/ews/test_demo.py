"""The Exchange demo in the sandbox stack: reachable with the described settings, seeded."""

import datetime as dt

import pytest
from exchangelib import EWSDateTime, EWSTimeZone

from accounts.providers.exchange import ExchangeServer, open_mailbox
from sandbox.ews.demo import DEMO_SERVICE_ACCOUNT
from sandbox.management.commands.sandbox import EXCHANGE_DEMO_MAILBOX, seed_exchange_demo
from sandbox.stack import build_stack


@pytest.fixture
def stack(tmp_path):
    running = build_stack(ca_dir=tmp_path).start()
    yield running
    running.stop()


def test_it_serves_a_seeded_demo_mailbox_next_to_the_other_emulators(stack):
    info = seed_exchange_demo(stack)
    assert stack.describe()["ews"] == info["ews_url"]
    server = ExchangeServer(
        info["ews_url"],
        info["username"],
        DEMO_SERVICE_ACCOUNT["password"],
        ca_bundle=str(stack.ca.ca_bundle),
    )
    account = open_mailbox(server, EXCHANGE_DEMO_MAILBOX)
    names = {f.name for f in account.root.walk()}
    assert "Salesforce Emails" in names
    assert "Salesforce Contacts" not in names  # the engine creates it on its first session
    assert account.contacts.all().count() == 4
    [filed] = list((account.msg_folder_root / "Salesforce Emails").all())
    assert filed.subject == "Quote request"
    assert [a.name for a in filed.attachments] == ["quote.pdf"]
    berlin = EWSTimeZone("Europe/Berlin")
    now = EWSDateTime.from_datetime(dt.datetime.now(dt.UTC).replace(microsecond=0))
    view = list(
        account.calendar.view(start=now.astimezone(berlin), end=(now + dt.timedelta(days=70)))
    )
    kinds = [o.type for o in view if o.subject.startswith("Weekly pipeline call")]
    assert kinds.count("Exception") == 1
    assert len(kinds) == 7  # 8 occurrences, one deleted
    assert any(o.is_all_day for o in view)


def test_it_offers_its_controls_over_http(ews):
    import requests
    from exchangelib.errors import ErrorInvalidSyncStateData

    from accounts.providers.exchange import ExchangeServerBusy, translated

    from .conftest import server_settings

    def control(method, action, body=None):
        url = f"{ews.base_url}/_sandbox/{action}"
        return requests.request(method, url, json=body, verify=ews.ca_bundle, timeout=10).json()

    seeded = control(
        "POST",
        "seed",
        {
            "service_accounts": [{"username": "CORP\\svc-two", "password": "pw-two"}],
            "mailboxes": [{"smtp": "bo@corp.example", "display_name": "Bo"}],
        },
    )
    assert seeded["ews_url"] == f"{ews.base_url}/EWS/Exchange.asmx"
    settings = server_settings(ews, user="CORP\\svc-two", password="pw-two", auth="Basic")
    account = open_mailbox(settings, "bo@corp.example")
    account.contacts.item_sync_state = None
    list(account.contacts.sync_items())
    state = account.contacts.item_sync_state
    assert (
        control("GET", "operations", {"smtp": "bo@corp.example"})["operations"]["SyncFolderItems"]
        == 1
    )
    control("DELETE", "sync_states", {"smtp": "bo@corp.example"})
    with pytest.raises(ErrorInvalidSyncStateData):
        list(account.contacts.sync_items(sync_state=state))
    control("POST", "server_busy", {"n": 1, "back_off_ms": 250})
    with pytest.raises(ExchangeServerBusy) as busy, translated():
        _ = account.tasks
    assert busy.value.retry_after == 0.25
    assert control("GET", "invitations") == {"invitations": []}
