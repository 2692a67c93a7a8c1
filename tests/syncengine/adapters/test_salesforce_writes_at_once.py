"""syncengine.salesforce.writes: a write of many records goes as several 200-record calls at
once (never more than allowed), records of one parent in one call, the first call alone
until the session's token is proven, and a record refused for a row lock written once more
after the round — one result per record, in the caller's order."""

from __future__ import annotations

import threading
import time

from syncengine.salesforce.types import WriteResult
from syncengine.salesforce.writes import LOCKED, write_at_once


class FakeCollections:
    """Answers a Collections call per record (no HTTP: the function under test is pure
    scheduling); records how many calls were in flight at once and what each carried."""

    def __init__(self, locked_once=()):
        self.calls: list[list[str]] = []
        self.in_flight = self.peak = 0
        self.lock = threading.Lock()
        self.locked_once = set(locked_once)
        self.started = []

    def send(self, records):
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.calls.append([r["Name"] for r in records])
            self.started.append(time.perf_counter())
        time.sleep(0.03)
        with self.lock:
            self.in_flight -= 1
            out = []
            for r in records:
                if r["Name"] in self.locked_once:
                    self.locked_once.discard(r["Name"])
                    out.append(WriteResult(False, None, LOCKED, "unable to obtain access"))
                else:
                    out.append(WriteResult(True, "id-" + r["Name"]))
            return out


def _records(n, parents=1):
    return [{"Name": f"r{i:04}", "AccountId": f"001{i % parents:015}"} for i in range(n)]


def test_the_calls_go_at_once_up_to_the_limit_and_answer_in_order():
    fake, records = FakeCollections(), _records(1000, parents=7)
    results = write_at_once(fake.send, records, chunk=200, limit=3, proven=True)
    assert [r.id for r in results] == [f"id-r{i:04}" for i in range(1000)]
    assert len(fake.calls) == 5 and all(len(c) <= 200 for c in fake.calls)
    assert fake.peak == 3


def test_records_of_one_parent_share_a_call():
    fake = FakeCollections()
    records = _records(400, parents=2)  # 200 under each of two accounts, interleaved
    write_at_once(fake.send, records, chunk=200, limit=2, proven=True)
    by_call = [{records[int(name[1:])]["AccountId"] for name in call} for call in fake.calls]
    assert sorted(len(parents) for parents in by_call) == [1, 1]


def test_the_first_call_goes_alone_until_the_token_is_proven():
    fake = FakeCollections()
    write_at_once(fake.send, _records(600), chunk=200, limit=3, proven=False)
    first, second, third = sorted(fake.started)
    assert second - first >= 0.03  # the others waited for the first answer
    assert third - second < 0.03  # then went together
    assert fake.peak == 2


def test_a_record_refused_for_a_lock_is_written_once_more_alone():
    fake = FakeCollections(locked_once={"r0003", "r0250"})
    results = write_at_once(fake.send, _records(400, parents=3), chunk=200, limit=2, proven=True)
    assert all(r.ok for r in results)
    assert fake.calls[-1] == ["r0003", "r0250"]  # after the round, one call
    assert len(fake.calls) == 3


def test_a_record_still_locked_is_its_own_error_and_the_others_are_written():
    fake = FakeCollections(locked_once={"r0007"})
    original = fake.send

    def always_locked(records):
        fake.locked_once.add("r0007")
        return original(records)

    results = write_at_once(always_locked, _records(10), chunk=200, limit=2, proven=True)
    assert [r.error_code for r in results if not r.ok] == [LOCKED]
    assert results[7].error_code == LOCKED and sum(r.ok for r in results) == 9
    assert len(fake.calls) == 2  # tried once more, not forever


def test_ids_alone_have_no_parent_and_keep_their_order():
    calls = []

    def send(ids):
        calls.append(list(ids))
        return [WriteResult(True, i) for i in ids]

    ids = [f"003{i:015}" for i in range(450)]
    results = write_at_once(send, ids, chunk=200, limit=3, proven=True)
    assert [r.id for r in results] == ids
    assert sorted(len(c) for c in calls) == [50, 200, 200]
