"""The heartbeat inside a real session against the sandbox: a lost lease stops the engine
between item types and between execution batches, and the next session finishes the job
without duplicates."""

from __future__ import annotations

import datetime as dt

from syncengine.models import SyncLink, SyncSession

from .conftest import NOW

Status = SyncSession.Status


def failing_at(n: int, beats: list[int]):
    def heartbeat() -> bool:
        beats.append(1)
        return len(beats) < n

    return heartbeat


def test_a_lost_lease_stops_before_the_first_batch_and_the_next_session_heals(world):
    world.sf_contact("Adams", "adams@example.com")
    world.sf_task("Call", NOW.date() + dt.timedelta(days=1))
    beats: list[int] = []
    # Beat 1: before contacts (kept); beat 2: before the contacts' mailbox creates (lost).
    session = world.sync(heartbeat=failing_at(2, beats))
    assert session.status == Status.ABANDONED
    assert len(beats) == 2
    assert world.contacts() == [] and world.tasks() == []
    assert not SyncLink.objects.filter(user=world.user).exists()

    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert [c["email"] for c in world.contacts()] == ["adams@example.com"]
    assert [t["title"] for t in world.tasks()] == ["Call"]


def test_a_lost_lease_between_item_types_keeps_the_finished_type_and_stops(world):
    world.sf_contact("Adams", "adams@example.com")
    world.sf_task("Call", NOW.date() + dt.timedelta(days=1))
    beats: list[int] = []
    # Contacts: beat before the type and before its creates; then tasks' beat is lost.
    session = world.sync(heartbeat=failing_at(3, beats))
    assert session.status == Status.ABANDONED
    assert [c["email"] for c in world.contacts()] == ["adams@example.com"]
    assert world.tasks() == []

    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert [c["email"] for c in world.contacts()] == ["adams@example.com"]
    assert [t["title"] for t in world.tasks()] == ["Call"]
    assert SyncLink.objects.filter(user=world.user).count() == 2
