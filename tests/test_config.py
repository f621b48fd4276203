"""Settings are checked when the app is created: a bad one stops it, naming the setting."""

import os
import subprocess
import sys

import pytest

from stationmap.errors import DataFileError, InputError
from stationmap.web import create_app
from stationmap.web.config import Defaults, check


def _defaults(**changes):
    return {**{name: getattr(Defaults, name) for name in dir(Defaults) if name.isupper()}, **changes}


@pytest.mark.parametrize("setting, value", [
    ("TILES", "google"), ("TILES", ""), ("DEFAULT_LANG", "fr"), ("DEFAULT_LANG", None),
    ("DISTRICTS_ADCODE", "31010"), ("DISTRICTS_ADCODE", "shanghai"), ("DISTRICTS_ADCODE", True),
    ("COVERAGE_MAX_CELLS", 0), ("COVERAGE_MAX_CELLS", -5), ("COVERAGE_MAX_CELLS", "many"), ("COVERAGE_MAX_CELLS", 2.5),
    ("COVERAGE_CACHE_SIZE", 0), ("COVERAGE_CACHE_SIZE", True), ("IMAGE_MAX_WIDTH", 0), ("IMAGE_MAX_WIDTH", 7000),
    ("TIANDITU_KEY", 123), ("EMBED_ORIGINS", ["news.example.cn"]), ("STATIONS_PATH", 42),
])
def test_a_bad_setting_is_refused_naming_it(setting, value):
    with pytest.raises(InputError) as caught:
        check(_defaults(**{setting: value}))
    assert caught.value.field == setting
    with pytest.raises(InputError) as caught:
        create_app({setting: value})
    assert caught.value.field == setting


def test_several_bad_settings_are_named_together():
    with pytest.raises(DataFileError) as caught:
        check(_defaults(TILES="google", DEFAULT_LANG="fr"))
    assert [p.field for p in caught.value.problems] == ["DEFAULT_LANG", "TILES"]


def test_good_settings_are_normalised():
    settings = _defaults(DISTRICTS_ADCODE=310100, COVERAGE_CACHE_SIZE="4", EMBED_ORIGINS="https://a.example.cn/",
                         TIANDITU_KEY=None)
    check(settings)
    assert settings["DISTRICTS_ADCODE"] == "310100" and settings["COVERAGE_CACHE_SIZE"] == 4
    assert settings["EMBED_ORIGINS"] == ["https://a.example.cn"] and settings["TIANDITU_KEY"] == ""
    for tiles in ("osm", "amap", "tianditu", "none"):
        check(_defaults(TILES=tiles))          # tianditu without a key is allowed: the pages fall back to outlines


def test_serve_with_a_bad_setting_exits_2_with_one_message_and_no_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATIONMAP_")}
    env.update(STATIONMAP_TILES="google", STATIONMAP_INSTANCE_PATH=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "stationmap", "serve", "--port", "8999"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "TILES" in result.stderr and "google" in result.stderr and "Traceback" not in result.stderr
