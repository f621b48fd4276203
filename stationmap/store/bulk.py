"""Many stations in one transaction: seeding a new store, applying an import, reverting one.

All or nothing: every row is written inside one transaction that also bumps the register version
once; a problem anywhere (a row that breaks the station rules, a database error) rolls back every
row before it, so a bad file leaves the store row-for-row as it was. Each import is recorded
(file name, SHA-256, counts, reason, who) and every station it touched gets a history entry that
names it, which is what :func:`revert_import` undoes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely
import sqlalchemy as sa

from ..accounts import Account
from ..errors import DataFileError, InputError
from ..permissions import authorise, authorise_role
from ..safetext import _SUSPECT, text_problem
from ..stations import COLUMNS, DEFAULTS, _check_row, _text, amenity_codes
from . import audit, bulk_write, records
from .schema import TEXT_COLUMNS, history, imports, register, stations

if TYPE_CHECKING:
    from .register import Store

MODES = ("upsert", "replace-area")


@dataclass(frozen=True)
class ImportResult:
    """What an applied import did: its number (for ``--revert``), the register version it made,
    and the counts (rows, added, changed, unchanged, removed, restored, needs_location).
    """

    import_id: int
    register_version: int
    counts: dict[str, int]


@dataclass
class _Incoming:
    """The frame's rows as columns, cleaned as the station rules read them: ``ids``, the sheet's
    row ``numbers``, and a list per field of :data:`records.TRACKED` (``location`` as
    ``[lon, lat]`` or ``None``).
    """

    ids: list[str]
    numbers: Sequence[int]
    columns: dict[str, list[Any]]

    def record(self, i: int) -> dict[str, Any]:
        """Row ``i`` as a record (what :func:`records.to_row` and :func:`records.diff` take)."""
        return {name: values[i] for name, values in self.columns.items()}


def _incoming(frame: pd.DataFrame, source: str) -> tuple[_Incoming, list[InputError]]:
    """The frame's rows as columns, checked by the station rules (rows numbered by the frame's
    ``row`` column when it has one, the sheet's own numbers, else from 1).

    Column by column, and each row's checks through :func:`_checked` (a national register is
    186,100 rows: per-cell pandas access and per-row rule checks cost minutes).
    """
    present = [c for c in TEXT_COLUMNS if c in frame.columns]
    ids = _texts(frame["id"])
    numbers = [int(v) for v in frame["row"].tolist()] if "row" in frame.columns else range(1, len(frame) + 1)
    base = records.blank()
    columns: dict[str, list[Any]] = {c: [base[c]] * len(frame) for c in TEXT_COLUMNS}
    for c in present:
        default = DEFAULTS.get(c, "")
        if c == "amenities" and not isinstance(frame[c].dtype, pd.StringDtype):
            values = [v if isinstance(v, str) else ";".join(amenity_codes(v)) for v in frame[c].tolist()]
            columns[c] = [(v.strip() if type(v) is str else _text(v)) or default for v in values]
        else:
            columns[c] = _texts(frame[c], default)
    columns["closed_until"] = [""] * len(frame)
    columns["location"] = _locations(frame)
    incoming = _Incoming(ids, numbers, columns)
    return incoming, _checked(incoming, source)


def _texts(column: pd.Series, default: str = "") -> list[str]:
    """A column's cells as the station rules read them (:func:`stationmap.stations._text`, then
    ``default`` for an empty one); a text column (pandas' string dtype) is stripped whole.
    """
    if isinstance(column.dtype, pd.StringDtype):
        values = column.str.strip().fillna("").tolist()
        return [v or default for v in values] if default else values
    return [(v.strip() if type(v) is str else _text(v)) or default for v in column.tolist()]


#: The fields :func:`_checked` remembers verdicts by: few distinct values in any register.
_CODED = ("type", "access", "amenities", "opening_hours", "adcode", "status", "last_verified")
#: What a column's texts are joined with so that one regex search clears the whole column: a
#: character the search does not look for (a tab is allowed text).
_JOIN = "\t"


def _checked(incoming: _Incoming, source: str) -> list[InputError]:
    """:func:`stationmap.stations._check_row` for every row, the same problems in the same order.

    Every rule of ``_check_row`` looks at one field. So a row that has its id and name, whose
    free texts hold no control character and whose coded fields each hold a value that passes
    on its own (nearly every row) has no problem at all. Free-text columns are cleared whole
    (one regex search over the joined column) and each distinct coded value is judged once;
    only the rows left over are checked, and those by their combination of coded values, judged
    once and replayed with the row's number.
    """
    columns = {c: incoming.ids if c == "id" else incoming.columns[c] for c in COLUMNS}
    special = {i for i, (sid, name) in enumerate(zip(incoming.ids, columns["name"], strict=True))
               if not (sid and name)}
    for c in COLUMNS:
        texts = columns[c]
        if c in _CODED:
            bad = {v for v in set(texts) if not _passes(c, v, source)}
            if bad:
                special.update(i for i, v in enumerate(texts) if v in bad)
        elif not (all(type(v) is str for v in texts) and _SUSPECT.search(_JOIN.join(texts)) is None):
            special.update(i for i, v in enumerate(texts)
                           if isinstance(v, str) and text_problem(v, multiline=c == "address"))
    problems: list[InputError] = []
    verdicts: dict[tuple[str, ...], list[tuple[str | None, str]]] = {}
    for i in sorted(special):
        row = {c: columns[c][i] for c in COLUMNS}
        number = incoming.numbers[i]
        if not (row["id"] and row["name"]) or any(isinstance(row[c], str) and text_problem(
                row[c], multiline=c == "address") for c in COLUMNS if c not in _CODED):
            problems.extend(_check_row(row, number, source))
            continue
        key = tuple(row[c] for c in _CODED)
        verdict = verdicts.get(key)
        if verdict is None:
            probe = dict.fromkeys(COLUMNS, "") | {"id": "x", "name": "x"} | dict(zip(_CODED, key, strict=True))
            verdict = verdicts[key] = [(p.field, p.reason) for p in _check_row(probe, 0, source)]
        problems.extend(InputError(reason, field=field, row=number, source=source) for field, reason in verdict)
    return problems


def _passes(field: str, value: Any, source: str) -> bool:
    """Whether ``value`` in ``field`` breaks none of the station rules (each looks at one field)."""
    probe = dict.fromkeys(COLUMNS, "") | {"id": "x", "name": "x", field: value}
    return not any(p.field == field for p in _check_row(probe, 0, source))


def _locations(frame: pd.DataFrame) -> list[list[float] | None]:
    """Each row's ``[lon, lat]``, or ``None`` where the row has no (or an empty) point."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return [None] * len(frame)
    geoms = np.asarray(frame.geometry.array, dtype=object)
    located = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    xy = shapely.get_coordinates(geoms[located]).round(9).tolist()
    out: list[list[float] | None] = [None] * len(frame)
    for position, pair in zip(np.flatnonzero(located).tolist(), xy, strict=True):
        out[position] = pair
    return out


def _carried(frame: pd.DataFrame, fields: Sequence[str] | None) -> tuple[str, ...]:
    """The tracked fields an import writes: those the file carries (``geometry`` = location)."""
    if fields is None:
        fields = [*frame.columns] + (["geometry"] if isinstance(frame, gpd.GeoDataFrame) else [])
    names = {"location" if f == "geometry" else f for f in fields}
    return tuple(f for f in records.TRACKED if f in names)


def _in_area(adcode: str, area: str) -> bool:
    """Whether a station's district code lies in ``area`` (a district, city or province code)."""
    prefix = area.rstrip("0") if area.endswith("00") else area
    if len(prefix) % 2:
        prefix += "0"
    return bool(adcode) and adcode.startswith(prefix)


def apply_import(store: Store, frame: pd.DataFrame, *, actor: Account, mode: str = "upsert",
                 adcode: str | None = None, reason: str = "", file_name: str = "", digest: str = "",
                 fields: Sequence[str] | None = None, seed_sample: bool | None = None,
                 expected: Mapping[str, int] | None = None) -> ImportResult:
    """Apply a table of stations to the register, all or nothing.

    ``frame`` is in the station schema (:data:`stationmap.stations.COLUMNS`, WGS-84 point
    geometry, ``None`` for a row that needs a location; optional ``opening_hours_text``).
    ``upsert`` adds new ids and changes existing ones; ``replace-area`` also removes (soft-deletes)
    the live stations of ``adcode`` that the frame does not hold. ``fields`` names the fields the
    file carries (``geometry`` for its coordinates; default: the frame's columns): an existing
    station keeps every other field, so a three-column sheet never blanks a phone number or
    removes a position. New stations get the defaults for what the file lacks. Raises
    :class:`~stationmap.errors.DataFileError` listing every bad row, changing nothing.

    ``expected`` maps station ids to the version the caller planned from (0: not a live station):
    if any has moved on, :class:`~stationmap.store.refusals.Conflict` is raised and nothing changes,
    so an import planned before an edit never silently overwrites that edit.

    ``actor`` must be allowed ``import.apply`` on every district a touched station is in or
    would be in (and, for ``replace-area``, on the area itself); otherwise nothing is written and
    :class:`~stationmap.permissions.Forbidden` is raised (and audited).
    """
    source = file_name or "import"
    _check_request(frame, mode, adcode, source)
    counts = dict.fromkeys(("rows", "added", "changed", "unchanged", "removed", "restored", "needs_location"), 0)
    counts["rows"] = len(frame)
    who = actor.who
    with store.guarded(actor, "import", file_name, reason) as (c, register_version, now):
        existing = {r["id"]: records.from_row(r) for r in c.execute(sa.select(stations)).mappings()}
        _check_expected(existing, expected or {})
        import_id = int(c.execute(imports.insert().values(
            file_name=file_name, sha256=digest, mode=mode, adcode=adcode or "", counts=counts, reason=reason,
            who=who, at=now, register_version=register_version).returning(imports.c.id)).scalar_one())
        incoming, problems = _incoming(frame, source)
        plan = _Plan(register_version, who, now, reason, import_id, counts)
        plan.take(incoming, existing, _carried(frame, fields), problems, source)
        if mode == "replace-area":
            plan.remove_rest(existing, str(adcode))
            plan.adcodes.add(str(adcode))
        authorise(actor, "import.apply", adcodes=plan.adcodes)
        if problems:
            problems.sort(key=lambda p: p.row or 0)
            raise DataFileError(source, problems)
        plan.write(c, incoming)
        c.execute(imports.update().where(imports.c.id == import_id).values(counts=counts))
        audit.write(c, actor, "import.apply", "import", import_id, after={"file_name": file_name, "mode": mode,
                    "adcode": adcode or "", "counts": counts, "sha256": digest}, reason=reason,
                    register_version=register_version, at=now)
        if seed_sample is not None:
            c.execute(register.update().values(is_sample=seed_sample))
    return ImportResult(import_id, register_version, counts)


def _check_request(frame: pd.DataFrame, mode: str, adcode: str | None, source: str) -> None:
    """Refuse an import that cannot mean anything before the store is touched (no version is spent on it)."""
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}", field="mode")
    if mode == "replace-area" and not adcode:
        raise InputError("replace-area needs --adcode: the area the file replaces", field="adcode")
    if "id" not in frame.columns:
        raise DataFileError(source, [InputError("required column 'id' is missing", field="id", source=source)])


