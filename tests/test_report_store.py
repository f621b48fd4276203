"""Workers' reports in the store, against a GeoPackage and a real PostgreSQL + PostGIS: one vote
per client per station per day, no raw address stored, daily keys rotated, tallies, resolving.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from stationmap.accounts import Account
from stationmap.hours import TIMEZONE
from stationmap.permissions import Forbidden
from stationmap.station_reports import NewReport, Thresholds
from stationmap.stations import read_stations
from stationmap.store import NotFound, Store
from stationmap.store.reports import AlreadyReported, ReportResolved
from stationmap.store.schema import audit, report_keys, reports

STATION, OTHER = "SH-310101-0010", "SH-310109-0026"
NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)          # 12:00 in Shanghai


def Staff(role: str = "editor", adcodes: tuple[str, ...] = ("310101",)) -> Account:   # noqa: N802
    """A staff member; by default an editor of Huangpu (310101), where STATION is."""
    return Account(id=7, name="reviewer", role=role, adcodes=adcodes if role == "editor" else ())


@pytest.fixture
def store(store_url):
    opened = Store.open(store_url, upgrade=True)
    opened.seed(read_stations(), file_name="shanghai_stations.geojson", digest="")
    yield opened
    opened.close()


def test_a_report_is_stored_against_the_station_version_without_the_client_address(store):
    made = store.add_report(STATION, NewReport("closed", note="门锁着"), address="203.0.113.7", agent="UA", now=NOW)
    assert (made.station_id, made.station_version, made.kind, made.note, made.status) == (STATION, 1, "closed",
                                                                                         "门锁着", "open")
    assert made.adcode == "310101"
    with store.engine.connect() as c:
        row = c.execute(sa.select(reports)).mappings().one()
    assert "203.0.113.7" not in repr(dict(row)) and len(row["client_key"]) == 64


def test_a_second_report_by_the_same_client_on_the_same_day_is_refused_and_the_next_day_counts(store):
    store.add_report(STATION, NewReport("closed"), address="203.0.113.7", now=NOW)
    with pytest.raises(AlreadyReported):
        store.add_report(STATION, NewReport("confirm_open"), address="203.0.113.7", now=NOW + timedelta(hours=1))
    store.add_report(OTHER, NewReport("closed"), address="203.0.113.7", now=NOW)           # another station
    store.add_report(STATION, NewReport("closed"), address="198.51.100.1", now=NOW)        # another client
    store.add_report(STATION, NewReport("closed"), address="203.0.113.7", now=NOW + timedelta(days=1))
    assert len(store.reports(status=None)) == 4


def test_the_service_day_is_china_time_so_a_vote_at_23_utc_counts_for_the_next_shanghai_day(store):
    late = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)           # 23:30 in Shanghai
    store.add_report(STATION, NewReport("closed"), address="a", now=late)
    store.add_report(STATION, NewReport("closed"), address="a", now=late + timedelta(hours=1))   # 00:30 next day
    with pytest.raises(AlreadyReported):
        store.add_report(STATION, NewReport("closed"), address="a", now=late + timedelta(hours=2))


def test_day_keys_rotate_and_keys_older_than_yesterday_are_deleted(store):
    store.add_report(STATION, NewReport("closed"), address="a", now=NOW)
    store.add_report(STATION, NewReport("closed"), address="a", now=NOW + timedelta(days=1))
    store.add_report(STATION, NewReport("closed"), address="a", now=NOW + timedelta(days=3))
    with store.engine.connect() as c:
        days = sorted(c.execute(sa.select(report_keys.c.day)).scalars())
        keys = list(c.execute(sa.select(reports.c.client_key).order_by(reports.c.id)).scalars())
    assert days == ["2026-11-28"]
    assert len(set(keys)) == 3               # the same client is unlinkable across days


def test_an_unknown_or_deleted_station_cannot_be_reported(store):
    with pytest.raises(NotFound):
        store.add_report("nope", NewReport("closed"), address="a", now=NOW)
    store.delete(OTHER, expected_version=1, actor=Account.operator("test"))
    with pytest.raises(NotFound):
        store.add_report(OTHER, NewReport("closed"), address="a", now=NOW)


def test_tallies_count_unresolved_closures_in_the_window_and_confirmations(store):
    rules = Thresholds(closed_hours=24, confirm_days=30)
    for i, hours_ago in enumerate((1, 5, 30)):
        store.add_report(STATION, NewReport("closed"), address=f"c{i}", now=NOW - timedelta(hours=hours_ago))
    store.add_report(STATION, NewReport("confirm_open"), address="x", now=NOW - timedelta(days=3))
    store.add_report(STATION, NewReport("confirm_open"), address="y", now=NOW - timedelta(days=40))
    tally = store.report_tallies(NOW, rules)[STATION]
    assert (tally.closed, tally.confirmed) == (2, 1)
    assert tally.last_confirmed == NOW - timedelta(days=3)
    assert store.report_tallies(NOW, rules, [OTHER]) == {}


def test_accepting_a_closure_closes_the_station_as_an_edit_by_the_staff_member_and_merges_the_rest(store):
    first = store.add_report(STATION, NewReport("closed"), address="a", now=datetime.now(UTC))
    second = store.add_report(STATION, NewReport("closed"), address="b", now=datetime.now(UTC))
    done = store.resolve_report(first.id, "accept", actor=Staff(), reason="checked by phone")
    assert done.status == "accepted" and done.resolved_by == "user:reviewer"
    assert store.get(STATION)["status"] == "temporarily_closed"
    last = store.history(STATION)[-1]
    assert last.who == "user:reviewer" and f"report {first.id}" in last.reason
    assert store.report(second.id).status == "merged" and store.report(second.id).merged_into == first.id
    with pytest.raises(ReportResolved):
        store.resolve_report(first.id, "reject", actor=Staff())


def test_accepting_a_confirmation_refreshes_last_verified(store):
    made = store.add_report(STATION, NewReport("confirm_open"), address="a", now=datetime.now(UTC))
    store.resolve_report(made.id, "accept", actor=Staff())
    resolved = store.report(made.id).resolved_at
    assert store.get(STATION)["last_verified"] == resolved.astimezone(TIMEZONE).date().isoformat()


def test_rejecting_changes_nothing_and_merging_needs_a_report_on_the_same_station(store):
    a = store.add_report(STATION, NewReport("moved", note="搬到对面"), address="a", now=NOW)
    b = store.add_report(STATION, NewReport("moved"), address="b", now=NOW)
    c = store.add_report(OTHER, NewReport("moved"), address="c", now=NOW)
    c_admin = Staff("admin")
    store.resolve_report(a.id, "reject", actor=Staff())
    assert store.get(STATION)["version"] == 1 and store.report(a.id).status == "rejected"
    with pytest.raises(ValueError, match="same station"):
        store.resolve_report(b.id, "merge", actor=c_admin, merge_into=c.id)
    assert store.resolve_report(b.id, "merge", actor=Staff(), merge_into=a.id).merged_into == a.id


def test_the_queue_holds_only_the_districts_asked_for(store):
    store.add_report(STATION, NewReport("closed"), address="a", now=NOW)        # 310101
    store.add_report(OTHER, NewReport("closed"), address="a", now=NOW)          # 310109
    assert [r.station_id for r in store.reports(adcodes=["310109"])] == [OTHER]
    assert len(store.reports()) == 2


def test_an_editor_resolves_only_reports_in_their_districts_and_refusals_are_audited(store):
    theirs = store.add_report(STATION, NewReport("closed"), address="a", now=datetime.now(UTC))     # 310101
    other = store.add_report(OTHER, NewReport("closed"), address="a", now=datetime.now(UTC))        # 310109
    with pytest.raises(Forbidden):
        store.resolve_report(other.id, "accept", actor=Staff())
    assert store.report(other.id).status == "open" and store.get(OTHER)["status"] == "open"
    with pytest.raises(Forbidden):
        store.resolve_report(theirs.id, "reject", actor=Staff("viewer"))
    store.resolve_report(theirs.id, "accept", actor=Staff())
    with store.engine.connect() as c:
        rows = c.execute(sa.select(audit.c.action, audit.c.target_kind, audit.c.target_id, audit.c.outcome)
                         .where(audit.c.target_kind == "report").order_by(audit.c.id)).all()
    assert [tuple(r) for r in rows] == [("report.resolve", "report", str(other.id), "refused"),
                                        ("report.resolve", "report", str(theirs.id), "refused"),
                                        ("report.resolve", "report", str(theirs.id), "done")]


def test_a_report_accepted_by_two_people_at_once_edits_the_station_at_most_once_and_agrees_with_it(store, monkeypatch):
    """Review: the accepting edit and the report's new status were two transactions, so a report
    resolved meanwhile (another tab, another person) still had its edit applied to the station."""
    from stationmap.store import reports as stored_reports

    made = store.add_report(STATION, NewReport("closed"), address="a", now=datetime.now(UTC))
    before = store.get(STATION)["version"]
    plan = stored_reports.accepted_edit

    def racing_plan(kind, now):
        try:       # someone else rejects the same report after this acceptance read it as open
            store.resolve_report(made.id, "reject", actor=Staff(), reason="not closed")
        except ReportResolved:
            pass
        return plan(kind, now)

    monkeypatch.setattr(stored_reports, "accepted_edit", racing_plan)
    try:
        store.resolve_report(made.id, "accept", actor=Staff())
    except ReportResolved:
        pass
    status = store.report(made.id).status
    closed = store.get(STATION)["status"] == "temporarily_closed"
    assert closed == (status == "accepted"), (status, closed)
    assert store.get(STATION)["version"] <= before + 1


def test_an_acceptance_whose_edit_fails_leaves_the_report_open_and_the_audit_without_a_decision(store):
    made = store.add_report(STATION, NewReport("closed"), address="a", now=datetime.now(UTC))
    store.delete(STATION, expected_version=None, actor=Account.operator("office"))     # gone meanwhile
    with pytest.raises(NotFound):
        store.resolve_report(made.id, "accept", actor=Staff())
    assert store.report(made.id).status == "open"
    with store.engine.connect() as c:
        decided = c.execute(sa.select(audit.c.id).where(audit.c.target_kind == "report")).all()
    assert decided == []
