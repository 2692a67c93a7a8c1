import datetime as dt

import pytest

from syncengine.mappers.canonical import (
    CONTACT_FIELDS,
    EVENT_FIELDS,
    TASK_FIELDS,
    email_key,
    html_to_text,
    keep_richer,
    normalize,
    split_display_name,
)

UTC = dt.UTC


def test_it_uses_the_planners_field_names():
    from syncengine.planner import records

    assert set(CONTACT_FIELDS) == set(records.CONTACT_FIELDS)
    assert set(TASK_FIELDS) == set(records.TASK_FIELDS)
    assert set(EVENT_FIELDS) == set(records.EVENT_FIELDS)


def test_it_treats_empty_blank_and_missing_strings_alike():
    missing = normalize("contact", {})
    assert normalize("contact", {"first_name": "", "email": "   ", "city": None}) == missing
    assert all(value is None for value in missing.values())
    assert set(missing) == set(CONTACT_FIELDS)


def test_it_strips_strings_and_unifies_line_endings():
    fields = normalize("contact", {"first_name": "  Ada ", "street": "1 Main St\r\nSuite 2\r"})
    assert fields["first_name"] == "Ada"
    assert fields["street"] == "1 Main St\nSuite 2"


def test_it_keeps_the_email_case_but_matches_without_it():
    fields = normalize("contact", {"email": " Ada.Lovelace@Example.COM "})
    assert fields["email"] == "Ada.Lovelace@Example.COM"
    assert email_key(fields["email"]) == email_key("ada.lovelace@example.com")
    assert email_key("  ") is None


def test_it_defaults_task_status_and_priority_and_clears_completion_of_open_tasks():
    done_at = dt.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    task = normalize("task", {"status": "completed", "completed_at": done_at})
    assert task["completed_at"] == done_at.replace(microsecond=0)
    reopened = normalize("task", {"status": "in_progress", "completed_at": done_at})
    assert reopened["completed_at"] is None
    assert normalize("task", {})["status"] == "not_started"
    assert normalize("task", {})["priority"] == "normal"


def test_it_converts_datetimes_to_utc_and_refuses_naive_ones():
    paris = dt.timezone(dt.timedelta(hours=1))
    event = normalize("event", {"start": dt.datetime(2026, 3, 1, 16, 0, tzinfo=paris)})
    assert event["start"] == dt.datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
    assert event["start"].tzinfo is UTC
    assert event["end"] == event["start"]  # no end: zero length
    with pytest.raises(ValueError, match="naive"):
        normalize("event", {"start": dt.datetime(2026, 3, 1, 16, 0)})


def test_it_keeps_all_day_events_as_dates_with_an_exclusive_end():
    event = normalize(
        "event",
        {"all_day": True, "start_date": dt.date(2026, 3, 1), "start": dt.datetime.now(UTC)},
    )
    assert (event["start_date"], event["end_date"]) == (dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    assert event["start"] is None and event["end"] is None
    with pytest.raises(TypeError):
        normalize("task", {"due_date": dt.datetime(2026, 3, 1, tzinfo=UTC)})


def test_it_rejects_unknown_fields_and_values():
    with pytest.raises(ValueError, match="unknown"):
        normalize("contact", {"fax": "1"})
    with pytest.raises(ValueError):
        normalize("task", {"status": "Waiting on someone else"})
    with pytest.raises(ValueError):
        normalize("note", {})


def test_it_keeps_a_richer_value_only_while_the_api_still_shows_its_image():
    image = {"waiting": "needsAction", "completed": "completed", "not_started": "needsAction"}
    assert keep_richer("not_started", "waiting", image, "needsAction") == "waiting"
    assert keep_richer("not_started", "completed", image, "needsAction") == "not_started"
    assert keep_richer("completed", "waiting", image, "completed") == "completed"
    assert keep_richer("not_started", None, image, "needsAction") == "not_started"


def test_it_reads_html_bodies_as_text():
    html = (
        "<html><head><style>p{color:red}</style></head><body>"
        "<p>Agenda&nbsp;for <b>Q2</b></p><div>1. pricing<br>2. terms</div></body></html>"
    )
    assert html_to_text(html) == "Agenda for Q2\n\n1. pricing\n2. terms"
    assert html_to_text("") is None


@pytest.mark.parametrize(
    ("display", "expected"),
    [
        ("Jane Q. Doe", ("Jane Q.", "Doe")),
        ("Madonna", (None, "Madonna")),
        ("Doe, Jane", ("Jane", "Doe")),
        ("  ", (None, None)),
    ],
)
def test_it_splits_display_names(display, expected):
    assert split_display_name(display) == expected
