"""Chinese opening hours from union registers become OSM opening_hours, or stay unknown."""

from __future__ import annotations

import pytest

from stationmap import hours
from stationmap.registers.hours_zh import to_osm

CONVERTED = [
    ("24小时", "24/7"),
    ("全天", "24/7"),
    ("全天候", "24/7"),
    ("２４小时", "24/7"),
    ("星期一到星期五 9:30-17:00", "Mo-Fr 09:30-17:00"),
    ("星期一到星期五。9:30-17:00", "Mo-Fr 09:30-17:00"),
    ("周一至周五 9:00-17:00", "Mo-Fr 09:00-17:00"),
    ("周一至周六 8:00-18:00", "Mo-Sa 08:00-18:00"),
    ("工作日 8:30-17:00", "Mo-Fr 08:30-17:00; PH off"),
    ("8:30-11:00 13:30-17:00", "08:30-11:00,13:30-17:00"),
    ("6:00-18:00", "06:00-18:00"),
    ("9:00-17:30", "09:00-17:30"),
    ("9:00—17:30", "09:00-17:30"),
    ("9:00–17:30", "09:00-17:30"),
    ("9:00～17:30", "09:00-17:30"),
    ("9:00~17:30", "09:00-17:30"),
    ("9:00至17:30", "09:00-17:30"),
    ("9:00到17:30", "09:00-17:30"),
    ("９：００－１７：３０", "09:00-17:30"),
    ("８:３０－１１:００　１３:３０～１７:００", "08:30-11:00,13:30-17:00"),
    ("周一至周五 9:00-17:00，节假日休息", "Mo-Fr 09:00-17:00; PH off"),
    ("9:00-17:00 法定节假日除外", "09:00-17:00; PH off"),
    ("周一至周五 8:00-18:00 节假日正常开放", "Mo-Fr 08:00-18:00; PH 08:00-18:00"),
    ("24小时，节假日休息", "24/7; PH off"),
    ("周一至周日 24小时", "24/7"),
    ("上午8:30-11:30 下午1:30-5:00", "08:30-11:30,13:30-17:00"),
    ("周一至周五 9:00-17:00，周六 9:00-12:00", "Mo-Fr 09:00-17:00; Sa 09:00-12:00"),
    ("9:00-17:00 周一至周五", "Mo-Fr 09:00-17:00"),
    ("8点-17点半", "08:00-17:30"),
    ("Mo-Fr 09:00-17:00; PH off", "Mo-Fr 09:00-17:00; PH off"),
]

DAYS_ONLY = [
    ("周一至周五", "Mo-Fr unknown"),
    ("周一至周六", "Mo-Sa unknown"),
    ("工作日", "Mo-Fr unknown; PH off"),
]

UNREADABLE = ["看情况", "节假日休息", "25:00-26:00", "请电话预约", "9:00-9:00", "周一至周五 9:00-17:00 预约"]


@pytest.mark.parametrize(("text", "expected"), CONVERTED)
def test_chinese_hours_become_valid_opening_hours(text, expected):
    expression, reason = to_osm(text)
    assert (expression, reason) == (expected, None)
    assert hours.problem(expression) is None


@pytest.mark.parametrize(("text", "expected"), DAYS_ONLY)
def test_days_without_times_are_unknown_on_those_days_and_reported(text, expected):
    expression, reason = to_osm(text)
    assert expression == expected and reason
    monday_noon = hours.parse_when("2026-11-23T12:00")
    assert hours.state(expression, monday_noon)[0] == "unknown"
    assert not hours.is_open([expression], monday_noon)[0]


@pytest.mark.parametrize("text", UNREADABLE)
def test_text_that_cannot_be_read_stays_unknown_with_a_reason(text):
    expression, reason = to_osm(text)
    assert expression == "" and reason


def test_empty_hours_are_unknown_without_a_problem():
    assert to_osm("") == ("", None)
    assert to_osm("  ") == ("", None)


def test_holidays_off_closes_on_national_day_but_not_on_an_ordinary_thursday():
    expression, _ = to_osm("周一至周五 9:00-17:00 节假日休息")
    assert hours.state(expression, hours.parse_when("2026-10-01T12:00"))[0] == "closed"
    assert hours.state(expression, hours.parse_when("2026-10-15T12:00"))[0] == "open"
