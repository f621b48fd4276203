"""Map pictures for articles: the asked width, real content, Chinese that renders, a true scale bar.

A "Glyph … missing" warning (a character drawn as an empty box) fails every test here
(``filterwarnings`` in pyproject.toml).
"""

import io
import math
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pyproj import Geod

from stationmap.dataset import Dataset
from stationmap.districts import load_districts
from stationmap.errors import InputError
from stationmap.maps.fonts import check_glyphs, cjk_font
from stationmap.maps.picture import format_of, render_picture, save_picture, stations_inside
from stationmap.maps.projection import LocalProjection, north_angle, round_length, scale_bar
from stationmap.maps.style import GAP_COLOUR, HEAT_COLOURS, TYPE_STYLE

GEOD = Geod(ellps="WGS84")
TODAY = datetime(2026, 11, 25)


@pytest.fixture(scope="module")
def shipped():
    return Dataset.load()


@pytest.fixture(scope="module")
def shanghai():
    return load_districts("310100")


@pytest.fixture(scope="module")
def png(shanghai, shipped):
    return Image.open(io.BytesIO(render_picture(shanghai, shipped, width=900, adcode="310100", today=TODAY)))


@pytest.fixture(scope="module")
def svg_zh(shanghai, shipped):
    return render_picture(shanghai, shipped, fmt="svg", width=600, adcode="310100",
                          title="上海市户外劳动者驿站地图").decode("utf-8")


def texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def test_png_is_exactly_the_asked_width_and_taller_than_the_map_alone(png):
    assert png.format == "PNG" and png.width == 900
    assert 900 < png.height < 1400          # Shanghai is about square; title, legend and source add height


def test_png_has_real_content_with_every_station_colour(png, shipped, shanghai):
    pixels = np.asarray(png.convert("RGB")).reshape(-1, 3).astype(int)
    assert len(np.unique(pixels, axis=0)) > 500                 # not blank, not a flat fill
    kinds = set(shipped.index.column("type")[stations_inside(shanghai, shipped.index)])
    assert kinds == set(TYPE_STYLE)
    for code in kinds:
        colour = np.array([int(TYPE_STYLE[code][0][i:i + 2], 16) for i in (1, 3, 5)])
        assert np.abs(pixels - colour).max(axis=1).min() < 40, code    # markers are drawn (alpha ≤ 25 %)


def test_svg_keeps_the_chinese_title_and_names_as_text(svg_zh):
    found = texts(svg_zh)
    assert "上海市户外劳动者驿站地图" in found
    assert {"浦东新区", "黄浦区", "崇明区"} <= set(found)
    assert any("合成示例数据" in t for t in found)         # the shipped sample says it is synthetic


def test_english_picture_names_districts_in_english(shanghai, shipped):
    found = texts(render_picture(shanghai, shipped, fmt="svg", lang="en", width=300, adcode="310100").decode())
    assert "Union rest stations in Shanghai" in found
    assert {"Pudong", "Chongming", "Huangpu"} <= set(found)
    assert not any(re.search(r"[\u4e00-\u9fff]", t) for t in found)
    assert any(t.startswith("Outdoor worker station (") for t in found)


def test_coverage_picture_has_the_heat_bands_with_the_threshold_and_the_assumptions(shipped):
    # Issue 16: the picture speaks the planner page's heat language (was: district classes "0–20%"…"≥ 80%").
    svg = render_picture(load_districts("310101"), shipped, fmt="svg", layer="coverage", width=300,
                         adcode="310101").decode()
    found = texts(svg)
    assert "到最近开放站点（分钟）" in found and "0–3" in found and "12–15 分钟" in found and "&gt; 15 分钟" in found
    assert all(colour in svg.lower() for colour in (*HEAT_COLOURS, GAP_COLOUR))
    assert any("步行 15 分钟" in t for t in found)
    assert "黄浦区工会驿站覆盖情况" in found


