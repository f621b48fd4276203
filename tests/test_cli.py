"""The ``stationmap`` command, run as a user runs it: a real process, real files."""

import io
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from stationmap import coords

LUJIAZUI = ("31.2397", "121.4998")


def run(*args, cwd=None):
    result = subprocess.run([sys.executable, "-m", "stationmap", *args], capture_output=True,
                            text=True, cwd=cwd, timeout=120)
    return result


def nearest_json(*args):
    result = run("nearest", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_table_in_chinese_by_default():
    result = run("nearest", "--lat", LUJIAZUI[0], "--lon", LUJIAZUI[1], "-k", "3")
    assert result.returncode == 0, result.stderr
    assert "距离" in result.stdout and "名称" in result.stdout
    assert len([line for line in result.stdout.splitlines() if line[:1].isdigit()]) == 3
    assert "WGS-84" in result.stdout


def test_table_in_english():
    result = run("nearest", "--lat", LUJIAZUI[0], "--lon", LUJIAZUI[1], "--lang", "en")
    assert "Distance" in result.stdout and "China Standard Time" in result.stdout


def test_json_matches_the_index(shanghai):
    data = nearest_json("--lat", LUJIAZUI[0], "--lon", LUJIAZUI[1], "-k", "5", "--radius", "3000")
    results = data["results"]
    expected = shanghai.nearest(121.4998, 31.2397, k=5, radius_m=3000)
    assert [r["id"] for r in results] == shanghai.ids[expected.positions].tolist()
    for r, d in zip(results, expected.distance_m, strict=True):
        assert set(r) >= {"id", "name", "type", "distance_m", "lon", "lat", "gcj02"}
        assert abs(r["distance_m"] - d) < 0.01
        gcj = coords.wgs84_to_gcj02(r["lon"], r["lat"])
        assert r["gcj02"] == pytest.approx([float(gcj[0]), float(gcj[1])], abs=1e-7)
    assert [r["rank"] for r in results] == list(range(1, len(results) + 1))


def test_gcj02_input_gives_the_same_stations():
    lon, lat = coords.wgs84_to_gcj02(121.4998, 31.2397)
    plain = nearest_json("--lat", LUJIAZUI[0], "--lon", LUJIAZUI[1])
    shifted = nearest_json("--lat", repr(float(lat)), "--lon", repr(float(lon)), "--coordsys", "gcj02")
    assert [r["id"] for r in shifted["results"]] == [r["id"] for r in plain["results"]]
    assert shifted["query"]["wgs84"] == pytest.approx([121.4998, 31.2397], abs=1e-7)


def test_filters_narrow_the_results():
    data = nearest_json("--lat", LUJIAZUI[0], "--lon", LUJIAZUI[1], "-k", "10", "--amenity", "microwave",
                        "--amenity", "wifi", "--open-at", "2026-11-24T02:00", "--type", "outdoor_worker_station")
    assert data["results"], "24/7 stations with a microwave and Wi-Fi exist in the sample"
    for r in data["results"]:
        assert {"microwave", "wifi"} <= {a["code"] for a in r["amenities"]} and r["open_now"]
        assert r["type"] == "outdoor_worker_station"


def test_other_stations_file(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("id,name,lon,lat\nx,我的驿站,116.397,39.909\ny,另一站,116.40,39.92\n", encoding="utf-8")
    data = nearest_json("--lat", "39.91", "--lon", "116.397", "--stations", str(path))
    assert [r["id"] for r in data["results"]] == ["x", "y"]


def test_batch_writes_ranked_csv(tmp_path, shanghai):
    queries = tmp_path / "q.csv"
    gcj = coords.wgs84_to_gcj02(121.4998, 31.2397)
    queries.write_text(f"id,lat,lon,coordsys\nq1,31.2397,121.4998,wgs84\nq2,{float(gcj[1])!r},{float(gcj[0])!r},gcj02\n"
                       "far,45.0,90.0,\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = run("nearest", "--queries", str(queries), "-k", "3", "--radius", "2000", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text().splitlines()[0] == "query_id,rank,station_id,distance_m"
    table = pd.read_csv(out, dtype={"query_id": str, "station_id": str})
    q1, q2 = table[table.query_id == "q1"], table[table.query_id == "q2"]
    expected = shanghai.nearest(121.4998, 31.2397, k=3, radius_m=2000)
    assert q1.station_id.tolist() == shanghai.ids[expected.positions].tolist() == q2.station_id.tolist()
    assert q1["rank"].tolist() == [1, 2, 3]
    np.testing.assert_allclose(q1.distance_m, expected.distance_m, atol=0.01)
    assert "far" not in set(table.query_id)     # nothing within 2 km in the desert


def test_batch_to_standard_output(tmp_path):
    queries = tmp_path / "q.csv"
    queries.write_text("id,lat,lon\nq1,31.2397,121.4998\n", encoding="utf-8")
    result = run("nearest", "--queries", str(queries), "-k", "2")
    assert result.returncode == 0 and result.stdout.splitlines()[0] == "query_id,rank,station_id,distance_m"
    assert len(result.stdout.splitlines()) == 3


@pytest.mark.parametrize("args, words", [
    (["nearest", "--lat", "95", "--lon", "121.5"], "'lat': 95.0 is outside -90..90"),
    (["nearest", "--lat", "north", "--lon", "121.5"], "'lat': 'north' is not a number"),
    (["nearest", "--lat", "31.2", "--lon", "121.5", "--amenity", "sauna"], "unknown amenity 'sauna'"),
    (["nearest", "--lat", "31.2", "--lon", "121.5", "--type", "canteen"], "unknown type 'canteen'"),
    (["nearest", "--lat", "31.2", "--lon", "121.5", "--coordsys", "mars"], "unknown coordinate system 'mars'"),
    (["nearest", "--lat", "31.2", "--lon", "121.5", "--open-at", "teatime"], "not an ISO 8601"),
    (["nearest", "--lat", "31.2", "--lon", "121.5", "-k", "0"], "'k': 0 must be a whole number"),
    (["nearest", "--lat", "31.2", "--lon", "121.5", "--radius", "-5"], "'radius_m': -5.0 must be a positive"),
    (["nearest", "--lat", "31.2"], "--lat and --lon are required"),
    (["nearest", "--lat", "31.2", "--lon", "121.5", "--stations", "/nonexistent/s.geojson"], "no such file"),
    (["nearest", "-k", "many"], "invalid int value: 'many'"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_bad_input_exits_2_with_one_clear_message(args, words):
    result = run(*args)
    assert result.returncode == 2
    assert words in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize("name, content, words", [
    ("broken.geojson", "{oops", "cannot be read as GeoJSON"),
    ("nolon.csv", "id,name,lat\na,站,31.2\n", "required column 'lon' is missing"),
    ("textlat.csv", "id,name,lon,lat\na,站,121.5,31.2\nb,站,121.6,thirty-one\n",
     "row 2, field 'lat': 'thirty-one' is not a number"),
    ("hours.csv", "id,name,lon,lat,opening_hours\na,站,121.5,31.2,whenever\n", "row 1, field 'opening_hours'"),
])
def test_bad_stations_file_exits_2_naming_row_and_field(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = run("nearest", "--lat", "31.2", "--lon", "121.5", "--stations", str(path))
    assert result.returncode == 2
    assert words in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("content, words", [
    ("id,lat\nq,31.2\n", "required column 'lon' is missing"),
    ("id,lat,lon\nq1,31.2,121.5\nq2,abc,121.5\n", "row 2, field 'lat': 'abc' is not a number"),
    ("id,lat,lon,coordsys\nq1,31.2,121.5,mars\n", "row 1, field 'coordsys'"),
    ("id,lat,lon\n", "has no queries"),
])
def test_bad_queries_file_exits_2(tmp_path, content, words):
    path = tmp_path / "q.csv"
    path.write_text(content, encoding="utf-8")
    result = run("nearest", "--queries", str(path))
    assert result.returncode == 2
    assert words in result.stderr and "Traceback" not in result.stderr


def test_sample_command_writes_the_shipped_sample(tmp_path):
    out = tmp_path / "sample.geojson"
    result = run("sample", "shanghai", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "1446 synthetic stations" in result.stderr
    from stationmap.stations import read_stations

    assert read_stations(out)["id"].tolist() == read_stations()["id"].tolist()


@pytest.mark.parametrize("args, words", [(["serve", "--port", "0"], "'port': 0 is not a TCP port"),
                                         (["serve", "--workers", "0"], "'workers': 0 must be ≥ 1"),
                                         (["sample", "national", "--n", "0"], "'n': 0 must be ≥ 1")])
def test_bad_serve_and_sample_arguments(args, words):
    result = run(*args)
    assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr


def test_coverage_command_writes_the_report(tmp_path):
    result = run("coverage", "--adcode", "310101", "--minutes", "10", "--at", "02:00", "--lang", "en",
                 "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert {p.name for p in tmp_path.iterdir()} == {"coverage.csv", "coverage.xlsx", "gaps.geojson", "map.html"}
    assert "China Standard Time" in result.stderr and "641 m" in result.stderr
    header = (tmp_path / "coverage.csv").read_text().splitlines()[0]
    assert header.startswith("adcode,name,stations,area_km2,population,area_covered_pct,population_covered_pct,"
                             "mean_dist_m,p90_dist_m,largest_gap_km2")


def test_coverage_command_recommends_sites(tmp_path):
    result = run("coverage", "--adcode", "310104", "--recommend", "2", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    sites = (tmp_path / "recommendations.csv").read_text().splitlines()
    assert sites[0].startswith("rank,lon,lat,gcj02_lon,gcj02_lat,gain") and len(sites) == 3
    html = (tmp_path / "map.html").read_text(encoding="utf-8")
    assert "建议新建站点".encode("unicode_escape").decode() in html       # Folium writes names as JSON escapes


@pytest.mark.parametrize("args, words", [
    (["--recommend", "0"], "'recommend': 0 must be ≥ 1"),
    (["--radius-m", "0"], "'radius_m': 0.0 must be a positive number"),
    (["--radius-m", "-100"], "'radius_m': -100.0 must be a positive number"),
    (["--adcode", "999999"], "unknown adcode '999999'"),
    (["--minutes", "15", "--radius-m", "900"], "not allowed with argument"),
    (["--at", "25:00"], "'at': '25:00' is not a time of day"),
    (["--at", "0001-01-01T00:00+14:00"], "'at': '0001-01-01T00:00+14:00' is neither HH:MM nor"),
])
def test_bad_coverage_arguments(tmp_path, args, words):
    result = run("coverage", *args, "--out", str(tmp_path))
    assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr


def test_coverage_with_an_empty_districts_file(tmp_path):
    path = tmp_path / "none.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    result = run("coverage", "--districts", str(path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "has no districts" in result.stderr


def test_coverage_command_with_a_demand_layer(tmp_path):
    demand = tmp_path / "riders.csv"
    demand.write_text("lon,lat,weight\n121.4737,31.2304,100\n121.48,31.20,50\n", encoding="utf-8")
    result = run("coverage", "--adcode", "310101", "--demand", str(demand), "--recommend", "1",
                 "--out", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    assert "需求图层" in result.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("lon,lat,weight\n121.47,31.23,lots\n", encoding="utf-8")
    result = run("coverage", "--adcode", "310101", "--demand", str(bad), "--out", str(tmp_path / "o2"))
    assert result.returncode == 2 and "row 1, field 'weight'" in result.stderr


def test_export_image_writes_a_png_of_the_asked_width(tmp_path):
    from PIL import Image

    out = tmp_path / "huangpu.png"
    result = run("export-image", "--adcode", "310101", "--width", "640", "--type", "outdoor_worker_station",
                 "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert Image.open(out).size[0] == 640 and f"wrote {out}" in result.stderr


def test_export_image_svg_in_english_with_a_title(tmp_path):
    out = tmp_path / "map.svg"
    result = run("export-image", "--adcode", "310101", "--lang", "en", "--layer", "coverage", "--title", "Huangpu",
                 "--width", "300", "--out", str(out))
    assert result.returncode == 0, result.stderr
    svg = out.read_text(encoding="utf-8")
    assert ">Huangpu</text>" in svg and "15-minute walk" in svg


@pytest.mark.parametrize("args, words", [
    (["export-image", "--width", "10", "--out", "x.png"], "'width': 10 must be between 300 and 6000"),
    (["export-image", "--width", "big", "--out", "x.png"], "'width': 'big' is not a whole number"),
    (["export-image", "--out", "x.gif"], "'out': unknown picture type '.gif'"),
    (["export-image", "--adcode", "999999", "--out", "x.png"], "'adcode'"),
    (["export-image", "--type", "canteen", "--out", "x.png"], "'type': unknown type 'canteen'"),
    (["export-image", "--layer", "heat", "--out", "x.png"], "invalid choice: 'heat'"),
    (["export-html", "--out", "x.txt"], "'out': 'x.txt' must end in .html"),
    (["export-html", "--tiles", "google", "--out", "x.html"], "invalid choice: 'google'"),
])
def test_bad_export_arguments_exit_2_naming_the_field(tmp_path, args, words):
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("layer", ["stations", "coverage"])
def test_export_html_is_one_self_contained_file(tmp_path, layer):
    import re

    stations = tmp_path / "mine.csv"
    stations.write_text("id,name,lon,lat\na,<img src=x onerror=alert(1)>,121.48,31.23\n", encoding="utf-8")
    out = tmp_path / "map.html"
    result = run("export-html", "--adcode", "310101", "--stations", str(stations), "--layer", layer,
                 "--lang", "en", "--out", str(out))
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert not re.search(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//', page)
    assert "<img src=x" not in page                                # the name travels as JSON text
    assert "Data: mine.csv, version " in page and "Huangpu" in page


def test_long_coverage_runs_draw_a_progress_bar_on_a_terminal_only(tmp_path):
    """On a terminal (a pseudo-terminal here) standard error shows a bar counting districts;
    piped, it shows nothing (the other coverage tests capture stderr and see no bar)."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    main, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))   # a terminal's size
    process = subprocess.Popen([sys.executable, "-m", "stationmap", "coverage", "--adcode", "310101",
                                "--out", str(tmp_path)], stdout=subprocess.PIPE, stderr=terminal)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:                     # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
    assert process.wait(120) == 0
    os.close(main)
    assert re.search(r"\d/1 \[.*区县/s\]", shown.decode())                  # e.g. " 0/1 [00:00<?, ? 区县/s]"
    piped = run("coverage", "--adcode", "310101", "--out", str(tmp_path / "piped"))
    assert piped.returncode == 0 and "区县/s" not in piped.stderr


def test_batch_to_standard_output_writes_formula_like_query_ids_as_text(tmp_path):
    queries = tmp_path / "q.csv"
    queries.write_text('id,lat,lon\n"=HYPERLINK(""http://x"")",31.2397,121.4998\n', encoding="utf-8")
    result = run("nearest", "--queries", str(queries), "-k", "1")
    assert result.returncode == 0, result.stderr
    row = pd.read_csv(io.StringIO(result.stdout), dtype=str).iloc[0]
    assert row["query_id"] == "'=HYPERLINK(\"http://x\")"


def test_batch_asking_for_more_neighbours_than_stations_is_no_traceback(tmp_path):
    stations = tmp_path / "s.csv"
    stations.write_text("id,name,lat,lon\nA,甲,31.24,121.50\n", encoding="utf-8")
    queries = tmp_path / "q.csv"
    queries.write_text("id,lat,lon\nq1,31.2397,121.4998\n", encoding="utf-8")
    result = run("nearest", "--stations", str(stations), "--queries", str(queries), "-k", "3")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and lines[1].startswith("q1,1,A,")
