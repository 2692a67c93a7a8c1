"""query/queryAll through simple-salesforce: paging, the SOQL subset, date literals, errors."""

from datetime import timedelta

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from .conftest import NOW


def _contacts(org, n, **extra):
    return [
        org.emu.create("Contact", {"LastName": f"C{i:05d}", **extra}, org.user_id) for i in range(n)
    ]


def test_it_pages_five_thousand_records(org):
    _contacts(org, 5000)
    sf = org.sf()
    first = sf.query("SELECT Id, LastName FROM Contact")
    assert (first["totalSize"], len(first["records"]), first["done"]) == (5000, 2000, False)
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    org.emu.clear_calls()
    everything = sf.query_all("SELECT Id FROM Contact")
    assert len({r["Id"] for r in everything["records"]}) == 5000
    assert org.emu.call_count() == 3  # 2000 + 2000 + 1000
    sf.headers["Sforce-Query-Options"] = "batchSize=500"
    assert sum(1 for _ in sf.query_all_iter("SELECT Id FROM Contact")) == 5000
    assert org.emu.call_count() == 3 + 10


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("LastName = 'smith'", ["Smith"]),  # case-insensitive equality
        ("LastName != 'Smith'", ["Jones", "Lee", "O'Neil"]),
        ("(LastName = 'Smith' OR LastName = 'Lee') AND NOT Title = 'CEO'", ["Lee"]),
        ("LastName IN ('Lee', 'Jones')", ["Jones", "Lee"]),
        ("LastName NOT IN ('Lee', 'Jones')", ["O'Neil", "Smith"]),
        ("Email LIKE '%@acme.com'", ["Jones", "Smith"]),
        ("LastName LIKE 'L_e'", ["Lee"]),
        ("LastName = 'O\\'Neil'", ["O'Neil"]),
        ("Email = null", ["Lee", "O'Neil"]),
        ("Email != null AND Title > 'CF'", ["Jones"]),
        ("Birthdate >= 1990-01-01", ["Lee"]),
        ("SystemModstamp > 2024-05-15T11:00:00Z", ["Jones", "Lee", "O'Neil", "Smith"]),
        ("SystemModstamp > 2024-05-15T13:30:00+02:00", ["Jones", "Lee", "O'Neil", "Smith"]),
        ("SystemModstamp > 2024-05-15T12:30:00Z", []),
        ("Owner.Name = 'Alice Adams' AND Account.Name LIKE 'Glob%'", ["Jones"]),
    ],
)
def test_it_filters_with_the_soql_subset(org, where, expected):
    acct = org.emu.create("Account", {"Name": "Globex"})
    for last, email, title, extra in [
        ("Smith", "s@acme.com", "CEO", {}),
        ("Jones", "j@acme.com", "CTO", {"AccountId": acct}),
        ("Lee", None, "Buyer", {"Birthdate": "1991-02-03"}),
        ("O'Neil", None, None, {}),
    ]:
        org.emu.create(
            "Contact", {"LastName": last, "Email": email, "Title": title, **extra}, org.user_id
        )
    rows = org.sf().query(f"SELECT LastName FROM Contact WHERE {where} ORDER BY LastName")[
        "records"
    ]
    assert [r["LastName"] for r in rows] == expected


def test_it_orders_limits_offsets_counts_and_nests_relationships(org):
    for last, title in [("B", None), ("A", "x"), ("C", "y")]:
        org.emu.create("Contact", {"LastName": last, "Title": title}, org.user_id)
    sf = org.sf()
    names = lambda q: [r["LastName"] for r in sf.query(q)["records"]]  # noqa: E731
    assert names("SELECT LastName FROM Contact ORDER BY Title") == ["B", "A", "C"]  # nulls first
    assert names("SELECT LastName FROM Contact ORDER BY Title DESC") == ["C", "A", "B"]
    assert names("SELECT LastName FROM Contact ORDER BY Title ASC NULLS LAST") == ["A", "C", "B"]
    assert names("SELECT LastName FROM Contact ORDER BY LastName LIMIT 2 OFFSET 1") == ["B", "C"]
    assert sf.query("SELECT COUNT() FROM Contact WHERE Title != null")["totalSize"] == 2
    row = sf.query("select id, owner.name from contact limit 1")["records"][0]
    assert row["Owner"]["Name"] == "Alice Adams" and row["attributes"]["type"] == "Contact"


