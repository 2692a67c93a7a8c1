"""The Google emulator's ids are unpredictable, as Google's, unless a test seeds them: then
a run replays with the same ids (the engine model relies on it)."""

from __future__ import annotations

from sandbox.google import GoogleEmulator

ALICE = "alice@example.com"


def _ids(app: GoogleEmulator) -> list[str]:
    app.reset()
    app.add_account(ALICE, "Alice Example", "Europe/Berlin")
    lid = app.create_tasklist(ALICE, "Salesforce Tasks")
    task = app.create_task(ALICE, lid, {"title": "Call"})
    event = app.create_event(
        ALICE,
        {
            "summary": "Meet",
            "start": {"dateTime": "2024-05-15T09:00:00Z"},
            "end": {"dateTime": "2024-05-15T10:00:00Z"},
        },
    )
    return [lid, task["id"], event["id"]]


def test_it_makes_the_same_ids_from_the_same_seed_and_fresh_ones_unseeded():
    app = GoogleEmulator()
    try:
        app.seed_ids(7)
        first = _ids(app)
        app.seed_ids(7)
        assert _ids(app) == first
        app.seed_ids(8)
        assert _ids(app) != first
    finally:
        app.seed_ids(None)
    assert _ids(app) != _ids(app)
