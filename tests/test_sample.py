"""The synthetic samples: the reported figures, inside real districts, and reproducible."""

import numpy as np
import pytest
import shapely

from stationmap.districts import load_districts
from stationmap.sample import national_sample, shanghai_sample
from stationmap.stations import read_stations


@pytest.fixture(scope="module")
def sample():
    return shanghai_sample()


def test_reported_counts(sample):
    outdoor = sample[sample["type"] == "outdoor_worker_station"]
    assert len(outdoor) == 1328
    by_district = outdoor.groupby("adcode").size()
    assert by_district["310104"] == 121 and by_district["310115"] >= 200
    assert set(sample["type"]) == {"outdoor_worker_station", "driver_home", "worker_home", "new_employment_hub",
                                   "rest_room"}
    assert (sample.loc[sample["type"] == "rest_room", "access"] == "employees").all()


def test_other_districts_follow_population(sample):
    outdoor = sample[sample["type"] == "outdoor_worker_station"].groupby("adcode").size()
    districts = load_districts().set_index("adcode")
    others = outdoor.drop(["310104", "310115"])
    share = others / others.sum()
    expected = districts.loc[others.index, "population"] / districts.loc[others.index, "population"].sum()
    assert np.abs(share - expected.astype(float)).max() < 0.002


def test_every_station_inside_its_district(sample):
    districts = load_districts().set_index("adcode")
    for adcode, group in sample.groupby("adcode"):
        assert shapely.contains_xy(districts.loc[adcode, "geometry"], group.geometry.x, group.geometry.y).all()


def test_hours_status_and_kit(sample):
    share_24_7 = (sample["opening_hours"] == "24/7").mean()
    assert 0.05 <= share_24_7 <= 0.08                     # about 6.5 % nationally
    assert 0 < (sample["opening_hours"] == "").mean() < 0.03
    assert (sample["status"] == "open").mean() > 0.95
    outdoor = sample[sample["type"] == "outdoor_worker_station"]
    six = {"air_conditioning", "fridge", "microwave", "drinking_water", "phone_charging", "seating"}
    assert all(six <= set(a.split(";")) for a in outdoor["amenities"])


def test_labelled_synthetic_and_deterministic(sample):
    assert sample["source"].str.contains("synthetic").all()
    again = shanghai_sample()
    assert again.drop(columns="geometry").equals(sample.drop(columns="geometry"))
    assert shapely.equals_exact(again.geometry.array, sample.geometry.array, tolerance=0).all()
    assert not shanghai_sample(seed=1)["id"].equals(sample["id"]) or \
        not shapely.equals_exact(shanghai_sample(seed=1).geometry.array, sample.geometry.array, tolerance=0).all()


def test_shipped_file_is_this_generator_s_output(sample):
    shipped = read_stations()
    assert shipped["id"].tolist() == sample["id"].tolist()
    np.testing.assert_allclose(shipped.geometry.x, sample.geometry.x, atol=1e-7)
    np.testing.assert_allclose(shipped.geometry.y, sample.geometry.y, atol=1e-7)


@pytest.mark.slow
def test_national_sample_spreads_over_county_units():
    stations = national_sample(n=3000, seed=5)
    assert len(stations) == 3000 and stations["adcode"].nunique() > 1000
    units = load_districts("110000").set_index("adcode")       # check Beijing's share of points
    beijing = stations[stations["adcode"].str.startswith("11")]
    for adcode, group in beijing.groupby("adcode"):
        assert shapely.contains_xy(units.loc[adcode, "geometry"], group.geometry.x, group.geometry.y).all()
