"""The planner's answers: what a time of day means, which questions share an answer, the JSON shape."""

import math

import pandas as pd
import pytest

from stationmap import hours
from stationmap.coverage import Threshold
from stationmap.errors import InputError
from stationmap.planner import AnswerCache, Question, file_stem, parse_at, summary, totals

NOW = hours.parse_when("2026-11-24T23:59:30")


@pytest.mark.parametrize("text, expected", [
    ("02:00", "2026-11-24T02:00:00+08:00"),
    ("2:05", "2026-11-24T02:05:00+08:00"),
    ("2026-11-20T14:30:45", "2026-11-20T14:30:00+08:00"),          # floored to the minute
    ("2026-11-20T06:30:00Z", "2026-11-20T14:30:00+08:00"),         # an offset is honoured
])
def test_times_of_day_and_iso_moments(text, expected):
    assert parse_at(text, now=NOW).isoformat() == expected


@pytest.mark.parametrize("text", [None, "", "  "])
def test_no_time_means_any_time(text):
    assert parse_at(text) is None


@pytest.mark.parametrize("text", ["25:00", "12:60", "teatime", "2026-13-01T00:00",
                                  "0001-01-01T00:00+14:00", "9999-12-31T23:59-14:00"])
def test_bad_times_name_the_field(text):
    with pytest.raises(InputError) as error:
        parse_at(text)
    assert error.value.field == "at"


def test_the_cache_computes_each_question_once_and_forgets_the_oldest(shanghai):
    cache = AnswerCache(size=2)
    small = [Question("310101", Threshold.walking(m)) for m in (10, 15, 20)]
    first = cache.get(small[0], shanghai)
    assert cache.get(Question("310101", Threshold.walking(10)), shanghai) is first      # equal questions share
    cache.get(small[1], shanghai)
    cache.get(small[0], shanghai)               # touched: now the most recent
    cache.get(small[2], shanghai)               # evicts small[1]
    assert cache.computed == 3
    assert cache.get(small[0], shanghai) is first and cache.computed == 3
    cache.get(small[1], shanghai)
    assert cache.computed == 4


def test_summary_has_no_nan_and_weights_totals_by_area(shanghai):
    answer = AnswerCache().get(Question("310101", Threshold.walking(15)), shanghai)
    table = answer.report.table.copy()
    body = summary(answer, lang="en", version="v1", stations=len(shanghai), query={"adcode": "310101"})
    assert body["dataset"] == {"version": "v1", "stations": len(shanghai)} and body["recommendations"] == []
    assert body["districts"][0]["area_covered_pct"] == table.loc[0, "area_covered_pct"]
    both = pd.DataFrame({"stations": [1, 3], "area_km2": [10.0, 30.0],
                         "population": pd.array([100, None], dtype="Int64"),
                         "area_covered_pct": [100.0, 0.0], "population_covered_pct": [100.0, float("nan")]})
    assert totals(both) == {"stations": 4, "area_km2": 40.0, "population": None, "area_covered_pct": 25.0,
                            "population_covered_pct": 100.0}
    assert not any(isinstance(v, float) and not math.isfinite(v) for row in body["districts"] for v in row.values())


def test_file_names_say_what_was_asked():
    assert file_stem(Question("310100", Threshold.walking(15))) == "coverage-310100-walk15"
    assert file_stem(Question("310115", Threshold.radius(500), at=parse_at("02:00", now=NOW), recommend=3)) == \
        "coverage-310115-500m-20261124T0200-sites3"


def test_a_cached_answer_is_served_while_another_question_is_computed(shanghai, monkeypatch):
    """The cache's own concurrency: ``compute`` is held at a gate so the order is certain."""
    import threading

    from stationmap import planner

    cache = AnswerCache()
    ready = cache.get(Question("310101", Threshold.walking(10)), shanghai)
    gate, started, real = threading.Event(), threading.Event(), planner.compute

    def held(question, index):
        started.set()
        assert gate.wait(60)
        return real(question, index)

    monkeypatch.setattr(planner, "compute", held)
    slow = Question("310104", Threshold.walking(10))
    results = []
    workers = [threading.Thread(target=lambda: results.append(cache.get(slow, shanghai))) for _ in range(2)]
    for worker in workers:
        worker.start()
    assert started.wait(60)
    assert cache.get(Question("310101", Threshold.walking(10)), shanghai) is ready   # not blocked
    gate.set()
    for worker in workers:
        worker.join(60)
    assert len(results) == 2 and results[0] is results[1]          # the two waiters share one answer
    assert cache.computed == 2


def test_a_failed_computation_is_not_cached(shanghai, monkeypatch):
    from stationmap import planner

    cache = AnswerCache()
    monkeypatch.setattr(planner, "compute", lambda q, i: (_ for _ in ()).throw(InputError("no", field="x")))
    with pytest.raises(InputError):
        cache.get(Question("310101", Threshold.walking(10)), shanghai)
    monkeypatch.undo()
    assert cache.get(Question("310101", Threshold.walking(10)), shanghai).report is not None
