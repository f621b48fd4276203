"""The app factory: settings from defaults, the instance file and the environment."""

import subprocess
import sys

from stationmap.web import create_app


def _setting(tmp_path, env, name):
    code = f"from stationmap.web import create_app; print(create_app().config[{name!r}])"
    result = subprocess.run([sys.executable, "-c", code], env={**env, "STATIONMAP_INSTANCE_PATH": str(tmp_path)},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_settings_come_from_defaults_then_instance_file_then_environment(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("STATIONMAP_")}
    assert _setting(tmp_path, env, "TILES") == "osm"
    (tmp_path / "stationmap.cfg").write_text('TILES = "amap"\nEMBED_ORIGINS = ["https://news.example.cn"]\n')
    assert _setting(tmp_path, env, "TILES") == "amap"
    assert _setting(tmp_path, env, "EMBED_ORIGINS") == "['https://news.example.cn']"
    assert _setting(tmp_path, {**env, "STATIONMAP_TILES": "none"}, "TILES") == "none"
    assert _setting(tmp_path, {**env, "STATIONMAP_EMBED_ORIGINS": '["https://a.example", "https://b.example"]'},
                    "EMBED_ORIGINS") == "['https://a.example', 'https://b.example']"


def test_mapping_passed_to_create_app_wins_and_the_page_follows_tiles():
    app = create_app({"TILES": "amap", "DEFAULT_LANG": "en"})
    page = app.test_client().get("/").get_data(as_text=True)
    assert '"coordsys": "gcj02"' in page and "autonavi" in page and 'lang="en"' in page


def test_tianditu_without_a_key_falls_back_to_no_tiles():
    page = create_app({"TILES": "tianditu"}).test_client().get("/").get_data(as_text=True)
    assert '"name": "none"' in page and "tianditu.gov.cn" not in page
    page = create_app({"TILES": "tianditu", "TIANDITU_KEY": "k123"}).test_client().get("/").get_data(as_text=True)
    assert "tianditu.gov.cn" in page and "tk=k123" in page


def test_a_swapped_register_is_served_by_the_next_request_and_never_to_half_of_one(tmp_path):
    from stationmap.dataset import Dataset, LiveDataset
    from stationmap.web import EXTENSION, current_dataset

    app = create_app({"TESTING": True})
    live = app.extensions[EXTENSION]
    assert isinstance(live, LiveDataset)
    client = app.test_client()
    before = client.get("/api/v1/meta").json["dataset"]["version"]
    smaller = tmp_path / "stations.csv"
    smaller.write_text("id,name,lon,lat\n" + "".join(f"T{i},驿站{i},121.4{i},31.2{i}\n" for i in range(10)),
                       encoding="utf-8")
    with app.test_request_context("/"):
        pinned = current_dataset()
        old = live.swap(Dataset.load(smaller))
        assert current_dataset() is pinned is old            # this request keeps what it started with
    assert client.get("/healthz").json["stations"] == 10      # the next one sees the new register
    assert client.get("/api/v1/meta").json["dataset"]["version"] != before


def test_only_a_dataset_can_be_swapped_in():
    import pytest

    from stationmap.web import EXTENSION

    live = create_app({"TESTING": True}).extensions[EXTENSION]
    with pytest.raises(TypeError):
        live.swap("stations.csv")
