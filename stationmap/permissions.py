"""Who may do what: the one place every rule of the register lives.

The store calls :func:`authorise` inside each write's transaction, with the station as it is
stored (``before``) and as the change would leave it (``after``); pages call :func:`may` only to
hide buttons a person could not use anyway. So the admin pages, the JSON write API, OGC API
Part 4 and the command line all pass through the same rules:

- ``admin``: everything, people included;
- ``editor``: stations of their districts only. A change needs the district the station is in
  *and* the district it would be in: moving a station from Xuhui (310104) to Pudong (310115)
  needs rights in both, so nobody can push a station out of their reach or pull one in. "In"
  means both the district code filed with the station and, where district outlines are known,
  the district its point stands in: a Xuhui editor cannot file a station standing in Pudong
  under Xuhui's code (nor edit one so filed). An import (or its revert) needs every touched
  station's old and new district code (a point standing outside its code's district is flagged
  in the import's report and imported as reported, for a person to look at). Never accounts;
- ``viewer``: reads the admin pages and the audit, changes nothing;
- a disabled account: nothing at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .accounts import Account
from .districts import OUTSIDE
from .errors import StationmapError

ACTIONS = ("station.create", "station.update", "station.delete", "station.restore",
           "import.apply", "import.revert", "change.undo", "report.resolve", "account.manage",
           "audit.read", "account.self")
#: Actions judged by one station's district before and after the change.
STATION_ACTIONS = ("station.create", "station.update", "station.delete", "station.restore", "change.undo",
                   "report.resolve")
_READS = ("audit.read",)


class Forbidden(StationmapError):
    """The actor may not do this (HTTP 403): the message is in Chinese and English.

    ``action`` is one of :data:`ACTIONS`, ``station_id`` the station concerned (if any),
    ``reason`` the English reason and ``reason_zh`` the Chinese one.
    """

    def __init__(self, action: str, reason: str, reason_zh: str, *, station_id: str | None = None):
        self.action, self.reason, self.reason_zh, self.station_id = action, reason, reason_zh, station_id
        super().__init__(f"{reason_zh} / {reason}")

    @property
    def message_zh(self) -> str:
        """The refusal in Chinese."""
        return self.reason_zh

    @property
    def message_en(self) -> str:
        """The refusal in English."""
        return self.reason


def _adcode(record: Mapping[str, Any] | None) -> str | None:
    if record is None:
        return None
    return str(record.get("adcode") or "")


def _districts_of(record: Mapping[str, Any] | None) -> list[str]:
    """The district a station is filed under and, where outlines are known, the one its point
    stands in (the store's records carry ``location`` as ``[lon, lat]``).
    """
    stated = _adcode(record)
    if stated is None:
        return []
    location = (record or {}).get("location")
    if not location:
        return [stated]
    from .districts import located  # outlines are read only when an editor's change is judged

    standing = located(stated, float(location[0]), float(location[1]))
    return [stated] + ([standing] if standing and standing != stated else [])


def authorise(actor: Account, action: str, *, before: Mapping[str, Any] | None = None,
              after: Mapping[str, Any] | None = None, adcodes: Iterable[str] = ()) -> None:
    """Raise :class:`Forbidden` unless ``actor`` may do ``action``.

    Parameters
    ----------
    actor
        Who acts.
    action
        One of :data:`ACTIONS`.
    before, after
        The station as stored and as the change would leave it (either may be absent: a new
        station has no ``before``, a deletion's ``after`` is the same station).
    adcodes
        For imports and their reverts: every district code a touched station had or would have.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    station_id = str((after or before or {}).get("id") or "") or None
    if actor.disabled:
        raise Forbidden(action, f"the account {actor.name!r} is disabled", f"账户 {actor.name!r} 已停用",
                        station_id=station_id)
    if actor.role == "admin":
        return
    if action in _READS and actor.role in ("viewer", "editor"):
        return
    if action == "account.self":     # one's own password and tokens
        if actor.id is not None and (before or {}).get("account_id") == actor.id:
            return
        raise Forbidden(action, "only an admin changes another person's password or tokens",
                        "只有管理员可以更改他人的密码或令牌")
    if actor.role != "editor":
        raise Forbidden(action, f"a {actor.role} may not {action}", f"{_ROLE_ZH.get(actor.role, actor.role)}无权执行"
                        f"“{_ACTION_ZH[action]}”", station_id=station_id)
    if action == "account.manage":
        raise Forbidden(action, "only an admin manages accounts", "只有管理员可以管理账户")
    if action in STATION_ACTIONS:
        wanted = _districts_of(before) + _districts_of(after)
        if not wanted:
            raise Forbidden(action, "no station given to judge the change by", "未指明站点，无法判断权限")
    else:
        wanted = [str(a or "") for a in adcodes]
    outside = sorted({a for a in wanted if a not in actor.adcodes})
    if outside:
        shown = ", ".join("(beyond the known district outlines)" if a == OUTSIDE else a or "(none)" for a in outside)
        shown_zh = "、".join("（已知区县边界以外）" if a == OUTSIDE else a or "（无）" for a in outside)
        what = f"station {station_id!r}" if station_id else "this change"
        raise Forbidden(action, f"{what} is in district {shown}, outside {actor.name!r}'s districts "
                        f"({', '.join(actor.adcodes) or 'none'})",
                        f"{'站点 ' + repr(station_id) if station_id else '此更改'}涉及区县 {shown_zh}，"
                        f"不在 {actor.name!r} 负责的区县（{'、'.join(actor.adcodes) or '无'}）内",
                        station_id=station_id)


def authorise_role(actor: Account, action: str) -> None:
    """Raise :class:`Forbidden` unless ``actor``'s role may do ``action`` somewhere.

    The check a write makes *before* it looks anything up, so that whether a station, a version
    or an import exists (and which version a station is at) is answered only to people who could
    act on it at all: a viewer probing ids learns nothing but "you may not". The district rule of
    :func:`authorise` still follows once the thing is found.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if actor.disabled or actor.role == "admin":
        authorise(actor, action)      # the disabled refusal, or the admin's yes
        return
    if action == "account.self" or (action in _READS and actor.role in ("viewer", "editor")):
        return
    if actor.role != "editor" or action == "account.manage":
        authorise(actor, action, adcodes=())     # refuses with the role's own words


def may(actor: Account | None, action: str, **kw: Any) -> bool:
    """The same rule as :func:`authorise`, as yes or no (for pages that hide what cannot be used)."""
    if actor is None:
        return False
    try:
        authorise(actor, action, **kw)
    except Forbidden:
        return False
    return True


_ROLE_ZH = {"admin": "管理员", "editor": "编辑", "viewer": "只读用户"}
_ACTION_ZH = {"station.create": "新增站点", "station.update": "修改站点", "station.delete": "删除站点",
              "station.restore": "恢复站点", "import.apply": "导入台账", "import.revert": "撤销导入",
              "change.undo": "撤销更改", "report.resolve": "处理报告", "account.manage": "管理账户",
              "audit.read": "查看审计", "account.self": "更改自己的密码或令牌"}
