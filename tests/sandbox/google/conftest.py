"""Fixtures: a Google emulator over real HTTPS, and google-api-python-client services on it.

The client construction here is the one Relay's adapter should use against the sandbox:
`AuthorizedHttp(Credentials(..., token_uri=base + "/token"), http=httplib2.Http(ca_certs=…))`
passed as `http=` (not `credentials=`; the two are mutually exclusive), and
`client_options={"api_endpoint": base + "/"}` (Calendar: `base + "/calendar/v3/"`).
"""

import os

import google_auth_httplib2
import httplib2
import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build

from sandbox.common import EmulatorServer
from sandbox.google import GoogleEmulator

# httplib2 honours proxy variables; the sandbox lives on loopback.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

ALICE = "alice@example.com"
ENDPOINT_SUFFIX = {"calendar": "/calendar/v3/"}


@pytest.fixture
def google(sandbox_ca):
    app = GoogleEmulator()
    app.add_account(ALICE, "Alice Example", "Europe/Berlin")
    with EmulatorServer(app, sandbox_ca) as server:
        yield server


def authorized_http(server, email=ALICE):
    access, refresh = server.app.issue_token(email)
    creds = Credentials(
        access,
        refresh_token=refresh,
        token_uri=f"{server.base_url}/token",
        client_id="cid",
        client_secret="sec",
    )
    http = google_auth_httplib2.AuthorizedHttp(creds, http=httplib2.Http(ca_certs=server.ca_bundle))
    return http, creds


def service(server, api, version, http):
    endpoint = server.base_url + ENDPOINT_SUFFIX.get(api, "/")
    return build(
        api,
        version,
        http=http,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": endpoint},
    )


@pytest.fixture
def api(google):
    """`api("people", "v1")` → a service authorised as Alice (shared http/credentials)."""
    http, creds = authorized_http(google)

    def make(name, version):
        return service(google, name, version, http)

    make.creds = creds
    make.http = http
    return make
