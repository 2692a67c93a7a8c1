"""Blocklist text as the dashboard and admin store it, validated by the logger's own rules.

Every entry, wherever it is typed (Detailed settings, the org list in admin, a user's
settings in admin), goes through `syncengine.emails.blocklist.parse_entry`, so what the
dashboard accepts is exactly what the email logger applies. Stored form: one normalized
entry a line (`acme.com`, `bob@acme.com`), duplicates dropped.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from syncengine.emails.blocklist import FREE_MAIL_DOMAINS, Entry, normalize_domain, parse_entry

MAX_ENTRY_CHARS = 254  # the longest email address (RFC 5321 path limit)


def entry_error(raw: str) -> str | None:
    """Why one entry is refused (a sentence for a form), or None when it is valid.

    Whether it is valid is parse_entry's call alone; this only words the reason."""
    try:
        parse_entry(raw)
    except ValueError:
        pass
    else:
        return None
    text = raw.strip()
    if len(text) > MAX_ENTRY_CHARS:
        return (
            f"“{text[:40]}…” is {len(text):,} characters long; an entry (an email address "
            f"or a domain) has at most {MAX_ENTRY_CHARS}."
        )
    if "@" in text.lstrip("@"):
        message = f"“{text}” is not a valid email address (like bob@example.com)."
    else:
        message = (
            f"“{text}” is neither an email address nor a domain "
            "(like bob@example.com or example.com)."
        )
    if any(c.isspace() for c in text):
        message += " An entry has no spaces: put each one on its own line."
    return message


def validate_entry(raw: str) -> Entry:
    """One entry (the org list's value field), normalized, or ValidationError."""
    try:
        return parse_entry(raw)
    except ValueError:
        # parse_entry refused it, so entry_error has a sentence for it.
        raise ValidationError(entry_error(raw) or "", code="invalid_blocklist_entry") from None


# SPEC §8: every input has a limit with a clear message, and work grows linearly with it.
USER_BLOCKLIST_MAX_ENTRIES = 2_000
ORG_BLOCKLIST_MAX_ENTRIES = 20_000
# An entry is at most an address (RFC 5321: 254 characters); with the line breaks this is
# the most a full list can take.
USER_BLOCKLIST_MAX_CHARS = USER_BLOCKLIST_MAX_ENTRIES * 256
# A form shows this many line errors, then how many more there are.
MAX_ERRORS_SHOWN = 20


def too_many_entries_message(count: int, limit: int) -> str:
    return (
        f"The blocklist has {count:,} entries; it takes at most {limit:,}. Nothing was "
        "saved. Block whole domains (example.com) instead of single addresses to shorten it."
    )


def parse_blocklist(text: str, max_entries: int = USER_BLOCKLIST_MAX_ENTRIES) -> list[Entry]:
    """Entries one a line; blank lines and duplicates dropped; one error per bad line,
    each with its line number, so several mistakes are fixed in one go.

    Linear in the text: duplicates are found with a set (a list's `in` made a 50,000-line
    list cost minutes), a list over `max_entries` lines is refused before any line is
    parsed, and at most MAX_ERRORS_SHOWN errors are listed, followed by how many more."""
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    if len(lines) > max_entries:
        raise ValidationError(
            too_many_entries_message(len(lines), max_entries), code="blocklist_too_long"
        )
    entries: dict[Entry, None] = {}  # insertion-ordered set
    errors: list[ValidationError] = []
    error_count = 0
    for number, line in lines:
        try:
            entry = parse_entry(line)
        except ValueError:
            error_count += 1
            if error_count <= MAX_ERRORS_SHOWN:
                errors.append(
                    ValidationError(
                        "Line %(number)d: %(error)s",
                        params={"number": number, "error": entry_error(line)},
                        code="invalid_blocklist_entry",
                    )
                )
            continue
        entries.setdefault(entry, None)
    if error_count > MAX_ERRORS_SHOWN:
        errors.append(
            ValidationError(
                "…and %(more)d more lines that are not valid entries (%(total)d in all).",
                params={"more": error_count - MAX_ERRORS_SHOWN, "total": error_count},
                code="more_invalid_blocklist_entries",
            )
        )
    if errors:
        raise ValidationError(errors)
    return list(entries)


def validate_blocklist(text: str) -> None:
    """Model field validator: the admin refuses what the dashboard refuses."""
    parse_blocklist(text)


def format_entries(entries: list[Entry]) -> str:
    return "\n".join(entry.value for entry in entries)


def free_mail_choices() -> list[tuple[str, str]]:
    return [(domain, domain) for domain in sorted(FREE_MAIL_DOMAINS)]


def parse_free_mail_unblocked(text: str) -> list[str]:
    """The free-mail domains a user allowed, one a line, each one of FREE_MAIL_DOMAINS."""
    domains: list[str] = []
    errors: list[ValidationError] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        domain = normalize_domain(line)
        if domain is None or domain not in FREE_MAIL_DOMAINS:
            errors.append(
                ValidationError(
                    "Line %(number)d: “%(value)s” is not one of the free-mail domains Relay "
                    "blocks by default, so there is nothing to unblock; to block or allow "
                    "other domains use the blocklist.",
                    params={"number": number, "value": line.strip()},
                    code="not_free_mail",
                )
            )
            continue
        if domain not in domains:
            domains.append(domain)
    if errors:
        raise ValidationError(errors)
    return domains


def validate_free_mail_unblocked(text: str) -> None:
    parse_free_mail_unblocked(text)