def test_a_register_of_ones_own_is_not_called_synthetic(tmp_path, shipped):
    path = tmp_path / "mine.csv"
    path.write_text("id,name,lon,lat\na,站一,121.48,31.23\nb,站二,121.49,31.22\n", encoding="utf-8")
    found = texts(render_picture(load_districts("310101"), Dataset.load(path), fmt="svg", width=300).decode())
    assert any(t.startswith("数据：mine.csv，版本 ") for t in found)
    assert not any("合成" in t for t in found)
    assert "共 2 个站点" in found


@pytest.mark.parametrize("limit, expected", [(0.7, 0.5), (1, 1), (1.99, 1), (23_400, 20_000), (49_999, 20_000),
                                             (50_000, 50_000), (99_999, 50_000), (120_000, 100_000)])
def test_scale_bar_lengths_are_round(limit, expected):
    assert round_length(limit) == pytest.approx(expected)


@pytest.mark.parametrize("x0, y0", [(0, 0), (-55_000, -60_000), (50_000, 55_000), (-2_000_000, 1_500_000)])
def test_the_scale_bar_is_true_against_the_geodesic(x0, y0):
    """Its drawn length, in the local projection, spans exactly the stated metres on the ellipsoid."""
    projection = LocalProjection(121.47, 31.23)
    length_m, length_map = scale_bar(projection, x0, y0, map_width_m=120_000)
    assert length_m == 20_000
    lon, lat = projection.inverse([x0, x0 + length_map], [y0, y0])
    assert GEOD.inv(lon[0], lat[0], lon[1], lat[1])[2] == pytest.approx(20_000, rel=1e-6)
    if abs(x0) < 100_000:                       # within a city the projection alone is already true
        assert length_map == pytest.approx(length_m, rel=1e-4)


def test_north_arrow_points_to_true_north():
    projection = LocalProjection(121.47, 31.23)
    assert north_angle(projection, 0, 0) == pytest.approx(0, abs=1e-6)
    angle = north_angle(projection, 60_000, 60_000)
    x, y = projection.forward(*projection.inverse(60_000, 60_000))
    lon, lat = projection.inverse(60_000, 60_000)
    nx, ny = projection.forward(lon, lat + 0.1)
    assert angle == pytest.approx(math.degrees(math.atan2(-(nx - x), ny - y)), abs=0.05)
    assert 0 < angle < 1           # east of the centre meridian, north leans left, slightly


def test_the_vendored_chinese_font_comes_first_and_the_system_one_is_the_fallback():
    family, path = cjk_font()
    assert Path(path).name == "NotoSansSC_400Regular.ttf" and family == "Noto Sans SC"
    assert (Path(path).parent.parent / "LICENSE_FONT").read_text().count("Open Font License")
    family, path = cjk_font(packaged=False)          # a stripped install: Debian's fonts-noto-cjk
    assert "CJK" in family or "Han" in family or "WenQuanYi" in family
    with pytest.raises(RuntimeError, match="fonts-noto-cjk"):
        cjk_font(system=False, packaged=False)


def test_text_the_font_cannot_draw_is_refused_not_drawn_as_boxes(shipped):
    family, _ = cjk_font()
    check_glyphs({"title": ["上海市 · ≥ 80% · 20 km²"]}, family)
    with pytest.raises(InputError, match="field 'title'.*cannot draw"):
        render_picture(load_districts("310101"), shipped, title="驿站 \U0001F600", width=300)


@pytest.mark.parametrize("call, field", [
    (lambda d, s: render_picture(d, s, width=299), "width"),
    (lambda d, s: render_picture(d, s, width=6001), "width"),
    (lambda d, s: render_picture(d, s, width="wide"), "width"),
    (lambda d, s: render_picture(d, s, layer="heat"), "layer"),
    (lambda d, s: render_picture(d, s, types=["canteen"]), "type"),
    (lambda d, s: format_of("map.gif"), "out"),
])
def test_bad_options_name_their_field(call, field, shipped):
    with pytest.raises(InputError) as caught:
        call(load_districts("310101"), shipped)
    assert caught.value.field == field


def test_save_picture_picks_the_format_by_extension(tmp_path, shipped):
    districts = load_districts("310101")
    png = save_picture(tmp_path / "a.png", districts, shipped, width=333)
    svg = save_picture(tmp_path / "a.svg", districts, shipped, width=333)
    assert Image.open(png).size[0] == 333
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")