@dataclass
class _Plan:
    """The writes one import makes, gathered row by row and sent together by :meth:`write`.

    Gathering first lets every bad row be reported before anything is written, and lets the
    rows go to the database in a few bulk statements rather than one per station. New
    stations (every row of an import into an empty register) stay columns of the incoming
    table, named by their positions, until they are written.
    """

    register_version: int
    who: str
    now: datetime
    reason: str
    import_id: int
    counts: dict[str, int]
    added: list[int] = field(default_factory=list)             # positions in the incoming columns
    updates: list[dict] = field(default_factory=list)
    entries: list[dict] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)          # id -> the row it was first on
    adcodes: set[str] = field(default_factory=set)             # every district touched, before and after

    def take(self, incoming: _Incoming, existing: Mapping[str, dict[str, Any]], carried: Sequence[str],
             problems: list[InputError], source: str) -> None:
        """Plan each incoming row as an addition or a change; a repeated id is a problem, not a second write."""
        for i, (station_id, number) in enumerate(zip(incoming.ids, incoming.numbers, strict=True)):
            if station_id in self.seen:
                problems.append(InputError(f"duplicate id {station_id!r} (first on row {self.seen[station_id]})",
                                           field="id", row=number, source=source))
                continue
            self.seen[station_id] = number
            old = existing.get(station_id)
            if old is None:
                self.added.append(i)
            else:
                self._change(station_id, old, {**old, **{f: incoming.columns[f][i] for f in carried}})
        locations, adcodes = incoming.columns["location"], incoming.columns["adcode"]
        self.counts["added"] += len(self.added)
        self.counts["needs_location"] += sum(locations[i] is None for i in self.added)
        self.adcodes.update(adcodes[i] for i in self.added)

    def remove_rest(self, existing: Mapping[str, dict[str, Any]], area: str) -> None:
        """Soft-delete the live stations of ``area`` the file does not hold (``replace-area``)."""
        for station_id, old in existing.items():
            if not old["deleted"] and station_id not in self.seen and _in_area(old["adcode"], area):
                self.updates.append({"key": station_id, "deleted": True, "version": old["version"] + 1,
                                     "changed_in": self.register_version})
                self._entry(station_id, old["version"] + 1, "deleted", {"deleted": [False, True]})
                self.adcodes.add(old["adcode"])
                self.counts["removed"] += 1

    def _change(self, station_id: str, old: dict[str, Any], record: dict[str, Any]) -> None:
        """Update (or restore, if deleted) a station whose merged record differs; count it unchanged if not."""
        self.counts["needs_location"] += record["location"] is None
        values = records.to_row(record) | {"changed_in": self.register_version, "deleted": False}
        changes = records.diff(old, record)
        if old["deleted"]:
            changes["deleted"] = [True, False]
        if not changes:
            self.counts["unchanged"] += 1
            return
        version = old["version"] + 1
        self.adcodes.update((old["adcode"], record["adcode"]))
        self.updates.append(values | {"key": station_id, "version": version})
        self._entry(station_id, version, "restored" if old["deleted"] else "updated", changes)
        self.counts["restored" if old["deleted"] else "changed"] += 1

    def _entry(self, station_id: str, version: int, action: str, changes: Mapping[str, Any]) -> None:
        self.entries.append({"station_id": station_id, "version": version, "register_version": self.register_version,
                             "who": self.who, "at": self.now, "action": action, "changes": dict(changes),
                             "reason": self.reason, "import_id": self.import_id})

    def write(self, c: sa.Connection, incoming: _Incoming) -> None:
        """Insert the new stations and their "created" entries, then the updates and their entries."""
        added = self.added
        picked = {name: [values[i] for i in added] for name, values in incoming.columns.items()}
        new = {name: picked[name] for name in (*TEXT_COLUMNS, "closed_until", "location")}
        ids = [incoming.ids[i] for i in added]
        # The server parses and indexes the stations while their "created" entries are made.
        pending = bulk_write.start_copy(c, stations, len(added), new | {
            "id": ids, "version": bulk_write.Same(1), "deleted": bulk_write.Same(False),
            "changed_in": bulk_write.Same(self.register_version)})
        try:
            created = _created(picked, len(added))
        finally:
            pending.wait()
        bulk_write.insert(c, history, len(added), {
            "station_id": ids, "version": bulk_write.Same(1),
            "register_version": bulk_write.Same(self.register_version), "who": bulk_write.Same(self.who),
            "at": bulk_write.Same(self.now), "action": bulk_write.Same("created"), "changes": created,
            "reason": bulk_write.Same(self.reason), "import_id": bulk_write.Same(self.import_id)})
        _write(c, self.updates, self.entries)


