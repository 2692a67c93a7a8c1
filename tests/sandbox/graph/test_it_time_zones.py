"""Every IANA zone that maps to a Windows zone round-trips through the Graph emulator.

Real Graph accepts every Windows name of CLDR's windowsZones table; the emulator used to
know about 40 and refuse the rest. Events are written and read the way Relay does it (the
engine's Graph mappers), through O365's connection over HTTPS, with and without
`Prefer: outlook.timezone`.
"""

import datetime as dt
from zoneinfo import ZoneInfo, available_timezones

import pytest

from sandbox.common import EmulatorServer
from sandbox.graph import GraphEmulator
from sandbox.graph.o365_client import make_account
from syncengine.mappers.graph import event_from_graph, event_to_graph
from syncengine.mappers.timezones import IANA_TO_WINDOWS, iana_to_windows, windows_to_iana

ANN = "ann@contoso.example"
_LOADABLE = available_timezones()
ZONES = sorted(z for z in IANA_TO_WINDOWS if z in _LOADABLE)
UTC = dt.UTC


TIMED = {
    "subject": "Call",
    "all_day": False,
    "start": dt.datetime(2026, 7, 14, 16, 30, tzinfo=UTC),
    "end": dt.datetime(2026, 7, 14, 17, 15, tzinfo=UTC),
}
ALL_DAY = {
    "subject": "Offsite",
    "all_day": True,
    "start_date": dt.date(2026, 1, 30),
    "end_date": dt.date(2026, 2, 1),
}


@pytest.fixture(scope="module")
def graph_api(sandbox_ca):
    app = GraphEmulator()
    app.add_mailbox(ANN, "Ann Smith", time_zone="UTC")
    with EmulatorServer(app, sandbox_ca) as srv:
        access, refresh = app.issue_token(ANN)
        acct, _ = make_account(srv.base_url, srv.ca_bundle, ANN, access, refresh)
        yield acct.con, acct.protocol.service_url


def _timed_payload(zone):
    """The engine's event JSON, with the wall time in the zone Graph reads the Windows name
    as (its CLDR "001" zone). For three IANA zones whose rules changed after CLDR mapped
    them (America/Scoresbysund, Antarctica/Casey, Antarctica/Vostok) that is not the IANA
    zone's own wall time, which event_to_graph writes there (reported to the engine)."""
    windows = iana_to_windows(zone)
    payload = event_to_graph(TIMED, zone)
    graph_zone = ZoneInfo(windows_to_iana(windows))
    for key in ("start", "end"):
        wall = TIMED[key].astimezone(graph_zone).replace(tzinfo=None)
        payload[key] = {"dateTime": wall.isoformat(), "timeZone": windows}
    return payload


def _batched(con, base, requests):
    """Send (key, request) pairs in $batch calls of 20; {key: (status, body)}."""
    out = {}
    for i in range(0, len(requests), 20):
        chunk = dict(requests[i : i + 20])
        ids = {str(n): key for n, key in enumerate(chunk)}
        body = {"requests": [{"id": n, **chunk[key]} for n, key in ids.items()]}
        reply = con.post(base + "$batch", data=body).json()
        for r in reply["responses"]:
            out[ids[r["id"]]] = (r["status"], r.get("body"))
    return out


@pytest.fixture(scope="module")
def round_trips(graph_api):
    """Every zone's timed and all-day event, created and read back in both renderings:
    {(zone, kind): (created status, read in the zone, read in UTC)}. Batched, since a
    request per zone and rendering would cost ~2,400 round trips."""
    con, base = graph_api
    json = {"Content-Type": "application/json"}
    creates = []
    for zone in ZONES:
        for kind, payload in (
            ("timed", _timed_payload(zone)),
            ("all_day", event_to_graph(ALL_DAY, zone)),
        ):
            creates.append(
                (
                    (zone, kind),
                    {"method": "POST", "url": "/me/events", "headers": json, "body": payload},
                )
            )
    created = _batched(con, base, creates)
    reads = []
    for (zone, kind), (status, body) in created.items():
        if status != 201:
            continue
        url = f"/me/events/{body['id']}"
        prefer = {"Prefer": f'outlook.timezone="{iana_to_windows(zone)}"'}
        reads.append(((zone, kind, "zone"), {"method": "GET", "url": url, "headers": prefer}))
        reads.append(((zone, kind, "utc"), {"method": "GET", "url": url}))
    read = _batched(con, base, reads)
    return {
        key: (status, read.get((*key, "zone")), read.get((*key, "utc")))
        for key, (status, _) in created.items()
    }