def test_it_evaluates_date_literals_on_date_fields(org):
    emu = org.emu
    due = {
        d: emu.create(
            "Task",
            {"Subject": f"d{d}", "ActivityDate": (NOW.date() + timedelta(days=d)).isoformat()},
        )
        for d in (-3, -2, -1, 0, 1, 2, 3)
    }
    sf = org.sf()

    def subjects(cond):
        rows = sf.query(f"SELECT Subject FROM Task WHERE {cond} ORDER BY ActivityDate")["records"]
        return [r["Subject"] for r in rows]

    assert subjects("ActivityDate = TODAY") == ["d0"]
    assert subjects("ActivityDate = YESTERDAY") == ["d-1"]
    assert subjects("ActivityDate = TOMORROW") == ["d1"]
    assert subjects("ActivityDate = LAST_N_DAYS:2") == ["d-2", "d-1", "d0"]
    assert subjects("ActivityDate = NEXT_N_DAYS:2") == ["d1", "d2"]
    assert subjects("ActivityDate > TODAY") == ["d1", "d2", "d3"]
    assert subjects("ActivityDate < LAST_N_DAYS:2") == ["d-3"]
    assert len(due) == 7


@pytest.mark.parametrize(
    ("soql", "code", "fragment"),
    [
        ("SELECT Id FROM Contact WHERE", "MALFORMED_QUERY", "unexpected end of query"),
        ("SELECT Id Contact", "MALFORMED_QUERY", "unexpected token"),
        ("SELECT Id FROM Contact WHERE a = 1 AND b = 2 OR c = 3", "MALFORMED_QUERY", "OR"),
        ("SELECT Id FROM Contact GROUP BY Name", "MALFORMED_QUERY", "unexpected token"),
        ("SELECT Id, Id FROM Contact", "MALFORMED_QUERY", "duplicate field"),
        ("SELECT Foo FROM Contact", "INVALID_FIELD", "No such column 'Foo'"),
        ("SELECT Id FROM Contact WHERE Owner.Foo = 'x'", "INVALID_FIELD", "Foo"),
        ("SELECT Id FROM Contract", "INVALID_TYPE", "Contract"),
        ("SELECT Id FROM Contact WHERE CreatedDate > '2024-01-01'", "INVALID_FIELD", "dateTime"),
    ],
)
def test_it_rejects_bad_queries_with_salesforce_codes(org, soql, code, fragment):
    with pytest.raises(SalesforceMalformedRequest) as exc:
        org.sf().query(soql)
    err = exc.value.content[0]
    assert err["errorCode"] == code and fragment in err["message"]


def test_it_hides_soft_deleted_rows_from_query_but_not_from_query_all(org):
    keep, gone = _contacts(org, 2)
    sf = org.sf()
    assert sf.Contact.delete(gone) == 204
    assert [r["Id"] for r in sf.query("SELECT Id FROM Contact")["records"]] == [keep]
    rows = sf.query_all("SELECT Id, IsDeleted FROM Contact ORDER BY LastName", include_deleted=True)
    assert [(r["Id"], r["IsDeleted"]) for r in rows["records"]] == [(keep, False), (gone, True)]
    changed = sf.query_all(
        "SELECT Id FROM Contact WHERE SystemModstamp >= 2024-05-15T12:00:00Z AND IsDeleted = true",
        include_deleted=True,
    )
    assert changed["totalSize"] == 1
