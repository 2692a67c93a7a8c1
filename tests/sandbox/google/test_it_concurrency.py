"""Per-user concurrency on the Google emulator and the latency model over multipart batch.

Gmail documents a per-user concurrent request limit without a number: off by default, a
knob for tests and benchmarks. People, Calendar and Tasks document none; their peaks in
flight are still recorded per user and API.
"""

import threading
import time

from googleapiclient.http import BatchHttpRequest

from .conftest import ALICE, authorized_http, service


def _concurrently(calls):
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


def _profile_call(google):
    """One getProfile on its own connection (httplib2 connections are not thread-safe)."""
    http, _ = authorized_http(google)
    gmail = service(google, "gmail", "v1", http)

    def call():
        try:
            gmail.users().getProfile(userId="me").execute()
            return 200
        except Exception as exc:  # googleapiclient.errors.HttpError
            return (exc.resp.status, exc.error_details[0]["reason"])

    return call


def test_it_caps_gmail_per_user_when_a_limit_is_set(google):
    google.app.gmail_max_in_flight = 1
    google.app.set_latency(0.4)
    replies = _concurrently([_profile_call(google), _profile_call(google)])
    assert 200 in replies and (429, "rateLimitExceeded") in replies
    assert google.app.peak_in_flight_for(ALICE, "gmail") == 1


def test_it_has_no_limit_by_default_and_records_the_peak(google):
    google.app.set_latency(0.3)
    replies = _concurrently([_profile_call(google) for _ in range(3)])
    assert replies == [200, 200, 200]
    assert google.app.peak_in_flight_for(ALICE, "gmail") == 3


def test_a_batch_takes_one_slot_and_base_plus_per_part_latency(google, api):
    google.app.gmail_max_in_flight = 1  # inner parts must not take slots of their own
    google.app.set_latency(0.05, per_sub_request=0.05)
    gmail = api("gmail", "v1")
    results = []
    batch = BatchHttpRequest(
        callback=lambda _id, resp, exc: results.append(exc),
        batch_uri=f"{google.base_url}/batch/gmail/v1",
    )
    for _ in range(3):
        batch.add(gmail.users().getProfile(userId="me"))
    started = time.monotonic()
    batch.execute(http=api.http)
    assert time.monotonic() - started >= 0.05 + 3 * 0.05
    assert results == [None, None, None]
    assert google.app.peak_in_flight_for(ALICE, "gmail") == 1


def test_a_people_batch_mutation_takes_base_plus_per_contact_latency(google, api):
    """FIDELITY's latency model: a batch of n carries n inner requests — a People
    batchCreateContacts / batchUpdateContacts / batchDeleteContacts too (200 contacts
    ≈ 250 ms + 200 x 2 ms), not one plain call's time."""
    people = api("people", "v1")
    google.app.set_latency(0.05, per_sub_request=0.05)
    started = time.monotonic()
    created = (
        people.people()
        .batchCreateContacts(
            body={
                "contacts": [
                    {"contactPerson": {"names": [{"givenName": f"P{i}"}]}} for i in range(4)
                ],
                "readMask": "names",
            }
        )
        .execute()
    )
    assert time.monotonic() - started >= 0.05 + 4 * 0.05
    names = [p["person"]["resourceName"] for p in created["createdPeople"]]
    people.people().batchDeleteContacts(body={"resourceNames": names[:3]}).execute()
    units = [c.units for c in google.app.calls if c.principal == ALICE][-2:]
    assert units == [4, 3]