def _round_trip(con, base, payload, windows):
    created = con.post(base + "me/events", data=payload)
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]
    prefer = {"Prefer": f'outlook.timezone="{windows}"'}
    in_zone = con.get(base + f"me/events/{event_id}", headers=prefer).json()
    in_utc = con.get(base + f"me/events/{event_id}").json()
    return in_zone, in_utc


def test_it_has_every_zone_of_the_cldr_table():
    assert len(ZONES) > 400 and "Pacific/Kiritimati" in ZONES


def test_it_reads_a_windows_name_by_its_own_rule_not_by_a_drifted_iana_zone(graph_api):
    """America/Scoresbysund maps to "Azores Standard Time" in CLDR, but moved to UTC-2/-1
    in 2024; Graph applies the Windows zone (Azores, UTC+0 in July)."""
    con, base = graph_api
    payload = {
        "subject": "Ittoqqortoormiit",
        "start": {"dateTime": "2026-07-14T09:00:00", "timeZone": "Azores Standard Time"},
        "end": {"dateTime": "2026-07-14T10:00:00", "timeZone": "Azores Standard Time"},
    }
    _, in_utc = _round_trip(con, base, payload, "Azores Standard Time")
    assert in_utc["start"]["dateTime"] == "2026-07-14T09:00:00.0000000"


def test_it_accepts_line_islands_time_in_prefer_and_converts(graph_api):
    con, base = graph_api
    payload = {
        "subject": "Kiritimati",
        "start": {"dateTime": "2026-07-14T09:00:00", "timeZone": "Line Islands Standard Time"},
        "end": {"dateTime": "2026-07-14T10:00:00", "timeZone": "Line Islands Standard Time"},
    }
    in_zone, in_utc = _round_trip(con, base, payload, "Line Islands Standard Time")
    # UTC+14: 09:00 on the 14th is 19:00 UTC on the 13th.
    assert in_utc["start"] == {"dateTime": "2026-07-13T19:00:00.0000000", "timeZone": "UTC"}
    assert in_zone["start"]["dateTime"] == "2026-07-14T09:00:00.0000000"


@pytest.mark.parametrize("zone", ZONES)
def test_it_round_trips_timed_and_all_day_events_in(round_trips, zone):
    windows = iana_to_windows(zone)
    status, (zone_status, in_zone), (utc_status, in_utc) = round_trips[(zone, "timed")]
    assert (status, zone_status, utc_status) == (201, 200, 200), (in_zone, in_utc)
    assert in_zone["start"]["timeZone"] == windows
    assert in_utc["start"]["timeZone"] == "UTC"
    for item in (in_zone, in_utc):
        got = event_from_graph(item, zone)
        assert (got["start"], got["end"]) == (TIMED["start"], TIMED["end"]), item

    status, (zone_status, in_zone), (utc_status, in_utc) = round_trips[(zone, "all_day")]
    assert (status, zone_status, utc_status) == (201, 200, 200), (in_zone, in_utc)
    assert in_zone["start"] == {"dateTime": "2026-01-30T00:00:00.0000000", "timeZone": windows}
    for item in (in_zone, in_utc):
        got = event_from_graph(item, zone)
        assert (got["start_date"], got["end_date"]) == (ALL_DAY["start_date"], ALL_DAY["end_date"])
