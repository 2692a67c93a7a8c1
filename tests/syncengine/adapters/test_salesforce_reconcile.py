"""Which linked ids still exist (the reconciliation read), and what rides in the feed's
one Composite: the view describe and the getDeleted purge probes (issue 12)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from syncengine.salesforce.adapter import id_queries

URI_LIMIT = 16_384


def contact(org, last):
    return org.emu.create("Contact", {"LastName": last}, org.user_id)


def test_it_packs_id_queries_under_the_uri_limit_and_covers_every_id():
    ids = [f"003{n:015d}" for n in range(2000)]
    queries = id_queries("Contact", ids)
    urls = [f"/services/data/v59.0/queryAll?{urlencode({'q': q})}" for q in queries]
    assert all(len(u) < URI_LIMIT for u in urls)
    assert all(len(u) > URI_LIMIT - 1000 for u in urls[:-1])  # packed, not padded
    assert sum(q.count("'") // 2 for q in queries) == 2000
    assert "".join(queries).count(ids[-1]) == 1


def test_it_tells_which_ids_still_exist_deleted_and_purged_alike(org):
    alive = [contact(org, f"Alive{n}") for n in range(3)]
    binned, purged = contact(org, "Binned"), contact(org, "Purged")
    task = org.emu.create("Task", {"Subject": "Call", "Status": "Not Started"}, org.user_id)
    org.emu.delete(purged)
    org.emu.purge_deleted()
    org.emu.delete(binned)  # still in the Recycle Bin: deleted all the same
    adapter = org.adapter()
    found = adapter.existing_ids({"Contact": [*alive, binned, purged], "Task": [task]})
    assert found == {*alive, task}
    assert adapter.api_calls == 1


def test_it_checks_about_2800_ids_per_call(org):
    ids = [contact(org, f"P{n}") for n in range(3000)]
    adapter = org.adapter()
    assert adapter.existing_ids({"Contact": ids}) == set(ids)
    assert adapter.api_calls == 2  # 6 queries of ≤ ~570 ids: 5 in one Composite, 1 more


def test_the_feed_composite_carries_the_view_describe_and_the_purge_probes(org):
    view = org.emu.add_list_view("Mine", "MineOnly", "mine", "")
    adapter = org.adapter()
    batch = adapter.read_changes({}, view_id=view, probe_purges=("Contact", "Task"))
    assert adapter.api_calls == 1
    assert batch.view_query is not None and "FROM Contact" in batch.view_query
    assert not batch.view_missing
    assert set(batch.earliest_available) == {"Contact", "Task"}

    gone = contact(org, "Gone")
    org.emu.advance(minutes=5)
    org.emu.delete(gone)
    org.emu.purge_deleted()
    org.emu.advance(minutes=5)
    org.emu.delete_list_view(view)
    again = org.adapter()
    batch = again.read_changes({}, view_id=view, probe_purges=("Contact",))
    assert again.api_calls == 1
    assert batch.view_missing and batch.view_query is None
    assert batch.earliest_available["Contact"] > org.emu.clock() - timedelta(minutes=6)