def _check_expected(existing: Mapping[str, dict[str, Any]], expected: Mapping[str, int]) -> None:
    from .register import Conflict

    for station_id, version in expected.items():
        old = existing.get(station_id)
        actual = 0 if old is None or old["deleted"] else int(old["version"])
        if actual != version:
            raise Conflict(station_id, version or None, actual or None)


def _created(columns: Mapping[str, list[Any]], count: int) -> bulk_write.Encoded:
    """The "created" history entry of each new station: ``records.diff({}, record)`` as JSON,
    ``{field: [null, value]}`` for every tracked field that is set.

    Built as text a column at a time (each distinct value encoded once) and joined per row: a
    national import makes 186,100 of them.
    """
    parts = [_fragments(name, columns[name]) for name in records.TRACKED] if count else []
    return bulk_write.Encoded("{" + ",".join(filter(None, row)) + "}" for row in zip(*parts, strict=True))


def _fragments(name: str, values: list[Any]) -> list[str]:
    """``"field":[null,value]`` for each set value of a column (``""`` for an unset one)."""
    key = orjson.dumps(name).decode()
    if name == "location":
        return ["" if v is None else f"{key}:[null,{orjson.dumps(v).decode()}]" for v in values]
    encoded = {v: f"{key}:[null,{orjson.dumps(v).decode()}]" if v else "" for v in set(values)}
    return [encoded[v] for v in values]


