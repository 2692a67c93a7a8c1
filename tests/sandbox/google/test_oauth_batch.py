"""OAuth (consent, code exchange, refresh, revoke) and multipart batches."""

import json
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from google.auth.exceptions import RefreshError
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from .conftest import ALICE, authorized_http, service


def test_it_walks_the_consent_page_and_exchanges_the_code(google):
    base, ca = google.base_url, google.ca_bundle
    google.app.add_account("bob@example.com", "Bob")
    params = {
        "client_id": "cid",
        "redirect_uri": "https://relay.test/cb",
        "response_type": "code",
        "scope": "openid email https://www.googleapis.com/auth/contacts",
        "state": "xyz",
        "access_type": "offline",
        "prompt": "consent",
        "login_hint": ALICE,
    }
    page = requests.get(f"{base}/o/oauth2/v2/auth", params=params, verify=ca, timeout=5)
    assert page.status_code == 200 and ALICE in page.text and "bob@example.com" not in page.text
    assert "Allow" in page.text
    form = {k: params[k] for k in ("client_id", "redirect_uri", "scope", "state")}
    resp = requests.post(
        f"{base}/o/oauth2/v2/approve",
        data={**form, "email": ALICE, "decision": "allow"},
        verify=ca,
        allow_redirects=False,
        timeout=5,
    )
    assert resp.status_code == 302
    loc = urlparse(resp.headers["Location"])
    q = parse_qs(loc.query)
    assert loc.netloc == "relay.test" and q["state"] == ["xyz"] and q["code"]
    token = requests.post(
        f"{base}/token",
        data={
            "grant_type": "authorization_code",
            "code": q["code"][0],
            "redirect_uri": "https://relay.test/cb",
            "client_id": "cid",
            "client_secret": "sec",
        },
        verify=ca,
        timeout=5,
    ).json()
    assert {
        "access_token",
        "expires_in",
        "refresh_token",
        "scope",
        "token_type",
        "id_token",
    } <= set(token)
    again = requests.post(
        f"{base}/token",
        data={"grant_type": "authorization_code", "code": q["code"][0], "client_id": "cid"},
        verify=ca,
        timeout=5,
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    me = requests.get(
        f"{base}/oauth2/v2/userinfo",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        verify=ca,
        timeout=5,
    ).json()
    assert me["email"] == ALICE
    refreshed = requests.post(
        f"{base}/token",
        data={
            "grant_type": "refresh_token",
            "client_id": "cid",
            "refresh_token": token["refresh_token"],
        },
        verify=ca,
        timeout=5,
    ).json()
    assert "access_token" in refreshed and "refresh_token" not in refreshed
    assert requests.post(
        f"{base}/revoke", params={"token": token["refresh_token"]}, verify=ca, timeout=5
    ).ok


def test_it_refreshes_on_401_and_fails_with_invalid_grant_once_revoked(google, api):
    tasks = api("tasks", "v1")
    old = api.creds.token
    google.app.expire_tokens(ALICE)
    assert tasks.tasklists().list().execute()["items"]
    assert api.creds.token != old
    assert [c.status for c in google.app.calls][-3:] == [401, 200, 200]  # 401, /token, retry
    google.app.revoke_refresh_tokens(ALICE)
    google.app.expire_tokens(ALICE)
    with pytest.raises(RefreshError) as exc:
        tasks.tasklists().list().execute()
    assert "invalid_grant" in str(exc.value)


def test_it_surfaces_an_injected_503_and_401_in_google_shape(google, api):
    cal = api("calendar", "v3")
    google.app.fail_next(1, 503)
    with pytest.raises(HttpError) as exc:
        cal.calendarList().list().execute()
    assert exc.value.resp.status == 503
    assert json.loads(exc.value.content)["error"]["status"] == "UNAVAILABLE"
    r = requests.get(
        f"{google.base_url}/calendar/v3/users/me/calendarList",
        headers={"Authorization": "Bearer nope"},
        verify=google.ca_bundle,
        timeout=5,
    )
    err = r.json()["error"]
    assert (r.status_code, err["status"], err["errors"][0]["reason"]) == (
        401,
        "UNAUTHENTICATED",
        "authError",
    )


def test_it_answers_batches_per_part_by_content_id_with_failures_and_429(google, api):
    cal = api("calendar", "v3")
    google.app.reverse_batch_responses = True  # clients must match by Content-ID
    results = {}

    def cb(request_id, response, exception):
        results[request_id] = exception if exception is not None else response

    batch = BatchHttpRequest(callback=cb, batch_uri=f"{google.base_url}/batch/calendar/v3")
    for i in range(4):
        body = {
            "summary": f"E{i}",
            "start": {"dateTime": f"2030-01-0{i + 1}T10:00:00Z"},
            "end": {"dateTime": f"2030-01-0{i + 1}T11:00:00Z"},
        }
        if i == 2:
            body["end"] = body["start"]  # empty range → per-part 400
        batch.add(cal.events().insert(calendarId="primary", body=body), request_id=str(i))
    batch.add(cal.events().get(calendarId="primary", eventId="missing0"), request_id="4")
    google.app.throttle_next(1, retry_after=0, match="/calendar/v3/calendars/primary/events")
    google.app.clear_calls()
    batch.execute()
    assert isinstance(results["0"], HttpError) and results["0"].resp.status == 429
    assert [results[str(i)]["summary"] for i in (1, 3)] == ["E1", "E3"]
    assert results["2"].resp.status == 400 and results["4"].resp.status == 404
    assert len(google.app.calls) == 1 and google.app.quota_units(ALICE) == 5

    # Mixing APIs in one batch is refused as a whole.
    tasks = api("tasks", "v1")
    mixed = BatchHttpRequest(callback=cb, batch_uri=f"{google.base_url}/batch")
    mixed.add(cal.calendarList().list())
    mixed.add(tasks.tasklists().list())
    with pytest.raises(HttpError) as exc:
        mixed.execute()
    assert exc.value.resp.status == 400


def test_it_batches_people_writes_and_gmail_reads(google):
    http, _ = authorized_http(google)
    people = service(google, "people", "v1", http)
    out = []
    batch = BatchHttpRequest(
        callback=lambda rid, resp, exc: out.append((rid, resp, exc)),
        batch_uri=f"{google.base_url}/batch/people/v1",
    )
    for i in range(3):
        batch.add(people.people().createContact(body={"names": [{"givenName": f"B{i}"}]}))
    batch.execute()
    assert sorted(r["names"][0]["givenName"] for _, r, e in out) == ["B0", "B1", "B2"]
    gmail = service(google, "gmail", "v1", http)
    big = BatchHttpRequest(callback=lambda *a: None, batch_uri=f"{google.base_url}/batch/gmail/v1")
    for _ in range(101):
        big.add(gmail.users().labels().list(userId="me"))
    with pytest.raises(HttpError) as exc:
        big.execute()
    assert exc.value.resp.status == 400
