"""The user's blocklist and free-mail choices on Detailed settings, and blocklist_for()."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from syncengine.emails.blocklist import FREE_MAIL_DOMAINS, parse_entry
from syncsettings.blocklists import entry_error, parse_blocklist
from syncsettings.forms import DetailedSettingsForm
from syncsettings.models import OrgBlocklistEntry, SyncSettings
from syncsettings.services import blocklist_for
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db
URL = reverse("syncsettings:detailed")

NEITHER = "is neither an email address nor a domain (like bob@example.com or example.com)."
BAD_ADDRESS = "is not a valid email address (like bob@example.com)."
SPACES = " An entry has no spaces: put each one on its own line."


def detailed_data(**overrides):
    data = {"auto_remove_contacts": "on", "auto_remove_tasks": "on", "time_zone": "UTC"}
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("nope", f"“nope” {NEITHER}"),
        ("localhost", f"“localhost” {NEITHER}"),
        ("10.0.0.1", f"“10.0.0.1” {NEITHER}"),
        ("@", f"“@” {NEITHER}"),
        ("*.", f"“*.” {NEITHER}"),
        ("-acme.com", f"“-acme.com” {NEITHER}"),
        ("x@", f"“x@” {BAD_ADDRESS}"),
        ("@x@acme.com", f"“@x@acme.com” {BAD_ADDRESS}"),
        ("bob@acme", f"“bob@acme” {BAD_ADDRESS}"),
        ('"bob"@acme.com', f'“"bob"@acme.com” {BAD_ADDRESS}'),
        ("acme .com", f"“acme .com” {NEITHER}{SPACES}"),
        ("bob @acme.com", f"“bob @acme.com” {BAD_ADDRESS}{SPACES}"),
    ],
)
def test_it_explains_each_refused_entry_with_its_line(user, entry, message):
    form = DetailedSettingsForm(
        detailed_data(blocklist=f"fine.example\n{entry}"), instance=SyncSettings.for_user(user)
    )
    assert not form.is_valid()
    assert form.errors["blocklist"] == [f"Line 2: {message}"]


def test_it_reports_every_bad_line_at_once():
    with pytest.raises(ValidationError) as excinfo:
        parse_blocklist("x@\n\nok.example\nnope\n")
    assert excinfo.value.messages == [f"Line 1: “x@” {BAD_ADDRESS}", f"Line 4: “nope” {NEITHER}"]


@pytest.mark.parametrize(
    "entry",
    [
        "acme.com",
        "@acme.com",
        "*.acme.com",
        "Bob@Acme.COM",
        "bücher.de",
        "acme.com.",
        "nope",
        "x@",
        "10.0.0.1",
        "a b",
        '"q"@acme.com',
        "*.",
        "bob@bücher.de",
    ],
)
def test_it_accepts_exactly_what_the_email_logger_accepts(entry):
    try:
        parse_entry(entry)
        logger_accepts = True
    except ValueError:
        logger_accepts = False
    assert (entry_error(entry) is None) is logger_accepts


def test_it_stores_entries_in_the_loggers_normal_form(user):
    settings = SyncSettings.for_user(user)
    form = DetailedSettingsForm(
        detailed_data(blocklist=" Rival.COM \n@rival.com\n*.press.example\nBob@Bücher.de\n"),
        instance=settings,
    )
    assert form.is_valid(), form.errors
    form.save()
    settings.refresh_from_db()
    assert settings.blocklist == "rival.com\npress.example\nbob@xn--bcher-kva.de"


def test_it_refuses_a_bad_blocklist_saved_outside_the_dashboard(user):
    settings = SyncSettings.for_user(user)
    settings.blocklist = "ok.example\nnope"
    with pytest.raises(ValidationError) as excinfo:
        settings.full_clean()
    assert excinfo.value.message_dict["blocklist"] == [f"Line 2: “nope” {NEITHER}"]


def test_it_shows_the_free_mail_domains_blocked_by_default(user_client):
    response = user_client.get(URL)
    html = response.content.decode()
    assert "blocked by default" in html
    for domain in FREE_MAIL_DOMAINS:
        assert f'value="{domain}"' in html
    assert "checked" not in html.split("Free-mail domains", 1)[1].split("</fieldset>", 1)[0]


def test_it_lets_the_user_allow_some_free_mail_domains(user_client, user):
    response = user_client.post(
        URL, detailed_data(free_mail_unblocked=["yahoo.com", "gmail.com"]), follow=True
    )
    assert "Detailed settings saved" in response.content.decode()
    settings = SyncSettings.for_user(user)
    assert settings.free_mail_unblocked == "gmail.com\nyahoo.com"
    assert settings.free_mail_unblocked_domains() == ["gmail.com", "yahoo.com"]
    html = user_client.get(URL).content.decode()
    assert re.search(r'<input type="checkbox"[^>]*value="gmail.com"[^>]*checked', html)
    assert re.search(r'<input type="checkbox"[^>]*value="yahoo.com"[^>]*checked', html)
    assert not re.search(r'<input type="checkbox"[^>]*value="outlook.com"[^>]*checked', html)


def test_it_keeps_free_mail_blocked_when_the_field_is_not_posted(user_client, user):
    settings = SyncSettings.for_user(user)
    settings.free_mail_unblocked = "gmail.com"
    settings.save()
    user_client.post(URL, detailed_data())
    assert SyncSettings.for_user(user).free_mail_unblocked == ""


def test_it_refuses_to_unblock_a_domain_that_is_not_free_mail(user_client, user):
    response = user_client.post(URL, detailed_data(free_mail_unblocked=["acme.com"]))
    assert response.status_code == 400
    assert (
        "“acme.com” is not one of the free-mail domains Relay blocks by default"
        in response.content.decode()
    )
    assert SyncSettings.for_user(user).free_mail_unblocked == ""


def test_it_validates_free_mail_choices_saved_outside_the_dashboard(user):
    settings = SyncSettings.for_user(user)
    settings.free_mail_unblocked = "Gmail.com\nacme.com"
    with pytest.raises(ValidationError) as excinfo:
        settings.full_clean()
    assert excinfo.value.message_dict["free_mail_unblocked"] == [
        "Line 2: “acme.com” is not one of the free-mail domains Relay blocks by default, so "
        "there is nothing to unblock; to block or allow other domains use the blocklist."
    ]
    settings.free_mail_unblocked = "Gmail.com\n\ngmail.com"
    settings.full_clean()
    assert settings.free_mail_unblocked == "gmail.com"


def test_it_merges_every_layer_for_the_logger(user):
    user.email = "alice@acme.com"
    user.save()
    ConnectionFactory(user=user, provider="office365", external_address="Alice@Acme-Group.de")
    ConnectionFactory(user=user, provider="salesforce", external_address="alice@gmail.com")
    OrgBlocklistEntry.objects.create(value="competitor.com")
    OrgBlocklistEntry.objects.create(value="ceo@partner.example")
    settings = SyncSettings.for_user(user)
    settings.blocklist = "press.example\nbob@vendor.example"
    settings.free_mail_unblocked = "gmail.com"
    settings.save()

    blocklist = blocklist_for(user)

    assert blocklist.reason("x@sales.competitor.com") == "org list"
    assert blocklist.reason("ceo@partner.example") == "org list"
    assert blocklist.reason("other@partner.example") is None
    assert blocklist.reason("news@press.example") == "user list"
    assert blocklist.reason("bob@vendor.example") == "user list"
    assert blocklist.reason("alice@acme.com") == "own address"
    assert blocklist.reason("alice@acme-group.de") == "own address"
    assert blocklist.reason("alice@gmail.com") == "own address"
    assert blocklist.reason("colleague@acme.com") == "own domain"
    assert blocklist.reason("hans@acme-group.de") == "own domain"
    assert blocklist.reason("someone@yahoo.com") == "free mail"
    assert blocklist.reason("client@gmail.com") is None  # the removed free-mail domain
    assert blocklist.reason("buyer@customer.example") is None
    assert blocklist.is_own("ALICE@acme.com")


def test_it_lets_the_org_list_block_a_free_mail_domain_the_user_allowed(user):
    OrgBlocklistEntry.objects.create(value="gmail.com")
    settings = SyncSettings.for_user(user)
    settings.free_mail_unblocked = "gmail.com"
    settings.save()
    assert blocklist_for(user).reason("client@gmail.com") == "org list"


def test_it_gives_defaults_without_creating_settings(user):
    blocklist = blocklist_for(user)
    assert not SyncSettings.objects.filter(user=user).exists()
    assert blocklist.reason("someone@hotmail.com") == "free mail"
    assert blocklist.reason(user.email) == "own address"
    assert blocklist.invalid == ()


def test_it_hands_unparsable_stored_lines_to_the_logger_as_invalid(user):
    SyncSettings.objects.filter(pk=SyncSettings.for_user(user).pk).update(
        blocklist="ok.example\nnot an entry"
    )
    blocklist = blocklist_for(user)
    assert blocklist.invalid == ("not an entry",)
    assert blocklist.reason("a@ok.example") == "user list"


def test_it_reads_only_the_users_own_settings(user, other_user):
    other_user.email = "bob@elsewhere.example"
    other_user.save()
    other = SyncSettings.for_user(other_user)
    other.blocklist = "secret-partner.example"
    other.free_mail_unblocked = "gmail.com"
    other.save()
    blocklist = blocklist_for(user)
    assert blocklist.reason("x@secret-partner.example") is None
    assert blocklist.reason("x@gmail.com") == "free mail"
    assert blocklist.reason(other_user.email) is None