def _write(c: sa.Connection, updates: list[dict], entries: list[dict]) -> None:
    """Station updates (grouped by the columns they set, one ``executemany`` each) and history entries."""
    by_shape: dict[tuple[str, ...], list[dict]] = {}
    for values in updates:
        by_shape.setdefault(tuple(sorted(values)), []).append(values)
    for shape, group in by_shape.items():
        columns: dict[str, Any] = {k: sa.bindparam(k) for k in shape if k != "key"}
        bulk_write.execute_many(c, stations.update().where(stations.c.id == sa.bindparam("key")).values(**columns),
                                group)
    bulk_write.insert(c, history, len(entries), bulk_write.columns_of(entries))


def seed(store: Store, frame: pd.DataFrame, *, file_name: str, digest: str, who: str | None = None,
         reason: str = "", is_sample: bool = False) -> ImportResult:
    """Fill a new, empty store (``stationmap db init --from FILE``); refuses one that holds stations."""
    if store.count():
        raise InputError(f"{store.label} already holds {store.count()} stations; `db init` only seeds an "
                         "empty store (use `stationmap import` to change a register)", field="database")
    from .register import current_user

    actor = Account.operator(who or current_user())
    return apply_import(store, frame, mode="upsert", actor=actor, reason=reason or "initial register",
                        file_name=file_name, digest=digest, seed_sample=is_sample)


