"""Blocklist text as the dashboard and admin store it, validated by the logger's own rules.

Every entry, wherever it is typed (Detailed settings, the org list in admin, a user's
settings in admin), goes through `syncengine.emails.blocklist.parse_entry`, so what the
dashboard accepts is exactly what the email logger applies. Stored form: one normalized
entry a line (`acme.com`, `bob@acme.com`), duplicates dropped.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from syncengine.emails.blocklist import FREE_MAIL_DOMAINS, Entry, normalize_domain, parse_entry


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
        raise ValidationError(entry_error(raw), code="invalid_blocklist_entry") from None


def parse_blocklist(text: str) -> list[Entry]:
    """Entries one a line; blank lines and duplicates dropped; one error per bad line,
    each with its line number, so several mistakes are fixed in one go."""
    entries: list[Entry] = []
    errors: list[ValidationError] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = parse_entry(line)
        except ValueError:
            errors.append(
                ValidationError(
                    "Line %(number)d: %(error)s",
                    params={"number": number, "error": entry_error(line)},
                    code="invalid_blocklist_entry",
                )
            )
            continue
        if entry not in entries:
            entries.append(entry)
    if errors:
        raise ValidationError(errors)
    return entries


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
