import pytest
from django.core.exceptions import ValidationError

from syncsettings.blocklists import parse_blocklist
from syncsettings.models import SyncSettings, validate_time_zone

pytestmark = pytest.mark.django_db


def test_it_creates_settings_on_demand_with_spec_defaults(user):
    settings = SyncSettings.for_user(user)
    assert SyncSettings.for_user(user).pk == settings.pk
    assert settings.contacts_down_enabled
    assert settings.tasks_down_enabled
    assert settings.events_down_enabled
    assert settings.contact_scope == SyncSettings.ContactScope.MINE
    assert settings.auto_remove_contacts
    assert settings.auto_remove_tasks
    assert not settings.email_auto_save
    assert settings.time_zone == "UTC"
    assert settings.blocklist == ""
    assert settings.blocked_entries() == []


def test_it_has_the_documented_scopes():
    assert SyncSettings.ContactScope.values == ["all", "mine", "view"]


def test_it_parses_the_blocklist(user):
    settings = SyncSettings.for_user(user)
    settings.blocklist = "Boss@Example.com\n\n@competitor.io\nexample.org\nexample.org\n"
    assert settings.blocked_entries() == ["boss@example.com", "competitor.io", "example.org"]


def test_it_skips_invalid_lines_saved_by_other_means(user):
    settings = SyncSettings.for_user(user)
    settings.blocklist = "ok.example\nnot an entry\n"
    assert settings.blocked_entries() == ["ok.example"]


def test_it_reports_each_invalid_blocklist_line():
    with pytest.raises(ValidationError) as excinfo:
        parse_blocklist("good.example\nbad entry\nx@\nlocalhost")
    assert excinfo.value.messages == [
        "Line 2: “bad entry” is neither an email address nor a domain (like bob@example.com "
        "or example.com). An entry has no spaces: put each one on its own line.",
        "Line 3: “x@” is not a valid email address (like bob@example.com).",
        "Line 4: “localhost” is neither an email address nor a domain (like bob@example.com "
        "or example.com).",
    ]


@pytest.mark.parametrize("name", ["UTC", "Europe/Paris", "America/Argentina/Buenos_Aires"])
def test_it_accepts_iana_time_zones(name):
    validate_time_zone(name)


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", "CEST"])
def test_it_rejects_unknown_time_zones(name):
    with pytest.raises(ValidationError):
        validate_time_zone(name)


def test_it_requires_a_view_for_the_custom_view_scope(user):
    settings = SyncSettings.for_user(user)
    settings.contact_scope = SyncSettings.ContactScope.VIEW
    with pytest.raises(ValidationError) as excinfo:
        settings.full_clean()
    assert "contact_view_id" in excinfo.value.message_dict