def revert_import(store: Store, import_id: int, *, actor: Account, reason: str = "") -> int:
    """Undo an import, all or nothing; returns the register version of the revert.

    Refused (:class:`~stationmap.store.refusals.Conflict`) when a station it touched has changed
    since: reverting would silently undo that later edit; and
    (:class:`~stationmap.permissions.Forbidden`) unless ``actor`` may ``import.revert`` on every
    district a touched station is in or returns to.
    """
    from .register import Conflict, NotFound

    who = actor.who
    with store.guarded(actor, "import", import_id, reason) as (c, register_version, now):
        authorise_role(actor, "import.revert")      # before whether the import exists is answered
        found = c.execute(sa.select(imports).where(imports.c.id == import_id)).mappings().first()
        if found is None:
            raise NotFound(f"no import {import_id}")
        if found["reverted"]:
            raise InputError(f"import {import_id} was already reverted (register version {found['reverted_in']})",
                             field="revert")
        done = c.execute(sa.select(history).where(history.c.import_id == import_id)).mappings().all()
        current = {r["id"]: records.from_row(r) for r in c.execute(
            sa.select(stations).where(stations.c.id.in_([d["station_id"] for d in done]))).mappings()}
        updates, entries = [], []
        touched = {current[d["station_id"]]["adcode"] for d in done}
        touched |= {d["changes"]["adcode"][0] or "" for d in done if "adcode" in d["changes"]}
        authorise(actor, "import.revert", adcodes=touched)       # before any other answer is given
        text = f"revert of import {import_id}" + (f": {reason}" if reason else "")
        for d in done:
            now_record = current[d["station_id"]]
            if now_record["version"] != d["version"]:
                raise Conflict(d["station_id"], d["version"], now_record["version"])
            changes = dict(d["changes"])
            values: dict[str, Any] = {"key": d["station_id"], "version": d["version"] + 1,
                                      "changed_in": register_version}
            if d["action"] == "created":
                values["deleted"], action, undone = True, "deleted", {"deleted": [False, True]}
            else:
                undone = {f: [new, old] for f, (old, new) in changes.items()}
                for field, (old, _new) in changes.items():
                    if field == "location":
                        values["location"] = None if old is None else tuple(old)
                    else:
                        values[field] = old
                action = "deleted" if values.get("deleted") else ("restored" if "deleted" in changes else "updated")
            updates.append(values)
            entries.append({"station_id": d["station_id"], "version": d["version"] + 1,
                            "register_version": register_version, "who": who, "at": now,
                            "action": action, "changes": undone, "reason": text, "import_id": None})
        _write(c, updates, entries)
        c.execute(imports.update().where(imports.c.id == import_id).values(reverted=True,
                                                                           reverted_in=register_version))
        audit.write(c, actor, "import.revert", "import", import_id, before={"reverted": False},
                    after={"reverted": True, "stations": len(done)}, reason=reason,
                    register_version=register_version, at=now)
    return register_version
