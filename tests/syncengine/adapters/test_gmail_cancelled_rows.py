"""What a cancelled Google Calendar listing row removes (pure parsing, no HTTP)."""

from syncengine.mailboxes.gmail.items import cancelled_ids


def test_a_cancelled_occurrence_is_matched_by_its_id_and_its_series_key():
    row = {
        "id": "abc_20240520T070000Z",
        "status": "cancelled",
        "recurringEventId": "abc",
        "originalStartTime": {"dateTime": "2024-05-20T09:00:00+02:00"},
    }
    assert cancelled_ids(row) == ["abc_20240520T070000Z"]
    renamed = {**row, "id": "other-id"}
    assert cancelled_ids(renamed) == ["other-id", "abc_20240520T070000Z"]
    all_day = {"id": "x", "recurringEventId": "abc", "originalStartTime": {"date": "2024-05-20"}}
    assert cancelled_ids(all_day) == ["x", "abc_20240520"]
    local = {
        "id": "y",
        "recurringEventId": "abc",
        "originalStartTime": {"dateTime": "2024-05-20T09:00:00", "timeZone": "Europe/Berlin"},
    }
    assert cancelled_ids(local) == ["y", "abc_20240520T070000Z"]


def test_a_deleted_event_or_a_malformed_row_removes_only_its_id():
    assert cancelled_ids({"id": "plain", "status": "cancelled"}) == ["plain"]
    bad = {"id": "bad", "recurringEventId": "abc", "originalStartTime": {"dateTime": "soon"}}
    assert cancelled_ids(bad) == ["bad"]
    zone = {"dateTime": "2024-05-20T09:00:00", "timeZone": "Nowhere/Land"}
    assert cancelled_ids({"id": "z", "recurringEventId": "abc", "originalStartTime": zone}) == ["z"]
