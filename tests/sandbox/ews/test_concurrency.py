"""EWSMaxConcurrency: requests in flight per impersonated mailbox, and the refusal past it.

Exchange charges an impersonating caller's concurrent requests to the mailbox it opens;
past the throttling policy's EWSMaxConcurrency (10 on Exchange 2010 and later on-premises)
a request is refused with the SOAP fault ErrorExceededConnectionCount, and nothing of it
is applied. Requests are held in flight by the latency model (its sleep is outside the
emulator's lock and inside the request's slot): a test latency that waits for an event
holds the first N calls until the test lets them go, so no assertion depends on timing.
"""

from __future__ import annotations

import base64
import threading
import time
import xml.etree.ElementTree as ET

import pytest
import requests
from exchangelib.errors import ErrorExceededConnectionCount, SessionPoolMinSizeReached

from accounts.providers.exchange import ExchangeServerBusy, open_mailbox, translated
from sandbox.ews import EwsEmulator
from sandbox.ews.core import EWS_MAX_CONCURRENCY
from sandbox.ews.server import KeepAliveServer
from sandbox.ews.soap import E, T

from .conftest import ANN, SERVICE_PASSWORD, SERVICE_USER, server_settings

BOB = "bob@corp.example"
NS = {"e": E, "t": T}


class _Held:
    """A latency model that holds the first `n` calls in flight until `release` is set."""

    off = False

    def __init__(self, n: int) -> None:
        self.n = n
        self.release = threading.Event()
        self._lock = threading.Lock()

    def seconds(self, sub_requests: int) -> float:
        with self._lock:
            held = self.n > 0
            self.n -= 1
        if held:
            self.release.wait(30)
        return 0.0


def _envelope(smtp: str, operation: str) -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"
  xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
 <s:Header>
  <t:RequestServerVersion Version="Exchange2016"/>
  <t:ExchangeImpersonation><t:ConnectingSID>
   <t:PrimarySmtpAddress>{smtp}</t:PrimarySmtpAddress>
  </t:ConnectingSID></t:ExchangeImpersonation>
 </s:Header>
 <s:Body>{operation}</s:Body>
