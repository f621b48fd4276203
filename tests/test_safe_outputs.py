"""Files whole or absent, text as text: the CLI and the files it writes, attacked."""

from __future__ import annotations

import io
import json
import random
import signal
import subprocess
import sys
import time

import openpyxl
import pandas as pd
import pytest

from stationmap.coverage import Threshold, coverage_report
from stationmap.districts import load_districts
from stationmap.errors import DataFileError
from stationmap.reports import coverage_csv, coverage_xlsx
from stationmap.stations import from_frame

FORMULA = '=HYPERLINK("http://evil.example","点我")'
COVERAGE = [sys.executable, "-m", "stationmap", "coverage", "--adcode", "310101", "--max-cells", "3000"]


def run(*args):
    return subprocess.run([sys.executable, "-m", "stationmap", *args],
                          capture_output=True, text=True, timeout=180, check=False)


def test_k_beyond_its_documented_maximum_is_refused_naming_k():
    result = run("nearest", "--lon", "121.47", "--lat", "31.23", "-k", "100000000")
    assert result.returncode == 2 and "'k'" in result.stderr and "at most 100" in result.stderr
    assert "Traceback" not in result.stderr


def test_coverage_out_naming_a_file_is_a_clear_error(tmp_path):
    target = tmp_path / "report.txt"
    target.write_text("keep me")
    result = subprocess.run([*COVERAGE, "--out", str(target)], capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 2 and "'out'" in result.stderr and "Traceback" not in result.stderr
    assert target.read_text() == "keep me"


def _whole_or_absent(out) -> None:
    if not out.exists():
        return
    names = sorted(p.name for p in out.iterdir())
    assert names == ["coverage.csv", "coverage.xlsx", "gaps.geojson", "map.html"], names
    assert len(pd.read_csv(out / "coverage.csv")) == 1
    json.loads((out / "gaps.geojson").read_text(encoding="utf-8"))
    openpyxl.load_workbook(out / "coverage.xlsx")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_the_coverage_command_killed_at_random_moments_never_leaves_a_half_written_dir(tmp_path, sig):
    rng = random.Random(13)
    for attempt in range(3):
        out = tmp_path / f"out{attempt}"
        process = subprocess.Popen([*COVERAGE, "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        time.sleep(rng.uniform(1.0, 8.0))
        process.send_signal(sig)
        _, err = process.communicate(timeout=120)
        _whole_or_absent(out)
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(f".out{attempt}")]
        if sig == signal.SIGINT:
            assert leftovers == []
            if process.returncode != 0:
                assert process.returncode == 130 and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_finished_coverage_dir_is_replaced_whole_and_other_files_are_never_deleted(tmp_path):
    out = tmp_path / "out"
    assert subprocess.run([*COVERAGE, "--out", str(out)], capture_output=True, timeout=180, check=False).returncode == 0
    _whole_or_absent(out)
    assert subprocess.run([*COVERAGE, "--out", str(out)], capture_output=True, timeout=180, check=False).returncode == 0
    _whole_or_absent(out)
    (out / "notes.docx").write_text("mine")
    result = subprocess.run([*COVERAGE, "--out", str(out)], capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 2 and "notes.docx" in result.stderr
    assert (out / "notes.docx").read_text() == "mine"


def test_a_district_named_like_a_formula_is_text_in_the_csv_and_the_workbook(shanghai):
    districts = load_districts("310101")
    report = coverage_report(districts, shanghai, Threshold.radius(500), max_cells=2000)
    report.table.loc[0, "name"] = FORMULA
    csv = pd.read_csv(io.BytesIO(coverage_csv(report)), dtype=str)
    assert csv.loc[0, "name"] == "'" + FORMULA
    sheet = openpyxl.load_workbook(io.BytesIO(coverage_xlsx(report))).worksheets[0]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.data_type == "s" and c.value.startswith("'=") for c in cells)


@pytest.mark.parametrize("text", ["爱心\u202e站", "驿站\x00", "驿站\x1b[2J"])
def test_station_text_with_control_characters_is_refused_with_row_and_field(text):
    frame = pd.DataFrame({"id": ["a", "b"], "name": ["好站", text], "lon": ["121.47", "121.48"],
                          "lat": ["31.23", "31.24"]})
    with pytest.raises(DataFileError) as error:
        from_frame(frame, source="stations.csv")
    [problem] = error.value.problems
    assert problem.row == 2 and problem.field == "name" and "control character" in problem.reason


def test_a_district_file_with_a_bidi_override_is_refused_with_row_and_field(tmp_path):
    districts = load_districts("310101").copy()
    districts.loc[districts.index[0], "name"] = "黄浦\u202e区"
    path = tmp_path / "districts.geojson"
    districts.to_file(path, driver="GeoJSON")
    with pytest.raises(DataFileError) as error:
        load_districts(path=path)
    assert any(p.field == "name" and p.row == 1 and "U+202E" in p.reason for p in error.value.problems)


def test_a_picture_title_with_dollar_signs_is_drawn_as_text(shanghai):
    from stationmap.dataset import Dataset
    from stationmap.maps.picture import render_picture

    svg = render_picture(load_districts("310101"), Dataset.load(None), title=r"$\foo{$ 驿站", width=400, fmt="svg")
    assert rb"$\foo{$" in svg
