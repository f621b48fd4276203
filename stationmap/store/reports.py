"""Workers' reports in the store: record one (one vote per client, station and day), count the
recent ones for the stations' summaries, list the staff queue, and resolve a report.

A report is not a change to the register: recording one does not bump the register version
(answers stay cached, nothing is re-indexed). Accepting one does change a station, through the
store's own audited edit (:meth:`~stationmap.store.Store.update`), with the staff member as
who made it. The rules themselves (kinds, limits, the client key, thresholds, the summary) are
in :mod:`stationmap.station_reports`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..errors import InputError, StationmapError
from ..hours import TIMEZONE
from ..permissions import Forbidden, authorise
from ..station_reports import DECISIONS, NewReport, Tally, Thresholds, client_key, service_day, windows
from . import audit
from .engine import WRITE
from .schema import report_keys, reports, stations

if TYPE_CHECKING:
    from ..accounts import Account
    from .register import Store


class AlreadyReported(StationmapError):
    """The client has already reported on this station today (HTTP 409 on the web)."""

    def __init__(self, station_id: str, day: str):
        self.station_id, self.day = station_id, day
        super().__init__(f"this client already reported on station {station_id!r} today ({day}); "
                         "one report per station a day counts")


class ReportResolved(StationmapError):
    """The report was resolved already (by someone else meanwhile): nothing is done twice."""


@dataclass(frozen=True)
class Report:
    """One stored report, as staff see it (the client key stays in the store)."""

    id: int
    station_id: str
    station_version: int
    adcode: str
    kind: str
    amenity: str
    note: str
    contact: str
    made_at: datetime
    status: str
    resolved_by: str | None
    resolved_at: datetime | None
    resolution: str
    merged_into: int | None

    def as_json(self) -> dict[str, Any]:
        """JSON-ready, times in ISO 8601."""
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["made_at"] = self.made_at.isoformat()
        out["resolved_at"] = self.resolved_at.isoformat() if self.resolved_at else None
        return out


def _utc(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def _report(row: Any) -> Report:
    values = {name: row[name] for name in Report.__dataclass_fields__}
    values["made_at"], values["resolved_at"] = _utc(row["made_at"]), _utc(row["resolved_at"])
    return Report(**values)


def _day_key(c: sa.Connection, day: str) -> bytes:
    """The day's random key, made by the first report of the day; keys older than yesterday
    are deleted, so their hashes can no longer be recomputed by anyone.
    """
    found = c.execute(sa.select(report_keys.c.secret).where(report_keys.c.day == day)).scalar()
    if found is None:
        insert = postgresql.insert if c.dialect.name == "postgresql" else sqlite.insert
        c.execute(insert(report_keys).values(day=day, secret=secrets.token_hex(32)).on_conflict_do_nothing())
        found = c.execute(sa.select(report_keys.c.secret).where(report_keys.c.day == day)).scalar_one()
        yesterday = (datetime.fromisoformat(day) - timedelta(days=1)).date().isoformat()
        c.execute(report_keys.delete().where(report_keys.c.day < yesterday))
    return bytes.fromhex(found)


def add_report(store: Store, station_id: str, new: NewReport, *, address: str, agent: str = "",
               now: datetime | None = None) -> Report:
    """Record a worker's report on a live station, against its current version.

    Raises :class:`~stationmap.store.NotFound` for an unknown or deleted station and
    :class:`AlreadyReported` for a second report by the same client on the same day (the unique
    key decides, inside the transaction, so racing requests cannot both count).
    """
    from .register import NotFound

    now = now or datetime.now(UTC)
    day = service_day(now)
    try:
        with store.engine.connect() as c:
            c.execution_options(**WRITE)
            with c.begin():
                station = c.execute(sa.select(stations.c.version, stations.c.adcode, stations.c.deleted)
                                    .where(stations.c.id == station_id)).first()
                if station is None or station.deleted:
                    raise NotFound(f"no station {station_id!r}")
                key = client_key(_day_key(c, day), address, agent)
                new_id = c.execute(reports.insert().values(
                    station_id=station_id, station_version=station.version, adcode=station.adcode or "",
                    kind=new.kind, amenity=new.amenity, note=new.note, contact=new.contact, client_key=key,
                    day=day, made_at=now, status="open", resolution="").returning(reports.c.id)).scalar_one()
                row = c.execute(sa.select(reports).where(reports.c.id == new_id)).mappings().one()
    except sa.exc.IntegrityError:
        raise AlreadyReported(station_id, day) from None
    return _report(row)


def tallies(store: Store, now: datetime, rules: Thresholds,
            station_ids: Iterable[str] | None = None) -> dict[str, Tally]:
    """Per station with recent reports: unresolved closure reports in the closure window, and
    confirmations (open or accepted) in the confirmation window with the newest one's time.
    """
    closed_since, confirm_since = windows(now, rules)
    recent = sa.or_(
        sa.and_(reports.c.kind == "closed", reports.c.status == "open", reports.c.made_at >= closed_since),
        sa.and_(reports.c.kind == "confirm_open", reports.c.status.in_(("open", "accepted")),
                reports.c.made_at >= confirm_since))
    query = (sa.select(reports.c.station_id, reports.c.kind, sa.func.count(), sa.func.max(reports.c.made_at))
             .where(recent).group_by(reports.c.station_id, reports.c.kind))
    if station_ids is not None:
        query = query.where(reports.c.station_id.in_(list(station_ids)))
    found: dict[str, dict[str, Any]] = {}
    with store.engine.connect() as c:
        for station_id, kind, count, newest in c.execute(query):
            entry = found.setdefault(station_id, {})
            if kind == "closed":
                entry["closed"] = int(count)
            else:
                entry["confirmed"], entry["last_confirmed"] = int(count), _utc(newest)
    return {station_id: Tally(**entry) for station_id, entry in found.items()}


def queue(store: Store, *, adcodes: Iterable[str] | None = None, status: str | None = "open",
          station_id: str | None = None, limit: int = 200) -> list[Report]:
    """Reports for staff, newest first: ``adcodes`` (``None``: every district) and ``status``
    (``None``: any).
    """
    query = sa.select(reports).order_by(reports.c.made_at.desc(), reports.c.id.desc()).limit(limit)
    if adcodes is not None:
        query = query.where(reports.c.adcode.in_(list(adcodes)))
    if status is not None:
        query = query.where(reports.c.status == status)
    if station_id is not None:
        query = query.where(reports.c.station_id == station_id)
    with store.engine.connect() as c:
        return [_report(r) for r in c.execute(query).mappings()]


def report(store: Store, report_id: int) -> Report:
    """One report; :class:`~stationmap.store.NotFound` if there is none."""
    from .register import NotFound

    with store.engine.connect() as c:
        row = c.execute(sa.select(reports).where(reports.c.id == report_id)).mappings().first()
    if row is None:
        raise NotFound(f"no report {report_id}")
    return _report(row)


#: What accepting a report of each kind changes on its station (the rest are accepted as
#: noted: staff change the station on its own form).
def accepted_edit(kind: str, now: datetime) -> dict[str, str]:
    """The station edit that accepting a ``kind`` report makes.

    >>> accepted_edit("closed", datetime(2026, 11, 25, 20, 0, tzinfo=UTC))
    {'status': 'temporarily_closed'}
    >>> accepted_edit("confirm_open", datetime(2026, 11, 25, 20, 0, tzinfo=UTC))
    {'last_verified': '2026-11-26'}
    """
    if kind == "closed":
        return {"status": "temporarily_closed"}
    if kind == "confirm_open":
        return {"last_verified": now.astimezone(TIMEZONE).date().isoformat()}
    return {}


def _district(store: Store, station_id: str) -> str | None:
    with store.engine.connect() as c:
        return c.execute(sa.select(stations.c.adcode).where(stations.c.id == station_id)).scalar()


def _mark(c: sa.Connection, report_id: int, status: str, who: str, now: datetime, how: str,
          merged_into: int | None = None) -> None:
    done = c.execute(reports.update().where(reports.c.id == report_id, reports.c.status == "open")
                     .values(status=status, resolved_by=who, resolved_at=now, resolution=how,
                             merged_into=merged_into))
    if done.rowcount != 1:
        raise ReportResolved(f"report {report_id} was resolved meanwhile")


def resolve(store: Store, report_id: int, decision: str, *, actor: Account, reason: str = "",
            merge_into: int | None = None) -> Report:
    """Accept, reject or merge an open report as ``actor``; returns it as resolved.

    ``actor`` must be allowed ``report.resolve`` in the report's district (and the station's,
    if it moved since): else :class:`~stationmap.permissions.Forbidden`, audited as refused,
    and nothing changes. Every decision is written to the audit with the report's change.

    ``accept``: the station gets :func:`accepted_edit` (the store's audited edit, as the staff
    member) and the report and every other open report of the same kind on that station are
    closed (the others as merged into it), all in one transaction: of two people accepting at
    once only one edits the station, and a failed edit leaves the report open. ``merge``: the
    report is a duplicate of ``merge_into`` (same station). ``reject``: nothing changes on the
    station (and the register version stays, so no worker re-reads anything).
    """
    if decision not in DECISIONS:
        raise InputError(f"unknown decision {decision!r}; use one of {', '.join(DECISIONS)}", field="decision")
    current = report(store, report_id)
    station_district = _district(store, current.station_id)
    try:
        authorise(actor, "report.resolve", before={"id": current.station_id, "adcode": current.adcode},
                  after={"id": current.station_id, "adcode": station_district or current.adcode})
    except Forbidden as refusal:
        audit.refused(store, actor, refusal, "report", report_id, reason=reason)
        raise
    if current.status != "open":
        raise ReportResolved(f"report {report_id} is {current.status} already")
    if decision == "merge":
        target = report(store, merge_into) if merge_into is not None else None
        if target is None or target.station_id != current.station_id or target.id == current.id:
            raise InputError("name another report on the same station", field="merge_into")
    now = datetime.now(UTC)
    fields = accepted_edit(current.kind, now) if decision == "accept" else None
    if fields:
        with store.guarded(actor, "report", report_id, reason) as (c, register_version, now):
            _close(c, current, decision, actor, reason, now, merge_into)
            why = f"report {report_id} ({current.kind}) accepted" + (f": {reason}" if reason else "")
            store._update_in(c, register_version, now, current.station_id, fields, expected_version=None,
                             actor=actor, reason=why)
    else:
        with store.engine.connect() as c:
            c.execution_options(**WRITE)
            with c.begin():
                _close(c, current, decision, actor, reason, now, merge_into)
    return report(store, report_id)


def _close(c: sa.Connection, current: Report, decision: str, actor: Account, reason: str, now: datetime,
           merge_into: int | None) -> None:
    """Mark the report, write the decision to the audit, and (on accept) merge its duplicates."""
    who, report_id = actor.who, current.id
    status = {"accept": "accepted", "reject": "rejected", "merge": "merged"}[decision]
    _mark(c, report_id, status, who, now, f"{decision}: {reason}".strip().rstrip(":"),
          merge_into if decision == "merge" else None)
    audit.write(c, actor, "report.resolve", "report", report_id, before={"status": "open"},
                after={"status": status, "station_id": current.station_id, "kind": current.kind,
                       "merged_into": merge_into if decision == "merge" else None},
                reason=reason, at=now)
    if decision == "accept":
        c.execute(reports.update().where(reports.c.station_id == current.station_id,
                                         reports.c.kind == current.kind, reports.c.status == "open")
                  .values(status="merged", merged_into=report_id, resolved_by=who, resolved_at=now,
                          resolution=f"merged with accepted report {report_id}"))
