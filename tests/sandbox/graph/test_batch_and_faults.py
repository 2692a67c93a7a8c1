"""JSON batching and injected faults, as O365/requests see them."""

import pytest
import requests

from .conftest import ANN


def _batch(api, requests_):
    return api.post("$batch", {"requests": requests_})


def test_it_answers_batches_out_of_order_matched_by_id(graph, api):
    folder = graph.app.create_contact_folder(ANN, "SF")
    reqs = [
        {
            "id": str(i),
            "method": "POST",
            "url": f"/me/contactFolders/{folder['id']}/contacts",
            "headers": {"Content-Type": "application/json"},
            "body": {"givenName": f"B{i}"},
        }
        for i in range(1, 6)
    ]
    reqs.append({"id": "6", "method": "GET", "url": "me/contacts/does-not-exist"})
    graph.app.clear_calls()
    out = _batch(api, reqs)["responses"]
    assert [r["id"] for r in out] != [r["id"] for r in reqs]
    by_id = {r["id"]: r for r in out}
    assert all(by_id[str(i)]["status"] == 201 for i in range(1, 6))
    assert by_id["3"]["body"]["givenName"] == "B3"
    assert (
        by_id["6"]["status"] == 404 and by_id["6"]["body"]["error"]["code"] == "ErrorItemNotFound"
    )
    [call] = graph.app.calls
    assert call.path == "/v1.0/$batch" and call.units == 6


def test_it_fails_dependents_with_424_and_throttles_inner_requests(graph, api):
    graph.app.throttle_next(1, retry_after=3, match="/todo/lists")
    out = _batch(
        api,
        [
            {"id": "a", "method": "GET", "url": "/me/events/nope"},
            {"id": "b", "method": "GET", "url": "/me", "dependsOn": ["a"]},
            {"id": "c", "method": "GET", "url": "/me/todo/lists"},
            {"id": "d", "method": "GET", "url": "/me/outlook/masterCategories"},
        ],
    )["responses"]
    by_id = {r["id"]: r for r in out}
    assert by_id["a"]["status"] == 404 and by_id["b"]["status"] == 424
    assert by_id["c"]["status"] == 429 and by_id["c"]["headers"]["Retry-After"] == "3"
    assert by_id["d"]["status"] == 200


def test_it_refuses_malformed_batches(api):
    too_many = [{"id": str(i), "method": "GET", "url": "/me"} for i in range(21)]
    dupes = [{"id": "x", "method": "GET", "url": "/me"}, {"id": "X", "method": "GET", "url": "/me"}]
    for body in (too_many, dupes):
        with pytest.raises(requests.HTTPError) as err:
            _batch(api, body)
        assert err.value.response.status_code == 400
        assert err.value.response.json()["error"]["code"] == "BadRequest"


def test_it_batches_delta_links_as_relative_urls(graph, api):
    folder = graph.app.create_contact_folder(ANN, "SF")
    graph.app.create_contact(ANN, {"givenName": "Z"}, folder["id"])
    _, link = api.rounds(f"me/contactFolders/{folder['id']}/contacts/delta")
    relative = link.split("/v1.0", 1)[1]
    out = _batch(api, [{"id": "1", "method": "GET", "url": relative}])["responses"]
    assert out[0]["status"] == 200 and out[0]["body"]["value"] == []
    assert out[0]["body"]["@odata.deltaLink"].startswith(graph.base_url)


def test_it_injects_503_and_429_as_the_library_sees_them(graph, account, api):
    acct, _ = account
    graph.app.fail_next(1, status=503)
    assert api.get("me")["userPrincipalName"] == ANN  # urllib3 retried the GET
    graph.app.throttle_next(2, retry_after=0)
    assert api.get("me/contacts")["value"] == []  # retried past two 429s
    graph.app.throttle_next(1, retry_after=0, match="/contacts")
    with pytest.raises(requests.HTTPError) as err:
        api.post("me/contacts", {"givenName": "X"})  # POSTs are not retried by O365
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "0"
    assert err.value.response.json()["error"]["code"] == "TooManyRequests"
    graph.app.throttle_next(10, retry_after=0, match="/me/todo")
    with pytest.raises(requests.exceptions.RetryError):
        acct.tasks().list_folders()
    graph.app.clear_faults()
