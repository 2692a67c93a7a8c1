"""OAuth web-server flow, refresh, revoke, identity, and expired sessions."""

import re
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from simple_salesforce.exceptions import SalesforceExpiredSession

REDIRECT = "https://relay.example/oauth/salesforce/callback"


def _authorize(org, **extra):
    s = org.session()
    params = {
        "response_type": "code",
        "client_id": "relay",
        "redirect_uri": REDIRECT,
        "state": "xyz123",
        **extra,
    }
    page = s.get(org.url("/services/oauth2/authorize"), params=params)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    return s, page.text


def _approve(org, s, user_id):
    r = s.post(
        org.url("/services/oauth2/authorize"),
        allow_redirects=False,
        data={
            "user_id": user_id,
            "client_id": "relay",
            "redirect_uri": REDIRECT,
            "state": "xyz123",
        },
    )
    assert r.status_code == 302
    return r.headers["Location"]


def test_it_walks_the_web_server_flow_to_a_working_token(org):
    bob = org.emu.add_user("bob@acme.example", "Brown", "Bob")
    s, html = _authorize(org, login_hint="bob@acme.example")
    assert "Alice Adams" in html and "Bob Brown" in html
    assert html.index("Bob Brown") < html.index("Alice Adams")  # the hinted user comes first
    user_ids = re.findall(r'name="user_id" value="(\w+)"', html)
    location = _approve(org, s, user_ids[0])
    query = parse_qs(urlparse(location).query)
    assert location.startswith(REDIRECT) and query["state"] == ["xyz123"]

    token = s.post(
        org.url("/services/oauth2/token"),
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "client_id": "relay",
            "client_secret": "s3cret",
            "redirect_uri": REDIRECT,
        },
    ).json()
    assert set(token) == {
        "access_token",
        "refresh_token",
        "signature",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    }
    assert token["id"] == f"{org.server.base_url}/id/{org.emu.org_id}/{bob}"
    assert token["instance_url"] == org.server.base_url and token["token_type"] == "Bearer"

    ident = s.get(token["id"], headers={"Authorization": f"Bearer {token['access_token']}"}).json()
    assert (ident["user_id"], ident["organization_id"], ident["username"]) == (
        bob,
        org.emu.org_id,
        "bob@acme.example",
    )
    assert ident["display_name"] == "Bob Brown" and ident["email"] == "bob@acme.example"
    assert org.sf(token["access_token"]).query("SELECT Id FROM User")["totalSize"] == 2

    again = s.post(
        org.url("/services/oauth2/token"),
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT,
        },
    )
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": "expired access/refresh token",
    }


def test_it_expires_a_session_and_refreshes_it(org):
    sf = org.sf()
    sf.query("SELECT Id FROM Contact")
    org.emu.expire_tokens(org.user_id)
    with pytest.raises(SalesforceExpiredSession) as exc:
        sf.query("SELECT Id FROM Contact")
    assert exc.value.content[0]["errorCode"] == "INVALID_SESSION_ID"
    r = requests.post(
        org.url("/services/oauth2/token"),
        verify=org.server.ca_bundle,
        data={"grant_type": "refresh_token", "refresh_token": org.refresh, "client_id": "relay"},
    )
    body = r.json()
    assert r.status_code == 200 and "refresh_token" not in body and "expires_in" not in body
    assert org.sf(body["access_token"]).query("SELECT Id FROM Contact")["done"] is True


def test_it_refuses_a_revoked_refresh_token_with_invalid_grant(org):
    s = org.session()
    assert (
        s.post(org.url("/services/oauth2/revoke"), data={"token": org.refresh}).status_code == 200
    )
    r = s.post(
        org.url("/services/oauth2/token"),
        data={"grant_type": "refresh_token", "refresh_token": org.refresh},
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    with pytest.raises(SalesforceExpiredSession):  # revoking ends its sessions too
        org.sf().query("SELECT Id FROM Contact")


def test_it_expires_tokens_through_the_control_api(org):
    r = org.session().post(org.url("/_sandbox/faults"), json={"expire_tokens": True})
    assert r.json()["expired_tokens"] == 1
    with pytest.raises(SalesforceExpiredSession):
        org.sf().query("SELECT Id FROM Contact")
