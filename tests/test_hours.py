"""Opening hours are read in China Standard Time, and unknown never means open."""

from datetime import UTC, datetime

import pytest

from stationmap import hours

MONDAY_NOON = "2026-11-23T12:00"


@pytest.mark.parametrize("expression, at, expected", [
    ("24/7", "2026-11-23T02:00", "open"),
    ("Mo-Fr 09:30-17:00", MONDAY_NOON, "open"),
    ("Mo-Fr 09:30-17:00", "2026-11-22T12:00", "closed"),          # Sunday
    ("08:30-11:00,13:30-17:00", MONDAY_NOON, "closed"),           # lunch break
    ("08:30-11:00,13:30-17:00", "2026-11-23T14:00", "open"),
    ("06:00-23:00", "2026-11-23T02:00", "closed"),
    ("Mo-Fr 09:00-17:00 unknown", MONDAY_NOON, "unknown"),
    ("", MONDAY_NOON, "unknown"),
])
def test_state(expression, at, expected):
    assert hours.state(expression, hours.parse_when(at))[0] == expected


def test_public_holidays_follow_china():
    national_day = hours.parse_when("2026-10-01T12:00")
    assert hours.state("Mo-Su 09:00-17:00; PH off", national_day)[0] == "closed"


def test_times_without_offset_are_china_standard_time_and_offsets_are_honoured():
    local = hours.parse_when("2026-11-23T12:00")
    utc = hours.parse_when("2026-11-23T04:00Z")
    assert local == utc
    assert hours.parse_when(datetime(2026, 11, 23, 4, tzinfo=UTC)) == local


def test_next_change():
    state, change = hours.state("Mo-Fr 09:30-17:00", hours.parse_when(MONDAY_NOON))
    assert state == "open" and change.isoformat() == "2026-11-23T17:00:00+08:00"
    assert hours.state("24/7", hours.parse_when(MONDAY_NOON))[1] is None


def test_is_open_vectorised_and_never_open_when_unknown():
    when = hours.parse_when(MONDAY_NOON)
    result = hours.is_open(["24/7", "", "Mo-Fr 09:00-17:00 unknown", "Mo-Fr 09:30-17:00", "24/7"], when)
    assert result.tolist() == [True, False, False, True, True]


def test_problem_names_the_expression():
    assert hours.problem("Mo-Fr 09:30-17:00") is None
    assert hours.problem("") is None
    message = hours.problem("open sometimes")
    assert "opening_hours" in message and "open sometimes" in message


@pytest.mark.parametrize("bad", ["tomorrow", "2026-13-01T00:00", "12:00"])
def test_parse_when_refuses_non_iso(bad):
    with pytest.raises(ValueError, match="ISO 8601"):
        hours.parse_when(bad)


def test_now_is_aware():
    assert hours.parse_when("now").utcoffset().total_seconds() == 8 * 3600


def test_a_week_starts_on_chinas_day_of_the_instant_even_for_times_a_fold_makes_equal():
    # 02:15 happens twice in Adelaide on 5 April 2026 (summer time ends at 03:00): the first is
    # 23:45 on the 4th in China, the second 00:45 on the 5th. Python counts the two equal (same
    # zone, same clock: the fold is ignored, in == and in hash), so a cache keyed on the time alone
    # would give the second the first one's day.
    from zoneinfo import ZoneInfo

    adelaide = ZoneInfo("Australia/Adelaide")
    first = datetime(2026, 4, 5, 2, 15, tzinfo=adelaide, fold=0)
    second = datetime(2026, 4, 5, 2, 15, tzinfo=adelaide, fold=1)
    assert first == second and hash(first) == hash(second) and first.utcoffset() != second.utcoffset()
    for when in (first, second, first, second):
        expected = when.astimezone(hours.TIMEZONE).date().isoformat()
        assert hours.week("Mo-Su 09:00-17:00", when)[0]["date"] == expected
