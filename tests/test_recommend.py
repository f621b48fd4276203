"""Where to build next: the solver's optimum against enumeration, greedy against the optimum."""

import itertools

import numpy as np
import pandas as pd
import pytest

from stationmap.coverage import Threshold, coverage_report
from stationmap.districts import load_districts
from stationmap.errors import InputError
from stationmap.index import StationIndex
from stationmap.recommend import Problem, build_problem, greedy_sites, optimal_sites, recommend
from stationmap.stations import from_frame


def covered_weight(problem, chosen):
    hit = np.zeros(len(problem.weight), dtype=bool)
    for j in chosen:
        hit[problem.covers[j]] = True
    return float(problem.weight[hit].sum())


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(4)
    lon, lat = 121.45 + rng.uniform(0, 0.04, 40), 31.20 + rng.uniform(0, 0.04, 40)
    return build_problem(lon, lat, rng.integers(1, 100, 40), lon[:12], lat[:12], 900.0)


def test_optimum_equals_enumeration_of_every_choice(small):
    best = max(covered_weight(small, c) for c in itertools.combinations(range(12), 3))
    chosen = optimal_sites(small, 3)
    assert len(chosen) == 3 and covered_weight(small, [j for j, _ in chosen]) == pytest.approx(best)
    assert sum(g for _, g in chosen) == pytest.approx(best)
    assert [g for _, g in chosen] == sorted((g for _, g in chosen), reverse=True)


def test_greedy_is_within_its_bound_and_below_the_optimum(small):
    best = max(covered_weight(small, c) for c in itertools.combinations(range(12), 3))
    greedy = covered_weight(small, [j for j, _ in greedy_sites(small, 3)])
    assert (1 - 1 / np.e) * best <= greedy <= best + 1e-9


def test_the_classic_case_where_greedy_falls_short():
    # A covers four points; B and C three each, overlapping A but not each other.
    covers = [np.array([0, 1, 2, 3]), np.array([0, 1, 4]), np.array([2, 3, 5])]
    problem = Problem(np.zeros(6), np.zeros(6), np.ones(6), np.zeros(3), np.zeros(3), covers, 1.0)
    assert covered_weight(problem, [j for j, _ in greedy_sites(problem, 2)]) == 5
    assert covered_weight(problem, [j for j, _ in optimal_sites(problem, 2)]) == 6


def test_pinning_existing_sites_equals_leaving_their_demand_out(small):
    pinned = [0, 1]
    with_pins = optimal_sites(small, 2, pinned=pinned)
    already = np.zeros(len(small.weight), dtype=bool)
    for j in pinned:
        already[small.covers[j]] = True
    reduced = Problem(small.demand_lon, small.demand_lat, np.where(already, 0.0, small.weight),
                      small.candidate_lon, small.candidate_lat, small.covers, small.radius_m)
    without = optimal_sites(reduced, 2)
    assert sum(g for _, g in with_pins) == pytest.approx(sum(g for _, g in without))


def test_recommended_sites_raise_coverage_by_their_gain(shanghai):
    districts = load_districts("310104")
    threshold = Threshold.walking(15)
    before = coverage_report(districts, shanghai, threshold)
    sites = recommend(before, districts, 3)
    assert sites["method"].eq("mclp-highs").all() and sites["gain"].is_monotonic_decreasing
    new = pd.DataFrame({"id": [f"new{r}" for r in sites["rank"]], "name": "新站", "lon": sites["lon"],
                        "lat": sites["lat"]})
    stations = pd.concat([shanghai.stations.drop(columns="geometry").assign(lon=shanghai.lon, lat=shanghai.lat), new])
    after = coverage_report(districts, StationIndex(from_frame(stations.reset_index(drop=True))), threshold)
    population = districts["population"].iloc[0]
    gained_pct = after.table.loc[0, "population_covered_pct"] - before.table.loc[0, "population_covered_pct"]
    assert gained_pct > 0
    assert gained_pct == pytest.approx(100 * sites["cumulative_gain"].iloc[-1] / population, abs=0.02)


def test_greedy_for_large_problems_and_bad_n(shanghai):
    districts = load_districts("310104")
    report = coverage_report(districts, shanghai, Threshold.walking(15))
    greedy = recommend(report, districts, 3, method="greedy")
    optimal = recommend(report, districts, 3, method="optimal")
    assert greedy["cumulative_gain"].iloc[-1] <= optimal["cumulative_gain"].iloc[-1] + 1e-6
    with pytest.raises(InputError):
        recommend(report, districts, 0)
