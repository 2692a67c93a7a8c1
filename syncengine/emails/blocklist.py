"""Which addresses may never cause a link to a Salesforce Contact or Lead (SPEC §6).

Pure: no I/O, no ORM. The org list (staff, admin) and the user's list (dashboard) are
stored as text; `parse_entry` validates one line as entered, `Blocklist.merge` builds the
list a user's session applies.

Decisions (also pinned in tests/syncengine/emails/test_blocklist.py):
- An entry is an address (`bob@acme.com`) or a domain. `acme.com`, `@acme.com` and
  `*.acme.com` are all accepted and mean the same domain entry; a domain entry always
  blocks its subdomains too (`eu.acme.com`), so the three spellings cannot differ.
- Everything is compared lower-cased, domains in their IDNA ASCII form (`bücher.de` and
  `xn--bcher-kva.de` are one entry), surrounding spaces and a trailing dot ignored.
- Layers, all additive (a user cannot unblock what the org blocked):
  1. the user's own addresses: always blocked, whatever else is set;
  2. the user's own domains (the domains of those addresses) with their subdomains:
     the colleagues, i.e. "internal" mail. Except a free-mail domain: a user whose
     mailbox is alice@gmail.com does not thereby block every gmail.com sender; that
     domain follows the free-mail rule (3) instead, and only the own address is blocked;
  3. FREE_MAIL_DOMAINS, unless the user removed the domain (`free_mail_removed`);
  4. the org's entries; 5. the user's entries.
- An address that cannot be read (no `@`, empty domain) counts as blocked: nothing may
  be linked through an address Relay cannot compare.
- Stored entries that no longer parse are left out of the merge and listed in
  `Blocklist.invalid` (to be logged) rather than failing the session.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import idna

FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "hotmail.de",
        "live.com",
        "live.co.uk",
        "msn.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "yahoo.de",
        "ymail.com",
        "rocketmail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "gmx.com",
        "gmx.net",
        "gmx.de",
        "web.de",
        "t-online.de",
        "freenet.de",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "zoho.com",
        "mail.com",
        "yandex.com",
        "yandex.ru",
        "mail.ru",
        "fastmail.com",
        "tutanota.com",
        "hey.com",
        "qq.com",
        "163.com",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "libero.it",
    }
)

Kind = Literal["address", "domain"]
Layer = Literal["own address", "own domain", "free mail", "org list", "user list"]

# The longest email address (RFC 5321 forward-path limit); a domain has at most 253.
MAX_ENTRY_LENGTH = 254

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# RFC 5322 dot-atom local part, the forms mailboxes hand out; quoted local parts are rare
# enough in business mail to be refused with a clear message.
_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


def normalize_domain(text: str) -> str | None:
    """The domain's lower-case IDNA ASCII form, or None when it is not a domain name."""
    text = text.strip().rstrip(".").lower()
    if not text or len(text) > 253 or any(c.isspace() for c in text):
        return None
    try:
        ascii_form = idna.encode(text, uts46=True).decode("ascii") if not text.isascii() else text
    except idna.IDNAError:
        return None
    labels = ascii_form.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None
    if labels[-1].isdigit():  # 10.0.0.1 is not a domain
        return None
    return ascii_form


def normalize_address(text: str) -> str | None:
    """`local@domain` lower-cased with the domain in IDNA ASCII form, or None."""
    local, at, domain = text.strip().lower().rpartition("@")
    if not at or not local or len(local) > 64 or not _LOCAL.match(local):
        return None
    ascii_domain = normalize_domain(domain)
    return f"{local}@{ascii_domain}" if ascii_domain else None


@dataclass(frozen=True)
class Entry:
    kind: Kind
    value: str  # normalized: `bob@acme.com` or `acme.com`

    def __str__(self) -> str:
        return self.value


def parse_entry(text: str) -> Entry:
    """One blocklist line as a user or staff member typed it, validated and normalized.

    Raises ValueError with a message fit for a form error."""
    raw = text.strip()
    if not raw:
        raise ValueError("an empty entry is neither an email address nor a domain")
    if len(raw) > MAX_ENTRY_LENGTH:  # checked first: nothing longer is worth normalizing
        raise ValueError(f"an entry has at most {MAX_ENTRY_LENGTH} characters")
    if raw.startswith("*."):
        domain = normalize_domain(raw[2:])
    elif raw.startswith("@"):
        domain = normalize_domain(raw[1:])
    elif "@" in raw:
        address = normalize_address(raw)
        if address is None:
            raise ValueError(f"'{raw}' is neither an email address nor a domain")
        return Entry("address", address)
    else:
        domain = normalize_domain(raw)
    if domain is None:
        raise ValueError(f"'{raw}' is neither an email address nor a domain")
    return Entry("domain", domain)


def _domain_of(address: str) -> str:
    return address.rpartition("@")[2]


def _suffixes(domain: str) -> Iterable[str]:
    """`a.b.acme.com` → itself, `b.acme.com`, `acme.com` (the bare TLD is never an entry)."""
    labels = domain.split(".")
    for i in range(len(labels) - 1):
        yield ".".join(labels[i:])


@dataclass(frozen=True)
class Blocklist:
    addresses: dict[str, Layer] = field(default_factory=dict)
    domains: dict[str, Layer] = field(default_factory=dict)
    own_addresses: frozenset[str] = frozenset()
    invalid: tuple[str, ...] = ()

    @classmethod
    def merge(
        cls,
        org_entries: Iterable[Entry | str] = (),
        user_entries: Iterable[Entry | str] = (),
        user_own_addresses: Iterable[str] = (),
        free_mail_removed: Iterable[str] = (),
    ) -> Blocklist:
        """The list one user's session applies; the first layer naming an entry wins
        (for `reason`), every layer blocks."""
        addresses: dict[str, Layer] = {}
        domains: dict[str, Layer] = {}
        invalid: list[str] = []
        own = frozenset(a for a in map(normalize_address, user_own_addresses) if a)
        for a in sorted(own):
            addresses.setdefault(a, "own address")
        for a in sorted(own):
            d = _domain_of(a)
            if d not in FREE_MAIL_DOMAINS:
                domains.setdefault(d, "own domain")
        removed = {d for d in map(normalize_domain, free_mail_removed) if d}
        for d in sorted(FREE_MAIL_DOMAINS - removed):
            domains.setdefault(d, "free mail")
        layers: tuple[tuple[Layer, Iterable[Entry | str]], ...] = (
            ("org list", org_entries),
            ("user list", user_entries),
        )
        for layer, entries in layers:
            for item in entries:
                try:
                    entry = item if isinstance(item, Entry) else parse_entry(item)
                except ValueError:
                    invalid.append(str(item))
                    continue
                table = addresses if entry.kind == "address" else domains
                table.setdefault(entry.value, layer)
        return cls(addresses, domains, own, tuple(invalid))

    def reason(self, address: str) -> Layer | Literal["unreadable"] | None:
        """Why the address is blocked (the layer), or None when it is not."""
        key = normalize_address(address)
        if key is None:
            return "unreadable"
        if key in self.addresses:
            return self.addresses[key]
        for suffix in _suffixes(_domain_of(key)):
            if suffix in self.domains:
                return self.domains[suffix]
        return None

    def is_blocked(self, address: str) -> bool:
        return self.reason(address) is not None

    def is_own(self, address: str) -> bool:
        return normalize_address(address) in self.own_addresses
