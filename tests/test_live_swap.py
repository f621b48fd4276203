"""The swap itself, in process: whole datasets, one per request, none kept after the swap."""

from __future__ import annotations

import gc
import weakref

import pytest

from stationmap import live
from stationmap.accounts import Account
from stationmap.dataset import Dataset, LiveDataset
from stationmap.stations import read_stations
from stationmap.store import Store

OP = Account.operator("tester")


@pytest.fixture
def store(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'register.gpkg'}", upgrade=True)
    store.seed(read_stations(), file_name="shanghai_stations.geojson", digest="", is_sample=True)
    yield store
    store.close()


def test_a_dataset_from_the_store_names_its_register_version_and_says_synthetic(store):
    data = Dataset.from_store(store)
    assert data.version == "r00000000001" and data.register_version == 1 and data.count == 1446
    assert data.is_sample and "合成示例数据" in data.caption("zh") and "register.gpkg" in data.caption("zh")
    assert "synthetic sample" in data.caption("en") and "version r00000000001" in data.caption("en")


def test_a_refresh_swaps_only_after_a_change_and_old_datasets_are_freed(store):
    holder = LiveDataset(Dataset.from_store(store))
    assert not live.refresh(store, holder)
    for round_ in range(1, 4):
        old = weakref.ref(holder.current)
        old_index = weakref.ref(holder.current.index)
        store.update("SH-310101-0010", {"phone": f"021-{round_:08d}"}, expected_version=round_, reason="test", actor=OP)
        assert live.refresh(store, holder)
        gc.collect()
        assert old() is None and old_index() is None          # nothing keeps a replaced index alive
        assert holder.current.register_version == round_ + 1
        position = holder.current.index.position("SH-310101-0010")
        assert holder.current.index.stations.loc[position, "phone"] == f"021-{round_:08d}"


def test_a_request_answers_from_one_dataset_even_if_a_swap_happens_during_it(tmp_path, store):
    from stationmap.web import EXTENSION, create_app
    from stationmap.web import current_dataset as dataset

    app = create_app({"TESTING": True, "DATABASE_URL": str(store.engine.url)})
    holder = app.extensions[EXTENSION]
    with app.test_request_context("/"):
        first = dataset()
        store.delete("SH-310101-0010", expected_version=1, reason="test", actor=OP)
        live.refresh(store, holder)
        assert holder.current is not first and dataset() is first        # the request keeps its version
    with app.test_request_context("/"):
        assert dataset() is holder.current and dataset().register_version == 2
        assert dataset().index.position("SH-310101-0010") is None


def test_the_file_mode_stays_read_only_and_is_never_watched(tmp_path):
    from stationmap.web import EXTENSION, create_app

    path = tmp_path / "mine.geojson"
    from stationmap.stations import write_stations

    write_stations(read_stations().head(10), path)
    app = create_app({"TESTING": True, "STATIONS_PATH": str(path)})
    data = app.extensions[EXTENSION].current
    assert data.register_version is None and data.count == 10 and len(data.version) == 12 and not data.is_sample


def test_commands_find_the_same_instance_folder_as_the_app(monkeypatch):
    from flask import Flask

    from stationmap.store.settings import instance_path

    monkeypatch.delenv("STATIONMAP_INSTANCE_PATH", raising=False)
    assert instance_path() == __import__("pathlib").Path(Flask("stationmap").instance_path)


def test_a_watcher_that_keeps_failing_backs_off_instead_of_logging_every_interval(monkeypatch):
    """A register that cannot be read (bad data, a database away) is retried ever more slowly,
    not logged with a traceback every second."""
    import threading
    import time
    import weakref

    from stationmap import live as live_module
    from stationmap.dataset import Dataset, LiveDataset

    calls = []
    real_refresh = live_module.refresh

    class FakeStore:
        backend, label = "sqlite", "fake.gpkg"

    def failing(store, live):
        if not isinstance(store, FakeStore):      # another test's watcher, still winding down
            return real_refresh(store, live)
        calls.append(time.monotonic())
        raise RuntimeError("the register cannot be read")

    monkeypatch.setattr(live_module, "refresh", failing)
    holder = LiveDataset(Dataset.load())
    thread = threading.Thread(target=live_module._watch, args=(FakeStore(), weakref.ref(holder), 0.01), daemon=True)
    thread.start()
    time.sleep(1.0)
    # Without backing off: about 100 tries in a second; with it: 0.02 + 0.04 + … s between tries.
    assert 1 <= len(calls) <= 8, len(calls)
    del holder
