import pytest

from syncsettings.forms import DetailedSettingsForm, FiltersForm
from syncsettings.models import SyncSettings
from syncsettings.services import ContactViewChoices

pytestmark = pytest.mark.django_db

VIEWS = ContactViewChoices(views=[("00BA1", "My key accounts"), ("00BA2", "Partners")])


def filters_data(**overrides):
    data = {
        "contacts_down_enabled": "on",
        "tasks_down_enabled": "on",
        "events_down_enabled": "on",
        "contact_scope": "mine",
        "contact_view_id": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_it_saves_a_chosen_view_with_its_name(user):
    settings = SyncSettings.for_user(user)
    form = FiltersForm(
        filters_data(contact_scope="view", contact_view_id="00BA2"),
        instance=settings,
        view_choices=VIEWS,
    )
    assert form.is_valid(), form.errors
    form.save()
    settings.refresh_from_db()
    assert (settings.contact_view_id, settings.contact_view_name) == ("00BA2", "Partners")


def test_it_requires_a_view_for_custom_view(user):
    form = FiltersForm(
        filters_data(contact_scope="view"), instance=SyncSettings.for_user(user), view_choices=VIEWS
    )
    assert not form.is_valid()
    assert form.errors["contact_view_id"] == ["Choose a view, or pick another set of contacts."]


def test_it_rejects_a_view_salesforce_did_not_offer(user):
    form = FiltersForm(
        filters_data(contact_scope="view", contact_view_id="00Bevil"),
        instance=SyncSettings.for_user(user),
        view_choices=VIEWS,
    )
    assert not form.is_valid()
    assert "contact_view_id" in form.errors


def test_it_keeps_the_stored_view_valid_when_the_list_is_empty(user):
    settings = SyncSettings.for_user(user)
    settings.contact_scope = "view"
    settings.contact_view_id = "00BA1"
    settings.contact_view_name = "My key accounts"
    settings.save()
    form = FiltersForm(
        filters_data(contact_scope="view", contact_view_id="00BA1", tasks_down_enabled=None),
        instance=settings,
        view_choices=ContactViewChoices(views=[], error="Salesforce is unreachable"),
    )
    assert form.is_valid(), form.errors
    form.save()
    settings.refresh_from_db()
    assert not settings.tasks_down_enabled
    assert (settings.contact_view_id, settings.contact_view_name) == ("00BA1", "My key accounts")


def test_it_turns_switches_off_when_unchecked(user):
    settings = SyncSettings.for_user(user)
    form = FiltersForm(
        filters_data(contacts_down_enabled=None, events_down_enabled=None),
        instance=settings,
        view_choices=ContactViewChoices(),
    )
    assert form.is_valid(), form.errors
    form.save()
    settings.refresh_from_db()
    assert (settings.contacts_down_enabled, settings.events_down_enabled) == (False, False)
    assert settings.tasks_down_enabled


def detailed_data(**overrides):
    data = {
        "auto_remove_contacts": "on",
        "auto_remove_tasks": "on",
        "blocklist": "",
        "time_zone": "UTC",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_it_normalizes_the_blocklist(user):
    settings = SyncSettings.for_user(user)
    form = DetailedSettingsForm(
        detailed_data(blocklist=" Rival.COM \n\n@press.example\nceo@rival.com\nrival.com"),
        instance=settings,
    )
    assert form.is_valid(), form.errors
    form.save()
    settings.refresh_from_db()
    assert settings.blocklist == "rival.com\npress.example\nceo@rival.com"


def test_it_reports_bad_blocklist_lines_next_to_the_field(user):
    form = DetailedSettingsForm(
        detailed_data(blocklist="fine.example\nnope"), instance=SyncSettings.for_user(user)
    )
    assert not form.is_valid()
    assert form.errors["blocklist"] == [
        "Line 2: “nope” is neither an email address nor a domain "
        "(like bob@example.com or example.com)."
    ]


def test_it_rejects_an_unknown_time_zone(user):
    form = DetailedSettingsForm(
        detailed_data(time_zone="Mars/Olympus"), instance=SyncSettings.for_user(user)
    )
    assert not form.is_valid()
    assert "time_zone" in form.errors


def test_it_saves_detailed_settings(user):
    settings = SyncSettings.for_user(user)
    form = DetailedSettingsForm(
        detailed_data(auto_remove_tasks=None, email_auto_save="on", time_zone="Europe/Berlin"),
        instance=settings,
    )
    assert form.is_valid(), form.errors
    form.save()
    settings.refresh_from_db()
    assert not settings.auto_remove_tasks
    assert settings.email_auto_save
    assert settings.time_zone == "Europe/Berlin"