</s:Envelope>""".encode()


GET_INBOX = """<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>
<m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder>"""

CREATE_CONTACT = """<m:CreateItem><m:SavedItemFolderId>
<t:DistinguishedFolderId Id="contacts"/></m:SavedItemFolderId><m:Items>
<t:Contact><t:GivenName>Over</t:GivenName><t:Surname>Budget</t:Surname></t:Contact>
</m:Items></m:CreateItem>"""


@pytest.fixture
def srv(sandbox_ca):
    app = EwsEmulator()
    app.add_service_account(SERVICE_USER, SERVICE_PASSWORD, can_impersonate=True)
    app.add_mailbox(ANN, "Ann Smith")
    app.add_mailbox(BOB, "Bob Brown")
    with KeepAliveServer(app, sandbox_ca) as server:
        yield server


def _post(srv, smtp: str, operation: str = GET_INBOX) -> requests.Response:
    """One SOAP call over its own connection, Basic over TLS (no pooled NTLM logon)."""
    token = base64.b64encode(f"{SERVICE_USER}:{SERVICE_PASSWORD}".encode()).decode()
    with requests.Session() as session:
        session.trust_env = False  # else REQUESTS_CA_BUNDLE would override the sandbox CA
        return session.post(
            f"{srv.base_url}/EWS/Exchange.asmx",
            data=_envelope(smtp, operation),
            headers={"Authorization": f"Basic {token}", "Content-Type": "text/xml"},
            verify=srv.ca_bundle,
            timeout=60,
        )


def _hold(srv, smtp: str, n: int) -> tuple[_Held, list[threading.Thread], list]:
    """`n` GetFolder calls of `smtp` in flight (served, then held in their latency)."""
    held = _Held(n)
    srv.app.latency = held
    answers: list = []
    threads = [threading.Thread(target=lambda: answers.append(_post(srv, smtp))) for _ in range(n)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while srv.app.in_flight.current(smtp) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    assert srv.app.in_flight.current(smtp) == n
    return held, threads, answers


def _let_go(srv, held: _Held, threads: list[threading.Thread]) -> None:
    held.release.set()
    for thread in threads:
        thread.join(30)
    srv.app.set_latency()


def _code(response: requests.Response) -> tuple[str | None, dict[str, str]]:
    detail = ET.fromstring(response.content).find(".//detail")
    assert detail is not None, response.text
    values = {v.get("Name"): v.text for v in detail.findall("t:MessageXml/t:Value", NS)}
    return detail.findtext("e:ResponseCode", namespaces=NS), values


def test_the_eleventh_call_in_flight_for_a_mailbox_is_refused_another_mailbox_served(srv):
    assert srv.app.max_concurrency == EWS_MAX_CONCURRENCY == 10
    held, threads, answers = _hold(srv, ANN, 10)
    try:
        over = _post(srv, ANN, CREATE_CONTACT)
        other = _post(srv, BOB)
        peak_while_held = srv.app.peak_in_flight(ANN)
    finally:
        _let_go(srv, held, threads)
    assert over.status_code == 500
    code, values = _code(over)
    assert code == "ErrorExceededConnectionCount"
    assert values["Policy"] == "MaxConcurrency" and values["MaxConcurrencyLimit"] == "10"
    assert "concurrent connections" in ET.fromstring(over.content).findtext(".//faultstring")
    assert srv.app.concurrency_refused == {ANN: 1}
    # Refused before the store: no contact was created, no CreateItem reached its handler.
    assert srv.app.mailbox(ANN).items == {}
    assert all(op != "CreateItem" for op, _, _ in srv.app.soap_calls)
    # Bob's mailbox has its own budget; the held ten are answered in full.
    assert other.status_code == 200 and b"NoError" in other.content
    assert [a.status_code for a in answers] == [200] * 10
    assert peak_while_held == srv.app.peak_in_flight(ANN) == 10
    # Once they are done, Ann is served again.
    assert _post(srv, ANN, CREATE_CONTACT).status_code == 200
    assert len(srv.app.mailbox(ANN).items) == 1


def test_the_limit_is_per_app_and_none_only_counts(srv):
    srv.app.max_concurrency = 2
    held, threads, _ = _hold(srv, ANN, 2)
    try:
        assert _code(_post(srv, ANN))[0] == "ErrorExceededConnectionCount"
        srv.app.max_concurrency = None
        assert _post(srv, ANN).status_code == 200
    finally:
        _let_go(srv, held, threads)
    assert srv.app.peak_in_flight(ANN) == 3
    srv.app.reset()
    assert srv.app.max_concurrency == EWS_MAX_CONCURRENCY


def test_an_unauthenticated_call_over_the_limit_still_gets_its_401(srv):
    srv.app.max_concurrency = 1
    held, threads, _ = _hold(srv, ANN, 1)
    try:
        with requests.Session() as session:
            session.trust_env = False
            answer = session.post(
                f"{srv.base_url}/EWS/Exchange.asmx",
                data=_envelope(ANN, GET_INBOX),
                verify=srv.ca_bundle,
                timeout=60,
            )
    finally:
        _let_go(srv, held, threads)
    assert answer.status_code == 401  # IIS logs on before EWS charges the budget


def test_exchangelib_raises_it_and_relay_reads_it_as_retry_later(srv):
    """exchangelib raises ErrorExceededConnectionCount (Relay keeps its session pool, see
    the next test), which Relay maps to "the server is busy, retry later"."""
    account = open_mailbox(server_settings(srv, auth="Basic"), ANN)
    _ = account.contacts  # version and folder known, one session in the pool
    held, threads, _ = _hold(srv, ANN, EWS_MAX_CONCURRENCY)
    try:
        with pytest.raises(ExchangeServerBusy) as caught, translated():
            list(account.contacts.all().only("id"))
    finally:
        _let_go(srv, held, threads)
    assert isinstance(caught.value.__cause__, ErrorExceededConnectionCount)
    assert "EWSMaxConcurrency" in str(caught.value)
    assert srv.app.concurrency_refused == {ANN: 1}  # raised, not retried at once
    assert list(account.contacts.all().only("id")) == []  # served once the others are done


def test_a_refusal_for_concurrency_does_not_shrink_the_shared_session_pool(srv):
    """exchangelib answers ErrorExceededConnectionCount by shrinking the worker's session
    pool (shared by every mailbox on the server) and retrying at once; its shrinking can
    also hang a thread (its pool Lock, taken twice, when every session is in use). Relay
    keeps the pool, so the refusal is raised and the session retries later."""
    account = open_mailbox(server_settings(srv, auth="Basic"), ANN)
    protocol = account.protocol
    idle = [protocol.get_session(), protocol.get_session()]
    for session in idle:
        protocol.release_session(session)
    with pytest.raises(SessionPoolMinSizeReached):
        protocol.decrease_poolsize()
    assert protocol.session_pool_size == 2
    busy = [protocol.get_session(), protocol.get_session()]  # every session in use
    with pytest.raises(SessionPoolMinSizeReached):
        protocol.decrease_poolsize()
    for session in busy:
        protocol.release_session(session)
    assert list(account.contacts.all().only("id")) == []
