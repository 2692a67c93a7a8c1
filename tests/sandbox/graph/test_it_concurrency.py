"""Graph's per-mailbox concurrency limit and the latency model, through real HTTPS calls.

Outlook allows four concurrent requests per app and mailbox; a fifth answers 429
ApplicationThrottled ("Application is over its MailboxConcurrency limit.") with Retry-After.
A $batch holds as many slots as Graph runs of it at once (its independent requests, at
most four). The latency model (off by default) makes requests overlap in time, which is
what lets them be in flight together.
"""

import threading
import time

import requests

from .conftest import ANN

BOB = "bob@contoso.example"
LATENCY = 0.4


def _client(srv, upn):
    access, _ = srv.app.issue_token(upn)
    s = requests.Session()
    s.trust_env = False  # else REQUESTS_CA_BUNDLE would override the sandbox CA
    s.verify = srv.ca_bundle
    s.headers["Authorization"] = f"Bearer {access}"
    return s


def _concurrently(calls):
    """Start every call at once; their responses in the order given."""
    out = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i, call):
        barrier.wait()
        out[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return out


def _get(session, srv, path="/v1.0/me/contacts"):
    return lambda: session.get(srv.base_url + path, timeout=30)


def _batch(n, chained=False):
    requests_ = []
    for i in range(n):
        item = {"id": str(i + 1), "method": "GET", "url": "/me/contacts"}
        if chained and i:
            item["dependsOn"] = [str(i)]
        requests_.append(item)
    return {"requests": requests_}


def test_it_is_off_by_default_and_counts_the_peak_in_flight(graph):
    ann = _client(graph, ANN)
    assert graph.app.latency.off
    assert ann.get(graph.base_url + "/v1.0/me/contacts").ok
    assert graph.app.peak_in_flight(ANN) == 1


def test_it_refuses_a_fifth_concurrent_request_for_one_mailbox_only(graph):
    graph.app.add_mailbox(BOB, "Bob")
    graph.app.set_latency(LATENCY)
    ann, bob = _client(graph, ANN), _client(graph, BOB)
    replies = _concurrently([_get(ann, graph)] * 5 + [_get(bob, graph)])
    statuses = sorted(r.status_code for r in replies[:5])
    assert statuses == [200, 200, 200, 200, 429]
    refused = next(r for r in replies if r.status_code == 429)
    assert refused.json()["error"]["code"] == "ApplicationThrottled"
    assert "MailboxConcurrency" in refused.json()["error"]["message"]
    assert int(refused.headers["Retry-After"]) >= 1
    assert replies[5].status_code == 200  # Bob's mailbox has its own four slots
    assert (graph.app.peak_in_flight(ANN), graph.app.peak_in_flight(BOB)) == (4, 1)
    # Once the four are done, the mailbox takes requests again.
    assert ann.get(graph.base_url + "/v1.0/me/contacts").ok


def test_it_counts_a_batch_as_its_parallel_inner_requests(graph):
    """Two plain requests in flight leave two of the mailbox's four slots: an unordered batch
    of five (which Graph runs four at a time) is two slots short, so two of its requests are
    answered 429 inside the 200 batch response."""
    graph.app.set_latency(LATENCY)
    ann = _client(graph, ANN)
    url = graph.base_url + "/v1.0/$batch"

    def late_batch():
        time.sleep(LATENCY / 3)  # the two plain GETs are in flight by now
        return ann.post(url, json=_batch(5), timeout=30)

    replies = _concurrently([_get(ann, graph), _get(ann, graph), late_batch])
    assert [r.status_code for r in replies] == [200, 200, 200]
    inner = {r["id"]: r for r in replies[2].json()["responses"]}
    throttled = sorted(i for i, r in inner.items() if r["status"] == 429)
    assert throttled == ["4", "5"], inner
    assert all(inner[i]["body"]["error"]["code"] == "ApplicationThrottled" for i in throttled)
    assert all("Retry-After" in inner[i]["headers"] for i in throttled)
    assert graph.app.peak_in_flight(ANN) == 4


def test_it_lets_four_chained_batches_run_together(graph):
    """dependsOn makes Graph run a batch's requests one after another: one slot each."""
    graph.app.set_latency(LATENCY / 4, per_sub_request=0.01)
    ann = _client(graph, ANN)
    url = graph.base_url + "/v1.0/$batch"
    post = lambda: ann.post(url, json=_batch(20, chained=True), timeout=30)  # noqa: E731
    replies = _concurrently([post] * 4)
    for reply in replies:
        assert [r["status"] for r in reply.json()["responses"]] == [200] * 20
    assert graph.app.peak_in_flight(ANN) == 4
    # An unordered batch of 20 alone takes the mailbox's four slots.
    graph.app.reset_peak_in_flight()
    assert ann.post(url, json=_batch(20), timeout=30).ok
    assert graph.app.peak_in_flight(ANN) == 4


def test_it_delays_each_call_by_base_plus_per_sub_request(graph):
    ann = _client(graph, ANN)
    graph.app.set_latency(0.05, per_sub_request=0.05)
    started = time.monotonic()
    assert ann.post(graph.base_url + "/v1.0/$batch", json=_batch(4), timeout=30).ok
    assert time.monotonic() - started >= 0.05 + 4 * 0.05
    graph.app.set_latency()
    assert graph.app.latency.off
