"""Each session builds its own requests.Session (its own tokens), but the connections under
them are the worker process's: a session reuses what the last one kept alive, on any of
the worker's threads (issue 15's fleet: a TLS handshake and CA load per call otherwise)."""

from __future__ import annotations

import threading

import pytest
import requests

from accounts.providers.exchange import CaBundleAdapter
from accounts.providers.http import session_for
from sandbox.common import SandboxCA
from sandbox.ews.server import KeepAliveServer
from sandbox.salesforce.app import SalesforceEmulator


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Keeps connections alive, as Salesforce and Graph do (Werkzeug's server does not)."""
    ca = SandboxCA(tmp_path_factory.mktemp("shared-connections-ca"))
    with KeepAliveServer(SalesforceEmulator(), ca) as running:
        yield running


def test_sessions_on_any_thread_share_the_processs_kept_alive_connections(server):
    url = f"{server.base_url}/_sandbox/calls"
    first = session_for(server.ca_bundle)
    first.headers["Authorization"] = "Bearer first-user"
    assert first.get(url, timeout=10).ok
    pool = first.get_adapter(url).poolmanager.connection_from_url(url)
    opened = pool.num_connections

    answers = []

    def another_session(token):
        session = session_for(server.ca_bundle)
        session.headers["Authorization"] = f"Bearer {token}"
        ok = session.get(url, timeout=10).ok
        answers.append((ok, session.get_adapter(url).poolmanager.connection_from_url(url)))

    for n in range(3):  # one after another, each on a thread of its own
        thread = threading.Thread(target=another_session, args=(f"user-{n}",))
        thread.start()
        thread.join(10)
    assert answers == [(True, pool)] * 3  # the process's pool, whatever the thread
    assert pool.num_connections == opened  # no new connection, no new handshake
    assert "Authorization" not in first.get_adapter(url).poolmanager.connection_pool_kw
    assert first.headers["Authorization"] == "Bearer first-user"  # tokens stay per session


def test_exchange_answers_are_handed_to_the_xml_parser_in_one_piece(server):
    """exchangelib parses from `iter_content()`, one byte a step by default; Relay's adapter
    hands over the already-read body whole (an explicit chunk size is still honoured)."""
    session = requests.Session()
    session.mount("https://", CaBundleAdapter())
    CaBundleAdapter.register(server.base_url, server.ca_bundle)
    response = session.get(f"{server.base_url}/_sandbox/calls", timeout=10)
    assert len(response.content) > 10
    assert list(response.iter_content()) == [response.content]
    assert len(list(response.iter_content(4))) == -(-len(response.content) // 4)
