"""How long a straight-line distance takes, with the assumptions stated wherever it is used.

Workers ask "how long", not "how far". Street networks are not modelled: the estimate is the
geodesic distance times a detour factor, at a typical speed. Every output that shows minutes
also shows these assumptions (see :func:`assumptions`).

Examples
--------
>>> round(minutes(1000, "walk"), 1)          # 1 km straight line ≈ 1.3 km of streets at 5 km/h
15.6
"""

from __future__ import annotations

from collections.abc import Mapping

#: A typical street-network detour over the straight line (domain notes: about 1.3).
DETOUR_FACTOR = 1.3
#: Speeds in km/h: walking, and an e-bike as delivery riders use it.
SPEEDS_KMH: Mapping[str, float] = {"walk": 5.0, "ebike": 15.0}
MODES = tuple(SPEEDS_KMH)


def minutes(distance_m: float, mode: str = "walk", detour: float = DETOUR_FACTOR) -> float:
    """Estimated minutes to cover ``distance_m`` straight-line metres by ``mode``."""
    return distance_m * detour / (SPEEDS_KMH[mode] * 1000.0 / 60.0)


def reach_m(minutes_: float, mode: str = "walk", detour: float = DETOUR_FACTOR) -> float:
    """Straight-line metres reachable in ``minutes_`` by ``mode`` (15 min walk ≈ 962 m)."""
    return minutes_ * SPEEDS_KMH[mode] * 1000.0 / 60.0 / detour


def assumptions(mode: str, lang: str = "zh", detour: float = DETOUR_FACTOR) -> str:
    """One sentence stating the estimate's assumptions, in ``lang``."""
    speed = SPEEDS_KMH[mode]
    if lang == "en":
        how = "walking" if mode == "walk" else "by e-bike"
        return (f"Estimate: straight-line distance × {detour:g} for street detours, {how} at {speed:g} km/h.")
    how = "步行" if mode == "walk" else "电动自行车"
    return f"估算：直线距离 × {detour:g}（道路绕行系数），{how}速度 {speed:g} 公里/小时。"
