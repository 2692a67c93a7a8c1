"""Zones whose IANA rules differ from their Windows zone's (CLDR maps them to a Windows
zone whose offset is not theirs any more): Graph reads a wall time by the Windows zone's
rules, so the engine must write the wall time of that zone, not the IANA zone's. Written
with the engine's mapper, sent through O365 over HTTPS to the Graph emulator, read back."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from sandbox.common import EmulatorServer
from sandbox.graph import GraphEmulator
from sandbox.graph.o365_client import make_account
from syncengine.mappers.graph import event_from_graph, event_to_graph
from syncengine.mappers.timezones import iana_to_windows, resolve_zone

ANN = "ann@contoso.example"
UTC = dt.UTC
DRIFTED = ["America/Scoresbysund", "Antarctica/Casey", "Antarctica/Vostok"]
INSTANTS = [
    dt.datetime(2026, 1, 14, 16, 30, tzinfo=UTC),
    dt.datetime(2026, 7, 14, 8, 15, tzinfo=UTC),
]


@pytest.fixture(scope="module")
def graph(sandbox_ca):
    app = GraphEmulator()
    app.add_mailbox(ANN, "Ann Smith", time_zone="UTC")
    with EmulatorServer(app, sandbox_ca) as srv:
        access, refresh = app.issue_token(ANN)
        acct, _ = make_account(srv.base_url, srv.ca_bundle, ANN, access, refresh)
        yield acct.con, acct.protocol.service_url


def test_the_zones_really_drift_from_their_windows_zone():
    for zone in DRIFTED:
        windows = resolve_zone(iana_to_windows(zone))
        assert any(
            i.astimezone(ZoneInfo(zone)).utcoffset() != i.astimezone(windows).utcoffset()
            for i in INSTANTS
        ), zone


@pytest.mark.parametrize("zone", DRIFTED)
@pytest.mark.parametrize("start", INSTANTS, ids=["january", "july"])
def test_a_timed_event_keeps_its_instant_in(graph, zone, start):
    con, base = graph
    fields = {
        "subject": "Call",
        "all_day": False,
        "start": start,
        "end": start + dt.timedelta(hours=1),
    }
    payload = event_to_graph(fields, zone)
    created = con.post(base + "me/events", data=payload)
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]
    prefer = {"Prefer": f'outlook.timezone="{iana_to_windows(zone)}"'}
    for headers in ({}, prefer):
        item = con.get(base + f"me/events/{event_id}", headers=headers).json()
        got = event_from_graph(item, zone)
        assert (got["start"], got["end"]) == (fields["start"], fields["end"]), item["start"]


@pytest.mark.parametrize("zone", DRIFTED)
def test_an_all_day_event_keeps_its_dates_in(graph, zone):
    con, base = graph
    fields = {
        "subject": "Offsite",
        "all_day": True,
        "start_date": dt.date(2026, 7, 14),
        "end_date": dt.date(2026, 7, 16),
    }
    created = con.post(base + "me/events", data=event_to_graph(fields, zone))
    assert created.status_code == 201, created.text
    item = con.get(base + f"me/events/{created.json()['id']}").json()
    got = event_from_graph(item, zone)
    assert (got["start_date"], got["end_date"]) == (fields["start_date"], fields["end_date"])
