"""OAuth v2 against the emulator: consent page, code redemption, rotation, refresh via O365."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from .conftest import ANN


def _token(graph, **form):
    return requests.post(
        f"{graph.base_url}/common/oauth2/v2.0/token",
        data={"client_id": "cid", **form},
        verify=graph.ca_bundle,
        timeout=5,
    )


def test_it_approves_on_the_authorize_page_and_redirects_with_code_and_state(graph):
    params = {
        "client_id": "cid",
        "redirect_uri": "https://relay.example/oauth/ms/callback",
        "response_type": "code",
        "scope": "offline_access Contacts.ReadWrite",
        "state": "xyz-42",
        "login_hint": ANN,
    }
    page = requests.get(
        f"{graph.base_url}/common/oauth2/v2.0/authorize", params=params, verify=graph.ca_bundle
    )
    assert page.status_code == 200 and "Accept" in page.text and ANN in page.text
    form = {k: params[k] for k in ("client_id", "redirect_uri", "scope", "state")}
    approved = requests.post(
        f"{graph.base_url}/common/oauth2/v2.0/authorize",
        data={**form, "upn": ANN, "action": "accept"},
        verify=graph.ca_bundle,
        allow_redirects=False,
    )
    assert approved.status_code == 302
    location = urlsplit(approved.headers["Location"])
    query = parse_qs(location.query)
    assert location.netloc == "relay.example" and query["state"] == ["xyz-42"]

    tokens = _token(
        graph,
        grant_type="authorization_code",
        code=query["code"][0],
        redirect_uri=params["redirect_uri"],
    ).json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0
    assert set(tokens) >= {"scope", "ext_expires_in", "access_token", "refresh_token"}
    me = requests.get(
        f"{graph.base_url}/v1.0/me",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        verify=graph.ca_bundle,
    ).json()
    assert me["userPrincipalName"] == ANN
    # A code is single use.
    again = _token(
        graph,
        grant_type="authorization_code",
        code=query["code"][0],
        redirect_uri=params["redirect_uri"],
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_it_rotates_refresh_tokens_and_refuses_revoked_ones(graph):
    _, refresh = graph.app.issue_token(ANN)
    first = _token(graph, grant_type="refresh_token", refresh_token=refresh).json()
    assert first["refresh_token"] != refresh
    second = _token(graph, grant_type="refresh_token", refresh_token=first["refresh_token"]).json()
    assert second["refresh_token"] not in (refresh, first["refresh_token"])
    graph.app.revoke_refresh_tokens(ANN)
    denied = _token(graph, grant_type="refresh_token", refresh_token=second["refresh_token"])
    body = denied.json()
    assert denied.status_code == 400 and body["error"] == "invalid_grant"
    assert body["error_description"].startswith("AADSTS") and body["error_codes"]


def test_it_refreshes_an_expired_access_token_through_the_token_backend(graph, account):
    acct, backend = account
    old_refresh = backend.refresh_token_value()
    backend.expire_access_token()
    graph.app.expire_tokens(ANN)
    folders = acct.tasks().list_folders()
    assert [f.name for f in folders] == ["Tasks"]
    assert backend.refreshes == 1 and backend.refresh_token_value() != old_refresh


def test_it_surfaces_invalid_grant_when_the_refresh_token_was_revoked(graph, account):
    acct, backend = account
    backend.expire_access_token()
    graph.app.expire_tokens(ANN)
    graph.app.revoke_refresh_tokens(ANN)
    with pytest.raises(requests.HTTPError) as err:
        acct.tasks().list_folders()
    assert err.value.response.status_code == 400
    assert err.value.response.json()["error"] == "invalid_grant"


def test_it_answers_401_invalid_authentication_token_in_graphs_shape(graph):
    r = requests.get(
        f"{graph.base_url}/v1.0/me",
        headers={"Authorization": "Bearer nope"},
        verify=graph.ca_bundle,
    )
    error = r.json()["error"]
    assert r.status_code == 401 and error["code"] == "InvalidAuthenticationToken"
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
