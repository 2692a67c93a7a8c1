"""Blocklist rules (SPEC §6): entries, layers, the free-mail default, own domain, subdomains."""

import pytest

from syncengine.emails.blocklist import FREE_MAIL_DOMAINS, Blocklist, Entry, parse_entry


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("bob@acme.com", Entry("address", "bob@acme.com")),
        ("  Bob@ACME.com ", Entry("address", "bob@acme.com")),
        ("o'brien+sales@acme.co.uk", Entry("address", "o'brien+sales@acme.co.uk")),
        ("acme.com", Entry("domain", "acme.com")),
        ("ACME.com.", Entry("domain", "acme.com")),
        ("@acme.com", Entry("domain", "acme.com")),
        ("*.acme.com", Entry("domain", "acme.com")),
        ("eu.sales.acme.com", Entry("domain", "eu.sales.acme.com")),
        ("bücher.de", Entry("domain", "xn--bcher-kva.de")),
        ("xn--bcher-kva.de", Entry("domain", "xn--bcher-kva.de")),
        ("anna@bücher.de", Entry("address", "anna@xn--bcher-kva.de")),
    ],
)
def test_entries_are_validated_and_normalized(text, entry):
    assert parse_entry(text) == entry


@pytest.mark.parametrize(
    "text",
    [
        "foo@",
        "@",
        "@@acme.com",
        "bob@acme",
        "acme",
        "bob smith@acme.com",
        "bob@acme..com",
        "-acme.com",
        "acme-.com",
        "*.com",
        "10.0.0.1",
        "a@b@c.com",
        "http://acme.com",
        "bob@@acme.com",
        ".bob@acme.com",
    ],
)
def test_bad_entries_are_refused_with_a_clear_message(text):
    with pytest.raises(ValueError, match=r"is neither an email address nor a domain"):
        parse_entry(text)


def test_the_message_quotes_the_entry():
    with pytest.raises(ValueError) as err:
        parse_entry("foo@")
    assert str(err.value) == "'foo@' is neither an email address nor a domain"
    with pytest.raises(ValueError, match="empty"):
        parse_entry("   ")


def test_free_mail_domains_include_the_common_ones():
    for d in ("gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com", "gmx.de"):
        assert d in FREE_MAIL_DOMAINS


ME = "alice@acme.com"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("alice@acme.com", "own address"),
        ("ALICE@Acme.com", "own address"),
        ("bob@acme.com", "own domain"),
        ("carol@eu.acme.com", "own domain"),
        ("someone@gmail.com", "free mail"),
        ("someone@yahoo.com", "free mail"),
        ("ceo@competitor.com", "org list"),
        ("anyone@mail.competitor.com", "org list"),
        ("noreply@vendor.com", "user list"),
        ("mum@family.net", "user list"),
        ("buyer@customer.com", None),
        ("buyer@notacme.com", None),  # a suffix, not a subdomain
        ("buyer@acme.com.evil.com", None),
        ("not-an-address", "unreadable"),
    ],
)
def test_every_layer_blocks(address, reason):
    blocklist = Blocklist.merge(
        org_entries=["competitor.com", "@hr-provider.com"],
        user_entries=["noreply@vendor.com", "*.family.net", "family.net"],
        user_own_addresses=[ME],
    )
    assert blocklist.reason(address) == reason
    assert blocklist.is_blocked(address) is (reason is not None)


def test_a_removed_free_mail_domain_is_no_longer_blocked():
    blocklist = Blocklist.merge(user_own_addresses=[ME], free_mail_removed=["Gmail.com"])
    assert not blocklist.is_blocked("client@gmail.com")
    assert blocklist.is_blocked("client@yahoo.com")


def test_removing_a_free_mail_domain_does_not_unblock_an_org_or_user_entry():
    blocklist = Blocklist.merge(
        org_entries=["gmail.com"], user_own_addresses=[ME], free_mail_removed=["gmail.com"]
    )
    assert blocklist.reason("client@gmail.com") == "org list"
    blocklist = Blocklist.merge(
        user_entries=["ex@gmail.com"], user_own_addresses=[ME], free_mail_removed=["gmail.com"]
    )
    assert blocklist.is_blocked("ex@gmail.com")
    assert not blocklist.is_blocked("client@gmail.com")


def test_a_free_mail_own_domain_blocks_only_the_own_address():
    """A freelancer on alice@gmail.com who removed gmail.com logs mail with gmail clients;
    her own address is never linked."""
    blocklist = Blocklist.merge(
        user_own_addresses=["alice@gmail.com"], free_mail_removed=["gmail.com"]
    )
    assert blocklist.reason("alice@gmail.com") == "own address"
    assert not blocklist.is_blocked("client@gmail.com")
    # Without the removal gmail.com is blocked as free mail, not as her own domain.
    assert (
        Blocklist.merge(user_own_addresses=["alice@gmail.com"]).reason("x@gmail.com") == "free mail"
    )


def test_the_own_domain_cannot_be_removed():
    blocklist = Blocklist.merge(user_own_addresses=[ME], free_mail_removed=["acme.com"])
    assert blocklist.reason("bob@acme.com") == "own domain"


def test_several_own_addresses_block_each_domain():
    blocklist = Blocklist.merge(user_own_addresses=[ME, "alice@acme-group.de"])
    assert blocklist.is_blocked("bob@acme.com")
    assert blocklist.is_blocked("hans@acme-group.de")


def test_idn_addresses_compare_in_either_form():
    blocklist = Blocklist.merge(user_entries=["bücher.de"])
    assert blocklist.is_blocked("anna@xn--bcher-kva.de")
    assert blocklist.is_blocked("anna@BÜCHER.de")
    assert blocklist.is_blocked("anna@shop.bücher.de")


def test_stored_entries_that_no_longer_parse_are_reported_not_fatal():
    blocklist = Blocklist.merge(org_entries=["foo@", "competitor.com"], user_entries=["acme"])
    assert blocklist.invalid == ("foo@", "acme")
    assert blocklist.is_blocked("x@competitor.com")


def test_entries_may_be_given_parsed():
    blocklist = Blocklist.merge(user_entries=[parse_entry("@vendor.com")])
    assert blocklist.reason("a@vendor.com") == "user list"
