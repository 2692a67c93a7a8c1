"""What the dashboard asks of the rest of Relay. Views call these, never an API directly.

contact_view_choices() asks Salesforce for the user's list views; last_sync_summary() reads
the sync sessions; blocklist_for() is what the email logger applies to a user.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from accounts.models import User
from syncengine.emails.blocklist import Blocklist
from syncsettings.models import OrgBlocklistEntry, SyncSettings


@dataclass
class ContactViewChoices:
    """Salesforce Contact list views the user may pick, as (id, label); or why there are none."""

    views: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None


def contact_view_choices(user: User) -> ContactViewChoices:
    """The user's Contact list views from Salesforce, or the stored choice and why not.

    A Salesforce that cannot be reached, or a chosen view that no longer exists, is a
    message on the page, never a server error; the stored choice stays selectable so the
    form still validates.
    """
    from accounts.models import Connection
    from accounts.providers.errors import ProviderError
    from accounts.providers.salesforce import SalesforceClient
    from syncengine.salesforce.adapter import SalesforceAdapter

    stored = SyncSettings.for_user(user)
    stored_views = (
        [(stored.contact_view_id, stored.contact_view_name or stored.contact_view_id)]
        if stored.contact_view_id
        else []
    )
    connection = Connection.objects.salesforce_for(user)
    if connection is None or connection.status != Connection.Status.ACTIVE:
        return ContactViewChoices(
            views=stored_views,
            error="Connect Salesforce to choose one of your Contact list views.",
        )
    adapter = SalesforceAdapter(SalesforceClient(connection).call, connection.external_account_id)
    try:
        views = adapter.list_contact_views()
    except ProviderError as exc:
        return ContactViewChoices(
            views=stored_views,
            error=f"Salesforce did not list your views just now ({exc}). Try again later.",
        )
    if stored.contact_view_id and stored.contact_view_id not in {v for v, _ in views}:
        return ContactViewChoices(
            views=[*views, *stored_views],
            error=(
                f"The list view “{stored.contact_view_name or stored.contact_view_id}” no "
                "longer exists in Salesforce. Choose another view: until then no contacts "
                "come down, and nothing is deleted."
            ),
        )
    return ContactViewChoices(views=views)


def last_sync_summary(user: User) -> str | None:
    """A one-line description of the user's last sync session; None if there was none."""
    from syncengine.history import last_sync_summary

    return last_sync_summary(user)


@transaction.atomic
def save_sync_settings(sync_settings: SyncSettings) -> SyncSettings:
    """Persist a user's edited settings. They apply from the next session (SPEC §3), and
    the user is back on the 30-minute rhythm (SPEC §5)."""
    from syncengine.scheduling import reset_backoff

    sync_settings.save()
    reset_backoff(sync_settings.user_id)
    return sync_settings


def own_addresses(user: User) -> list[str]:
    """The addresses that are the user: their Relay email and every connection's account
    address (a disconnected mailbox is still theirs). Blank ones left out."""
    from accounts.models import Connection

    addresses = [getattr(user, "email", "") or ""]
    addresses += Connection.objects.filter(user=user).values_list("external_address", flat=True)
    return [a for a in addresses if a.strip()]


def blocklist_for(user: User) -> Blocklist:
    """The blocklist one user's email logging applies (SPEC §6): the org list, the user's
    list, their own addresses and domains, and the free-mail domains they did not allow.

    Reads only: a user without a settings row gets the defaults, and no row is created.
    Stored lines that no longer parse end up in `Blocklist.invalid` for the caller to log.
    """
    sync_settings = SyncSettings.objects.filter(user=user).first() or SyncSettings(user=user)
    return Blocklist.merge(
        org_entries=OrgBlocklistEntry.objects.values_list("value", flat=True),
        user_entries=[line for line in sync_settings.blocklist.splitlines() if line.strip()],
        user_own_addresses=own_addresses(user),
        free_mail_removed=sync_settings.free_mail_unblocked.splitlines(),
    )
