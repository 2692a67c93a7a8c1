"""The Salesforce folders of one Exchange mailbox: found by name, or created once.

"Salesforce Contacts" under Contacts, "Salesforce Tasks" under Tasks, "Salesforce Emails"
under the Inbox; events live in the default calendar (the role's "container" is the
calendar, marked by the "Salesforce" category). Stored ids are trusted without a call; the
missing ones cost one batched GetFolder of the parents, one FindFolder per missing folder
and one CreateFolder per folder that must be made.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exchangelib import FolderCollection, Q
from exchangelib import errors as ews_errors
from exchangelib.folders import Calendar, Contacts, Inbox, Messages, Root, SentItems, Tasks
from exchangelib.folders.base import Folder
from exchangelib.services import CreateFolder

from accounts.providers.errors import ProviderError

from ..base import CONTACTS, CONTAINER_NAMES, EMAILS, EVENTS, TASKS, ContainerRef

PARENT = {CONTACTS: Contacts, TASKS: Tasks, EVENTS: Calendar, EMAILS: Inbox}
FOLDER_CLASS = {CONTACTS: Contacts, TASKS: Tasks, EMAILS: Messages}


class MailboxFolders:
    def __init__(self, account: Any) -> None:
        self.account = account
        self.root = Root(account=account)

    def folder(self, role: str, folder_id: str) -> Folder:
        """A folder object by id (no call)."""
        cls = Calendar if role == EVENTS else FOLDER_CLASS[role]
        return cls(root=self.root, id=folder_id)

    def well_known(self, cls: type[Folder]) -> Folder:
        return cls(root=self.root)

    def inbox(self) -> Folder:
        return Inbox(root=self.root)

    def sent(self) -> Folder:
        return SentItems(root=self.root)

    def ensure(self, roles: list[str]) -> dict[str, ContainerRef]:
        parents = [PARENT[role](root=self.root) for role in roles]
        got = list(FolderCollection(account=self.account, folders=parents).get_folders())
        out: dict[str, ContainerRef] = {}
        for role, parent in zip(roles, got, strict=True):
            if isinstance(parent, Exception):
                raise parent
            if role == EVENTS:
                out[role] = ContainerRef(role, parent.id, CONTAINER_NAMES[role])
                continue
            found = self._find(parent, CONTAINER_NAMES[role])
            if found is None:
                found, created = self._create(role, parent), True
            else:
                created = False
            out[role] = ContainerRef(role, found, CONTAINER_NAMES[role], created)
        return out

    def _find(self, parent: Folder, name: str) -> str | None:
        rows = FolderCollection(account=self.account, folders=[parent]).find_folders(q=Q(name=name))
        for row in rows:
            if isinstance(row, Exception):
                raise row
            if str(row.name or "").casefold() == name.casefold():
                return str(row.id)
        return None

    def _create(self, role: str, parent: Folder) -> str:
        new = FOLDER_CLASS[role](root=self.root, name=CONTAINER_NAMES[role])
        for made in CreateFolder(account=self.account).call(parent_folder=parent, folders=[new]):
            if isinstance(made, ews_errors.ErrorFolderExists):
                found = self._find(parent, CONTAINER_NAMES[role])  # made meanwhile
                if found:
                    return found
            if isinstance(made, Exception):
                raise made
            return str(made.id)
        raise ProviderError(f"creating {CONTAINER_NAMES[role]!r} returned nothing")

    @staticmethod
    def known(known: Mapping[str, str]) -> dict[str, ContainerRef]:
        return {
            role: ContainerRef(role, known[role], CONTAINER_NAMES[role])
            for role in CONTAINER_NAMES
            if known.get(role)
        }
