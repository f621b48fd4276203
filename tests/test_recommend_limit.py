"""The covering solver's time limit: the greedy answer, saying so, rather than a worker held for a minute."""

from __future__ import annotations

from stationmap.coverage import Threshold, coverage_report
from stationmap.districts import load_districts
from stationmap.recommend import recommend


def test_a_solver_past_its_time_limit_gives_the_greedy_answer_and_says_so(shanghai):
    districts = load_districts("310112")
    report = coverage_report(districts, shanghai, Threshold.walking(12), max_cells=1_200)
    sites = recommend(report, districts, 20, method="optimal", time_limit_s=0.01)
    assert len(sites) == 20
    assert sites["method"].eq("greedy-after-time-limit").all()
    assert sites["gain"].is_monotonic_decreasing
