"""The register as of an earlier version (stationmap.store.past), on both backends, against a
brute-force reference: the register built edit by edit, its stations read after every commit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stationmap.accounts import Account
from stationmap.dataset import Dataset
from stationmap.errors import InputError
from stationmap.stations import COLUMNS, from_frame
from stationmap.store import Store
from stationmap.store.past import as_of

OP = Account.operator("tester")
COMPARED = [*COLUMNS, "closed_until", "version", "changed_in", "fid"]


def _frame(ids, **overrides) -> pd.DataFrame:
    n = len(ids)
    frame = pd.DataFrame({"id": ids, "name": [f"驿站{i}" for i in ids], "lon": [121.40 + i / 97 for i in range(n)],
                          "lat": [31.20 + i / 211 for i in range(n)], "adcode": ["310101"] * n,
                          "opening_hours": ["24/7"] * n, "amenities": ["drinking_water;toilet"] * n})
    for column, values in overrides.items():
        frame[column] = values
    return from_frame(frame)


def _history_of_edits(store: Store) -> dict[int, pd.DataFrame]:
    """Edit a register every way the store allows; the stations after each commit, by register version."""
    seen: dict[int, pd.DataFrame] = {}

    def snap() -> None:
        frame, version = store.load(with_fid=True)
        assert version not in seen
        seen[version] = frame

    store.seed(_frame([f"T-{i}" for i in range(7)]), file_name="seed.csv", digest="0" * 64, who="tester")
    snap()
    edits = [
        lambda: store.update("T-0", {"lon": 121.5, "lat": 31.3}, expected_version=None, actor=OP),       # move
        lambda: store.update("T-1", {"name": "新名字"}, expected_version=None, actor=OP),                 # rename
        lambda: store.update("T-2", {"opening_hours": "Mo-Fr 09:00-17:00"}, expected_version=None, actor=OP),
        lambda: store.update("T-3", {"type": "driver_home", "amenities": "shower;microwave"},
                             expected_version=None, actor=OP),
        lambda: store.delete("T-4", expected_version=None, actor=OP),
        lambda: store.create("T-new", {"name": "新站", "lon": 121.45, "lat": 31.25}, actor=OP),
        lambda: store.restore("T-4", expected_version=None, actor=OP),
        lambda: store.update("T-0", {"lon": 121.51, "lat": 31.31, "phone": "021-1"}, expected_version=None,
                             actor=OP),                                                               # moved again
        lambda: store.update("T-5", {"status": "temporarily_closed", "closed_until": "2099-01-01"},
                             expected_version=None, actor=OP),
        lambda: store.update("T-6", {"lon": "", "lat": ""}, expected_version=None, actor=OP),            # unlocated
        lambda: store.undo_change("T-1", 2, expected_version=None, actor=OP),                           # an undo
        lambda: store.delete("T-new", expected_version=None, actor=OP),
        lambda: store.create("T-new", {"name": "又开了", "lon": 121.46, "lat": 31.26}, actor=OP),           # re-created
        lambda: store.update("T-6", {"lon": 121.6, "lat": 31.1}, expected_version=None, actor=OP),       # located again
    ]
    for edit in edits:
        edit()
        snap()
    imported = store.apply_import(_frame(["T-2", "T-3", "I-1", "I-2"], name=["改二", "改三", "导入一", "导入二"],
                                         lon=[121.41, 121.7, 121.42, 121.43]), actor=OP, file_name="import.csv")
    snap()
    store.update("I-1", {"name": "导入后改名"}, expected_version=None, actor=OP)
    snap()
    area = store.apply_import(_frame(["T-0", "T-5"], adcode=["310101", "310104"]), actor=OP, mode="replace-area",
                              adcode="310101", file_name="area.csv")          # deletes the rest
    snap()
    store.revert_import(area.import_id, actor=OP)                                                  # all back
    snap()
    store.delete("I-2", expected_version=None, actor=OP)
    snap()
    assert imported.import_id
    return seen


@pytest.fixture
def edited(store_url):
    store = Store.open(store_url, upgrade=True)
    seen = _history_of_edits(store)
    yield store, seen
    store.close()


def _assert_same(got: pd.DataFrame, want: pd.DataFrame, version: int) -> None:
    assert got["id"].tolist() == want["id"].tolist(), version
    pd.testing.assert_frame_equal(got[COMPARED].reset_index(drop=True), want[COMPARED].reset_index(drop=True),
                                  obj=f"version {version}")
    # History keeps an earlier position to 1e-9 degrees (0.1 mm): see stationmap.store.past.
    np.testing.assert_allclose(got.geometry.x, want.geometry.x, rtol=0, atol=1e-9)
    np.testing.assert_allclose(got.geometry.y, want.geometry.y, rtol=0, atol=1e-9)
    assert got.crs == want.crs


def test_the_register_as_of_every_version_is_the_register_that_was_read_then(edited):
    store, seen = edited
    newest = store.register_version()
    assert sorted(seen) == list(range(1, newest + 1))
    for version, want in seen.items():
        past = as_of(store, version)
        assert (past.version, past.newest) == (version, newest)
        _assert_same(past.frame, want, version)


def test_a_newer_register_in_memory_gives_the_same_past_reading_only_what_changed(edited):
    store, seen = edited
    for base_version in (len(seen) // 2, len(seen)):
        base = seen[base_version]
        for version in range(1, len(seen) + 1):
            got = as_of(store, version, base=base, base_version=base_version).frame
            _assert_same(got, seen[version], version)


def test_a_version_that_is_not_the_register_s_is_refused_naming_the_field_in_chinese_and_english(edited):
    store, seen = edited
    for version in (0, -3, len(seen) + 1, 10**9):
        with pytest.raises(InputError) as refused:
            as_of(store, version, field="b_version")
        assert refused.value.field == "b_version"
        reason = refused.value.reason
        assert f"{version} is not a version of this register" in reason and f"登记册没有第 {version} 版" in reason
        assert (f"1 至第 {len(seen)} 版" in reason) if version > 0 else ("从第 1 版起" in reason)


def test_a_past_dataset_is_indexed_with_its_version_and_answers_from_its_stations(edited):
    store, seen = edited
    current = Dataset.from_store(store)
    past = Dataset.as_of(store, 6, current=current)
    assert past.register_version == 6 and past.version == "r00000000006"
    assert past.index.stations["id"].tolist() == seen[6]["id"].tolist()
    assert "T-new" not in past.index.stations["id"].tolist()        # created at version 7
    assert current.register_version == len(seen)
