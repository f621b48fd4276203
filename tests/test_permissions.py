"""The rules, all in one place: every role × action × district combination against a plain table."""

from __future__ import annotations

import itertools

import pytest

from stationmap.accounts import Account
from stationmap.permissions import ACTIONS, STATION_ACTIONS, Forbidden, authorise, may

XUHUI, PUDONG, HONGKOU = "310104", "310115", "310109"
ACTORS = {
    "admin": Account(1, "chen", "admin"),
    "editor-xuhui": Account(2, "xu", "editor", (XUHUI,)),
    "editor-both": Account(3, "li", "editor", (XUHUI, PUDONG)),
    "viewer": Account(4, "wang", "viewer"),
    "disabled-admin": Account(5, "old", "admin", disabled=True),
    "operator": Account.operator("root"),
}


def expected(actor: Account, action: str, before: str | None, after: str | None) -> bool:
    """The rule written out as plainly as possible, to check the real one against."""
    if actor.disabled:
        return False
    if actor.role == "admin":
        return True
    if action == "audit.read":
        return True
    if actor.role == "viewer" or action in ("account.manage", "account.self"):
        return False
    touched = [a for a in (before, after) if a is not None]
    return bool(touched) and all(a in actor.adcodes for a in touched)


@pytest.mark.parametrize("who", ACTORS)
def test_every_station_rule_matches_the_plain_table(who):
    actor = ACTORS[who]
    districts = [None, XUHUI, PUDONG, HONGKOU, ""]
    for action, before, after in itertools.product([*STATION_ACTIONS, "audit.read", "account.manage"],
                                                    districts, districts):
        kw = {"before": None if before is None else {"id": "S", "adcode": before},
              "after": None if after is None else {"id": "S", "adcode": after}}
        assert may(actor, action, **kw) == expected(actor, action, before, after), (who, action, before, after)


def test_a_station_moved_from_xuhui_to_pudong_needs_rights_in_both():
    move = {"before": {"id": "SH-1", "adcode": XUHUI}, "after": {"id": "SH-1", "adcode": PUDONG}}
    with pytest.raises(Forbidden) as refusal:
        authorise(ACTORS["editor-xuhui"], "station.update", **move)
    assert refusal.value.station_id == "SH-1" and PUDONG in refusal.value.reason and PUDONG in refusal.value.reason_zh
    assert XUHUI not in refusal.value.reason.split("district")[1].split(",")[0]
    authorise(ACTORS["editor-both"], "station.update", **move)


def test_an_import_needs_every_district_it_touches():
    for action in ("import.apply", "import.revert"):
        assert may(ACTORS["editor-both"], action, adcodes=[XUHUI, PUDONG])
        assert not may(ACTORS["editor-xuhui"], action, adcodes=[XUHUI, PUDONG])
        assert not may(ACTORS["editor-xuhui"], action, adcodes=[XUHUI, ""])
        assert may(ACTORS["editor-xuhui"], action, adcodes=[XUHUI])
        assert not may(ACTORS["viewer"], action, adcodes=[])
        assert may(ACTORS["admin"], action, adcodes=[HONGKOU])


def test_people_change_their_own_password_and_tokens_only():
    for who, actor in ACTORS.items():
        assert may(actor, "account.self", before={"account_id": actor.id}) == (not actor.disabled), who
        assert may(actor, "account.self", before={"account_id": 99}) == (actor.role == "admin"
                                                                         and not actor.disabled), who


def test_refusals_speak_chinese_and_english_and_unknown_actions_are_a_programming_error():
    with pytest.raises(Forbidden) as refusal:
        authorise(ACTORS["viewer"], "station.delete", before={"id": "S", "adcode": XUHUI})
    assert "只读用户" in str(refusal.value) and "viewer" in str(refusal.value)
    assert refusal.value.action == "station.delete"
    with pytest.raises(ValueError):
        authorise(ACTORS["admin"], "station.burn")
    assert not may(None, "audit.read") and set(STATION_ACTIONS) <= set(ACTIONS)


def test_who_names_people_tokens_and_the_command_line():
    assert ACTORS["editor-xuhui"].who == "user:xu" and ACTORS["operator"].who == "cli:root"
    assert Account(2, "xu", "editor", (XUHUI,), token_label="sync").who == "token:xu/sync"
    assert ACTORS["editor-xuhui"].acting_from("api", "10.0.0.1").address == "10.0.0.1"
    with pytest.raises(ValueError):
        ACTORS["admin"].acting_from("carrier pigeon")
