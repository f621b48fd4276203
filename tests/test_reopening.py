"""A station "temporarily closed until D" reopens by itself on D, and says so until then.

The clock is fixed: the date in China is passed in, so the day the station reopens is tested
without waiting for it and without anyone editing the station.
"""

from __future__ import annotations

from datetime import date, datetime

from stationmap import live
from stationmap.accounts import Account
from stationmap.dataset import Dataset, LiveDataset
from stationmap.hours import TIMEZONE
from stationmap.records import nearest_records
from stationmap.store import Store

OP = Account.operator("tester")  # edits are made by someone: here the command line's operator


def _closed_station(store: Store) -> tuple[str, float, float]:
    first = Dataset.from_store(store).index
    station, lon, lat = str(first.ids[0]), float(first.lon[0]), float(first.lat[0])
    store.update(station, {"status": "temporarily_closed", "closed_until": "2030-06-01"}, expected_version=None,
                 actor=OP, reason="装修")
    return station, lon, lat


def _card(dataset: Dataset, station: str, lon: float, lat: float, lang: str) -> dict:
    from stationmap.filters import Filters

    found = dataset.index.nearest(lon, lat, k=3, filters=Filters(include_closed=True))
    cards = nearest_records(dataset.index, found, lon=lon, lat=lat, lang=lang,
                            when=datetime(2030, 5, 31, 12, tzinfo=TIMEZONE))
    return next(c for c in cards if c["id"] == station)


def test_a_station_closed_until_a_date_is_closed_before_it_and_its_card_says_when_it_reopens(store):
    station, lon, lat = _closed_station(store)
    before = Dataset.from_store(store, today=date(2030, 5, 31))
    assert before.next_reopening == date(2030, 6, 1)
    assert before.index.ids[before.index.nearest(lon, lat, k=1).positions[0]] != station   # not answered
    zh, en = _card(before, station, lon, lat, "zh"), _card(before, station, lon, lat, "en")
    assert zh["open_now"] is False and zh["reopens"] == en["reopens"] == "2030-06-01"
    assert zh["next_change_text"] == "暂停开放，2030-06-01 起恢复开放"
    assert en["next_change_text"] == "Temporarily closed; reopens on 2030-06-01"


def test_on_the_day_it_reopens_the_watcher_answers_it_as_open_without_anyone_editing_it(store):
    station, lon, lat = _closed_station(store)
    version = store.register_version()
    holder = LiveDataset(Dataset.from_store(store, today=date(2030, 5, 31)))
    assert not live.refresh(store, holder, today=date(2030, 5, 31))        # nothing new that day
    assert live.refresh(store, holder, today=date(2030, 6, 1))
    now = holder.current
    assert store.register_version() == version == now.register_version     # no edit was made
    assert now.next_reopening is None
    assert now.index.ids[now.index.nearest(lon, lat, k=1).positions[0]] == station
    assert now.index.stations.loc[now.index.position(station), "status"] == "open"
    assert not live.refresh(store, holder, today=date(2030, 6, 2))


def test_a_reopened_register_equals_one_read_whole_on_that_day(store):
    from geopandas.testing import assert_geodataframe_equal

    _closed_station(store)
    old = Dataset.from_store(store, today=date(2030, 5, 31))
    store.update(str(old.index.ids[5]), {"phone": "021-11112222"}, expected_version=None, actor=OP)
    assert_geodataframe_equal(old.updated(store, today=date(2030, 6, 1)).index.stations,
                              Dataset.from_store(store, today=date(2030, 6, 1)).index.stations)
