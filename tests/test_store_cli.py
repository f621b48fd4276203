"""``stationmap db`` and ``stationmap station``, run as a user runs them (a real process)."""

from __future__ import annotations

import getpass
import json
import subprocess
import sys

import pytest

from stationmap.store import Store

STATION = "SH-310101-0010"


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    environment = {k: v for k, v in os.environ.items() if not k.startswith("STATIONMAP_")} | (env or {})
    return subprocess.run([sys.executable, "-m", "stationmap", *args], capture_output=True, text=True,
                          timeout=180, env=environment)


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """A GeoPackage register made by `db upgrade` and `db init --from` the shipped sample."""
    url = f"sqlite:///{tmp_path_factory.mktemp('register') / 'register.gpkg'}"
    upgraded = run("db", "upgrade", "--database", url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "register version 0" in upgraded.stdout
    seeded = run("db", "init", "--from", "data/shanghai_stations.geojson", "--database", url)
    assert seeded.returncode == 0, seeded.stderr
    assert "1446 stations" in seeded.stdout
    return url


def test_init_refuses_a_store_that_already_holds_stations(database):
    result = run("db", "init", "--from", "data/shanghai_stations.geojson", "--database", database)
    assert result.returncode == 2 and "already holds 1446 stations" in result.stderr


def test_set_close_and_history_record_who_what_and_why(database):
    changed = run("station", "set", STATION, "phone=021-88888888", "amenities=microwave,toilet",
                  "--reason", "电话更新", "--database", database)
    assert changed.returncode == 0, changed.stderr
    assert run("station", "close", STATION, "--until", "2026-12-31", "--reason", "装修",
               "--database", database).returncode == 0
    table = run("station", "history", STATION, "--database", database)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:4] == ["版本", "时间（UTC）", "操作者", "操作"]
    assert "电话更新" in lines[2] and "phone: 021-67876271 → 021-88888888" in lines[2] and "修改" in lines[2]
    assert "status: open → temporarily_closed" in lines[3] and "装修" in lines[3]
    english = run("station", "history", STATION, "--lang", "en", "--database", database).stdout
    assert english.splitlines()[0].split()[:2] == ["Version", "When"] and "updated" in english
    history = json.loads(run("station", "history", STATION, "--json", "--database", database).stdout)["history"]
    assert [h["action"] for h in history][-2:] == ["updated", "updated"]
    assert history[-2]["who"] == f"cli:{getpass.getuser()}"
    assert history[-1]["changes"]["closed_until"] == ["", "2026-12-31"]
    store = Store.open(database)
    try:
        record = store.get(STATION)
    finally:
        store.close()
    assert record["status"] == "temporarily_closed" and record["amenities"] == "microwave;toilet"


@pytest.mark.parametrize(("args", "field"), [
    (["set", STATION, "type=castle", "--reason", "x"], "'type'"),
    (["set", STATION, "lat=95", "--reason", "x"], "'lat'"),
    (["set", STATION, "colour=red", "--reason", "x"], "'colour'"),
    (["set", STATION, "phone", "--reason", "x"], "'phone'"),
    (["set", STATION, "phone=1", "--reason", "x", "--version", "1"], "not 1: it was changed meanwhile"),
    (["close", STATION, "--until", "soon", "--reason", "x"], "'until'"),
    (["set", "NO-SUCH-STATION", "phone=1", "--reason", "x"], "no station 'NO-SUCH-STATION'"),
])
def test_a_bad_edit_exits_2_naming_the_field_and_changes_nothing(database, args, field):
    store = Store.open(database)
    before = store.register_version()
    result = run("station", *args, "--database", database)
    after = store.register_version()
    store.close()
    assert result.returncode == 2 and field in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3 and after == before


def test_a_missing_store_is_named_not_created(tmp_path):
    missing = tmp_path / "none.gpkg"
    result = run("station", "history", STATION, "--database", f"sqlite:///{missing}")
    assert result.returncode == 2 and "stationmap db upgrade" in result.stderr and not missing.exists()


def test_the_default_store_is_seeded_from_the_shipped_sample_in_the_instance_folder(tmp_path):
    result = run("station", "history", STATION, "--json", env={"STATIONMAP_INSTANCE_PATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "register.gpkg").is_file()
    assert json.loads(result.stdout)["history"][0]["reason"] == "the shipped synthetic sample"


@pytest.mark.parametrize("url", ["foo://bar", "not-a-url", "postgresql://nobody:secret@127.0.0.1:1/x",
                                 "sqlite:////proc/no/such/dir/x.gpkg"])
def test_a_store_that_cannot_be_opened_is_one_message_and_exit_2_not_a_traceback(url):
    for args in (["db", "upgrade", "--database", url], ["station", "history", "X", "--database", url]):
        result = subprocess.run([sys.executable, "-m", "stationmap", *args], capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.startswith("stationmap: error:") and "secret" not in result.stderr



def test_an_embedded_register_made_by_an_older_stationmap_is_migrated_with_its_edits_kept(tmp_path):
    """Someone upgrades the package and runs it again: the default register in the instance folder
    (the app's own file) is brought to the new schema as it is opened, and its edits are kept. A
    configured database still waits for ``stationmap db upgrade`` (test_store)."""
    from alembic import command

    from stationmap.accounts import Account
    from stationmap.store import migrate
    from stationmap.store.settings import ensure_default

    url = f"sqlite:///{ensure_default(tmp_path)}"
    store = Store.open(url)
    store.update(STATION, {"name": "改过的站名"}, expected_version=None, actor=Account.operator("ann"))
    with store.engine.connect() as connection:        # back to the first release's schema
        with connection.begin():
            command.downgrade(migrate._config(connection), "0001")
    store.close()

    result = run("station", "history", STATION, "--json", env={"STATIONMAP_INSTANCE_PATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["history"][-1]["changes"]["name"][1] == "改过的站名"
    store = Store.open(url)                               # at the newest schema again: no SchemaError
    try:
        assert migrate.current(store.engine) == migrate.head()
    finally:
        store.close()
