"""A worker process runs many Gmail sessions, on several threads: the API resources are
generated once per process and the transport keeps its connections per thread, yet every
session still speaks for its own account only (issue 15's fleet)."""

from __future__ import annotations

import threading

import pytest
from google.oauth2.credentials import Credentials

from accounts.providers.google_client import shared_transport
from sandbox.ews.server import KeepAliveServer
from sandbox.google import GoogleEmulator
from syncengine.mailboxes.gmail.adapter import build_google_services

ACCOUNTS = [f"user{i}@example.com" for i in range(4)]


@pytest.fixture(scope="module")
def google_server(sandbox_ca):
    """Keeps connections alive as Google does (Werkzeug's server closes every one)."""
    with KeepAliveServer(GoogleEmulator(), sandbox_ca) as server:
        yield server


def services_for(server, email):
    access, refresh = server.app.issue_token(email)
    credentials = Credentials(
        access,
        refresh_token=refresh,
        token_uri=f"{server.base_url}/token",
        client_id="relay-client",
        client_secret="relay-secret",
    )
    return build_google_services(credentials, server.base_url, server.ca_bundle)


def group_names(services):
    answer = services.people.contactGroups().list(groupFields="name").execute()
    return {g["name"] for g in answer.get("contactGroups", []) if g["name"].startswith("Group of")}


def test_sessions_on_many_threads_each_see_only_their_own_account(google_server):
    emu = google_server.app
    emu.reset()
    for email in ACCOUNTS:
        emu.add_account(email, email)
        emu.create_group(email, f"Group of {email}")
    seen: dict[str, list[set[str]]] = {email: [] for email in ACCOUNTS}
    errors: list[BaseException] = []

    def sessions(email):
        try:
            for _ in range(5):  # a new session each time: services built anew
                seen[email].append(group_names(services_for(google_server, email)))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=sessions, args=(e,)) for e in ACCOUNTS * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    for email in ACCOUNTS:
        assert seen[email] == [{f"Group of {email}"}] * 10


def test_a_new_session_reuses_the_generated_methods_and_the_threads_open_connection(
    google_server,
):
    emu = google_server.app
    emu.reset()
    emu.add_account(ACCOUNTS[0], "One")
    first, second = (
        services_for(google_server, ACCOUNTS[0]),
        services_for(google_server, ACCOUNTS[0]),
    )
    # The same generated function, bound to each session's own resource and http.
    assert first.calendar.events().list.__func__ is second.calendar.events().list.__func__
    assert first.calendar.events() is first.calendar.events()  # once per session
    assert first.calendar.events() is not second.calendar.events()
    assert first.calendar.events()._http is not second.calendar.events()._http

    transport = shared_transport(google_server.ca_bundle, 60.0, without_proxy=True)
    group_names(first)
    [(key, opened)] = [(k, c) for k, c in transport.connections.items() if c.sock is not None]
    group_names(second)
    assert transport.connections[key] is opened and opened.sock is not None  # kept alive

    elsewhere: list[dict] = []
    other = threading.Thread(target=lambda: elsewhere.append(dict(transport.connections)))
    other.start()
    other.join(10)
    assert elsewhere == [{}]  # another thread never gets this thread's connection
