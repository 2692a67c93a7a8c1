"""The demo seed is deterministic and leaves the engine's containers to the engine."""

from datetime import UTC, datetime

from sandbox.google import SALESFORCE_MARKER, GoogleEmulator, seed_demo_account

NOW = datetime(2030, 3, 13, 12, tzinfo=UTC)


def test_it_seeds_a_deterministic_demo_account():
    a, b = GoogleEmulator(), GoogleEmulator()
    out = seed_demo_account(a, "demo@example.com", now=NOW)
    seed_demo_account(b, "demo@example.com", now=NOW)

    def summary(emu):
        return [
            (c["names"][0]["displayName"], c["phoneNumbers"][0]["value"])
            for c in emu.contacts("demo@example.com")
        ]

    assert summary(a) == summary(b)
    assert a.group_resource("demo@example.com", "Salesforce Contacts") is None
    assert a.tasklist_id("demo@example.com", "Salesforce Tasks") is None
    marked = [
        e
        for e in a.events("demo@example.com")
        if (e.get("extendedProperties") or {}).get("private", {}).get(SALESFORCE_MARKER) == "1"
    ]
    assert len(marked) == 3
    assert any(e.get("recurrence") for e in a.events("demo@example.com"))
    tagged = [
        m for m in a.account("demo@example.com").messages.values() if out["label"] in m["labelIds"]
    ]
    assert len(tagged) == 3
