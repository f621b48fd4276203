"""A server reads the register version and the stations it labels with it as one snapshot: a
commit landing between the two statements is in both or in neither, on both backends.

The race is made deterministic: a hook on the reading store's engine (SQLAlchemy's
``after_cursor_execute``) commits an edit through a second store on the same database right after
the statement that reads the register version, before the stations are read. On PostgreSQL under
READ COMMITTED each statement sees its own snapshot, so without one snapshot for the pair the
edited row came back labelled with the older version (the first four tests failed there); and on
both backends a dataset took its date from a read of its own, so version *n* was dated by the
commit of *n + 1* (the two ``dated`` checks failed on both).

The register as of an earlier version took its sample flag (and, when no station change dates
the version, its date) from a read of its own after the snapshot. Those two differ from the
snapshot's only when a commit in between seeds the sample into a store that has never held a
station, so the version asked for held no station (when these tests were written a dataset of no
station could not be built, so through :meth:`Dataset.as_of` the wrong label could not be seen;
tests/test_empty_register.py builds one now). The last two tests show it where it is read
(:func:`as_of` returns the snapshot's :class:`RegisterInfo`; read apart, it said "sample", dated by
the seed) and guard the dataset by the one transaction it must read in (the old code began two on
both backends and failed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import pandas as pd
from sqlalchemy import event

from stationmap.accounts import Account
from stationmap.dataset import Dataset
from stationmap.stations import read_stations
from stationmap.store import Store
from stationmap.store.feed import changed_since
from stationmap.store.past import as_of

OP = Account.operator("tester")
NEW_NAME = "快照之后改名站"


@contextmanager
def _commit_after_version_read(store: Store, url: str, edit: Callable[[Store], None]) -> Iterator[list[int]]:
    """While inside, the first statement ``store`` runs that reads the ``register`` table is
    followed at once by ``edit`` committed through a second store; yields a list that then holds
    the register version that commit made.
    """
    other = Store.open(url)
    made: list[int] = []

    def after(_conn, _cursor, statement: str, *_args) -> None:
        if not made and statement.lstrip().upper().startswith("SELECT") and "FROM register" in statement:
            edit(other)
            made.append(other.register_version())

    event.listen(store.engine, "after_cursor_execute", after)
    try:
        yield made
    finally:
        event.remove(store.engine, "after_cursor_execute", after)
        other.close()


def _rename(station_id: str) -> Callable[[Store], None]:
    def rename(other: Store) -> None:
        other.update(station_id, {"name": NEW_NAME}, expected_version=None, actor=OP)

    return rename


def _some_station(store: Store) -> str:
    return str(store.load()[0]["id"].iloc[0])


def _committed_at(store: Store, version: int) -> datetime:
    """When register ``version`` was committed (its station changes are recorded at that time)."""
    return store.changes(version - 1, limit=1)[0].at


def test_changed_rows_never_carry_a_commit_made_after_their_version_was_read(store, store_url):
    since, station_id = store.register_version(), _some_station(store)
    with _commit_after_version_read(store, store_url, _rename(station_id)) as made:
        rows, version = store.changed_rows(since)
    assert made == [since + 1]                                   # the commit did land in between
    assert all(changed_in <= version for changed_in in rows.values["changed_in"]), (version, rows.values)
    assert (station_id in rows.values["id"]) == (version >= made[0])
    # Nothing is lost: asking again from the version answered brings the edit.
    rows, version = store.changed_rows(version)
    assert version == made[0] and station_id in rows.values["id"]
    assert rows.values["name"][rows.values["id"].index(station_id)] == NEW_NAME


def test_a_full_load_never_holds_a_commit_made_after_its_version_was_read(store, store_url):
    before, station_id = store.register_version(), _some_station(store)
    with _commit_after_version_read(store, store_url, _rename(station_id)) as made:
        frame, version = store.load(with_fid=True)
    assert made == [before + 1]
    assert int(frame["changed_in"].max()) <= version
    name = frame.loc[frame["id"] == station_id, "name"].item()
    assert (name == NEW_NAME) == (version >= made[0])


def test_a_deletion_committed_between_the_two_reads_is_in_both_or_neither(store, store_url):
    before, station_id = store.register_version(), _some_station(store)

    def delete(other: Store) -> None:
        other.delete(station_id, expected_version=None, actor=OP)

    with _commit_after_version_read(store, store_url, delete) as made:
        frame, version = store.load()
    assert made == [before + 1]
    assert (station_id in set(frame["id"])) == (version < made[0])


def test_a_server_dataset_brought_up_to_date_is_the_register_as_of_its_version(store, store_url):
    current = Dataset.from_store(store)
    first, second = (str(i) for i in current.index.ids[:2])
    store.update(first, {"name": "先改的站"}, expected_version=None, actor=OP)      # committed before the read
    with _commit_after_version_read(store, store_url, _rename(second)) as made:
        new = current.updated(store)
    assert made == [current.register_version + 2]
    assert new.register_version in (made[0] - 1, made[0])
    then = as_of(store, new.register_version).frame
    assert new.index.stations["id"].tolist() == then["id"].tolist()
    assert new.index.stations["name"].tolist() == then["name"].tolist()
    assert new.modified == _committed_at(store, new.register_version)       # dated by the same snapshot


def test_a_dataset_read_whole_is_dated_by_the_commit_of_its_version(store, store_url):
    station_id = _some_station(store)
    with _commit_after_version_read(store, store_url, _rename(station_id)) as made:
        data = Dataset.from_store(store)
    assert made
    assert data.modified == _committed_at(store, data.register_version)
    name = data.index.stations.loc[data.index.stations["id"] == station_id, "name"].item()
    assert (name == NEW_NAME) == (data.register_version >= made[0])


def test_the_changes_feed_answers_up_to_the_version_it_read(store, store_url):
    since, station_id = store.register_version(), _some_station(store)
    with _commit_after_version_read(store, store_url, _rename(station_id)) as made:
        page = changed_since(store, since)
    assert made == [since + 1]
    assert all(change["register_version"] <= page.register_version for change in page.changes)
    assert (station_id in {c["id"] for c in page.changes}) == (page.register_version >= made[0])


def test_the_register_as_of_a_version_is_read_in_one_snapshot(store, store_url):
    newest, station_id = store.register_version(), _some_station(store)
    old_name = store.get(station_id)["name"]
    with _commit_after_version_read(store, store_url, _rename(station_id)) as made:
        past = as_of(store, newest)
    assert made == [newest + 1]
    assert past.newest == newest              # read before the commit, and the rest read as of then
    assert past.frame.loc[past.frame["id"] == station_id, "name"].item() == old_name


def test_the_register_as_of_a_version_is_labelled_by_the_snapshot_it_was_read_in(store_url):
    store = Store.open(store_url, upgrade=True)
    try:
        store.apply_import(pd.DataFrame({"id": pd.Series([], dtype=object)}), actor=OP, file_name="empty.csv")
        first = store.info()              # version 1 changed no station: no history entry dates it

        def seed_the_sample(other: Store) -> None:
            other.seed(read_stations(), file_name="shanghai_stations.geojson", digest="", is_sample=True)

        with _commit_after_version_read(store, store_url, seed_the_sample) as made:
            past = as_of(store, 1)
        assert made == [2]
        assert past.at is None and past.newest == 1
        assert past.info == first         # not the sample, dated by the commit of version 1
        later = store.info()              # what a read of its own after the snapshot says
        assert (later.version, later.is_sample) == (2, True) and later.changed != first.changed
    finally:
        store.close()


def test_a_dataset_as_of_a_version_reads_its_stations_and_label_in_one_transaction(store, store_url):
    first, second = (str(i) for i in store.load()[0]["id"].iloc[:2])
    store.update(first, {"name": "先改的站"}, expected_version=None, actor=OP)
    version = store.register_version()
    began: list[object] = []

    def begin(conn) -> None:
        began.append(conn)

    event.listen(store.engine, "begin", begin)
    try:
        with _commit_after_version_read(store, store_url, _rename(second)) as made:
            data = Dataset.as_of(store, version)
    finally:
        event.remove(store.engine, "begin", begin)
    assert made == [version + 1]
    assert len(began) == 1                # the stations, the version, the date and the sample flag
    assert data.register_version == version and data.sample is False
    assert data.modified == _committed_at(store, version)
    then = as_of(store, version).frame
    assert data.index.stations["name"].tolist() == then["name"].tolist()
    assert NEW_NAME not in set(data.index.stations["name"])
