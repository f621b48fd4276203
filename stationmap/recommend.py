"""Where to build next: new sites that cover the most people not yet within reach of a station.

Demand is the coverage report's H3 cells, each weighted by the residents in it (a district's
population spread evenly over its cells; by area where population is unknown). Candidate
sites are the centres of uncovered cells. A new site covers a cell within the threshold's
radius, measured geodesically (chords from a k-d tree, then geodesic metres).

Existing stations are pinned: they stay, and what they already cover is already counted. In a
maximal covering model that is the same as leaving covered demand out, which is what keeps the
model small; ``tests/test_recommend.py`` checks the equivalence against spopt's own pinning.

* :func:`optimal_sites`: spopt's maximal covering location model (MCLP) solved by HiGHS —
  the optimum, for problems up to :data:`SOLVER_LIMIT` demand × candidate pairs.
* :func:`greedy_sites`: repeatedly the site with the largest remaining gain — within
  (1 − 1/e) ≈ 63 % of the optimum in theory, and usually at it (compared in the tests) — for
  anything larger.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from . import coords, geodesy
from .coverage import CoverageReport
from .errors import InputError

#: Largest demand × candidate matrix handed to the solver (about 16 MB of float64).
SOLVER_LIMIT = 2_000_000
#: Seconds HiGHS may search; a model not proven optimal by then gets the greedy answer, which
#: says so (``method``: ``greedy-after-time-limit``). Two planners asking for 20 sites at once
#: once held both web workers until gunicorn killed them.
SOLVER_TIME_LIMIT_S = 10.0


#: Most candidate sites one question considers: uncovered cell centres beyond this many are
#: thinned evenly (every n-th, in the report's order). A whole city at 12 minutes' walk has
#: hundreds of thousands of uncovered cells; every one a candidate made the coverage matrix
#: (candidates × cells within reach) run to gigabytes and minutes, before any solver.
MAX_CANDIDATES = 20_000


class SolverTimeLimit(Exception):
    """HiGHS did not prove an optimum within its time limit."""


@dataclass(frozen=True)
class Problem:
    """Uncovered demand points, candidate sites, and which candidate covers which demand."""

    demand_lon: np.ndarray
    demand_lat: np.ndarray
    weight: np.ndarray                 # residents (or km² where population is unknown)
    candidate_lon: np.ndarray
    candidate_lat: np.ndarray
    covers: list[np.ndarray]           # per candidate: indices of demand within the radius
    radius_m: float

    @property
    def size(self) -> int:
        """Demand points times candidate sites: the size of the covering model."""
        return len(self.weight) * len(self.covers)


def problem_from_report(report: CoverageReport, districts, demand=None, index=None) -> Problem:
    """The uncovered cells of ``report`` as demand (or, given a ``demand`` layer and the
    station ``index``, its points not yet within reach), their centres as candidate sites.
    """
    cells = report.cells
    population = districts.set_index("adcode")["population"] if "population" in districts else None
    weight = cells["area_km2"].to_numpy(dtype=float).copy()
    if population is not None:
        for adcode, group in cells.groupby("adcode").groups.items():
            people = population.get(adcode)
            if people is not None and not pd.isna(people):
                share = cells.loc[group, "area_km2"] / cells.loc[group, "area_km2"].sum()
                weight[np.asarray(group)] = float(people) * share.to_numpy()
    uncovered = cells["distance_m"].to_numpy() > report.threshold.radius_m
    lon, lat = cells["lon"].to_numpy()[uncovered], cells["lat"].to_numpy()[uncovered]
    pick = np.unique(np.linspace(0, len(lon) - 1, MAX_CANDIDATES).round().astype(np.int64)) \
        if len(lon) > MAX_CANDIDATES else slice(None)
    if demand is None:
        return build_problem(lon, lat, weight[uncovered], lon[pick], lat[pick], report.threshold.radius_m)
    inside = shapely.contains_xy(shapely.union_all(districts.geometry.array), demand.geometry.x, demand.geometry.y)
    points = demand[inside]
    _, reach = index.nearest_batch(points.geometry.x, points.geometry.y, k=1, filters=report.filters)
    far = np.nan_to_num(reach[:, 0], nan=np.inf) > report.threshold.radius_m
    return build_problem(points.geometry.x.to_numpy()[far], points.geometry.y.to_numpy()[far],
                         points["weight"].to_numpy()[far], lon[pick], lat[pick], report.threshold.radius_m)


def build_problem(demand_lon, demand_lat, weight, candidate_lon, candidate_lat, radius_m: float) -> Problem:
    """Which candidate covers which demand point, exactly (geodesic metres ≤ ``radius_m``)."""
    demand_lon, demand_lat = np.asarray(demand_lon, float), np.asarray(demand_lat, float)
    candidate_lon, candidate_lat = np.asarray(candidate_lon, float), np.asarray(candidate_lat, float)
    demand_xyz = geodesy.ecef(demand_lon, demand_lat)
    candidate_xyz = geodesy.ecef(candidate_lon, candidate_lat)
    if not len(demand_lon) or not len(candidate_lon):
        return Problem(demand_lon, demand_lat, np.asarray(weight, float), candidate_lon, candidate_lat,
                       [np.zeros(0, np.int64) for _ in candidate_lon], radius_m)
    near = cKDTree(demand_xyz).query_ball_point(candidate_xyz, r=radius_m + geodesy.CHORD_SLACK_M, workers=-1)
    counts = np.fromiter((len(h) for h in near), dtype=np.int64, count=len(near))
    j = np.repeat(np.arange(len(near)), counts)
    i = np.fromiter((k for hits in near for k in hits), dtype=np.int64, count=int(counts.sum()))
    # One vectorised geodesic call for every (candidate, demand) pair the chords allow.
    keep = geodesy.geodesic_from_chord(candidate_lon[j], candidate_lat[j], candidate_xyz[j],
                                       demand_lon[i], demand_lat[i], demand_xyz[i]) <= radius_m
    order = np.lexsort((i[keep], j[keep]))
    kept_j, kept_i = j[keep][order], i[keep][order]
    covers = np.split(kept_i, np.searchsorted(kept_j, np.arange(1, len(candidate_lon))))
    return Problem(demand_lon, demand_lat, np.asarray(weight, float), candidate_lon, candidate_lat, covers, radius_m)


def greedy_sites(problem: Problem, n: int) -> list[tuple[int, float]]:
    """``n`` candidates, each the largest remaining gain; ``[(candidate, gain)]`` in order chosen.

    Lazy evaluation: a candidate's gain can only shrink as others are chosen, so a stale gain
    at the top of the heap is recomputed before it is trusted.
    """
    covered = np.zeros(len(problem.weight), dtype=bool)
    heap = [(-float(problem.weight[c].sum()), j) for j, c in enumerate(problem.covers)]
    heapq.heapify(heap)
    chosen: list[tuple[int, float]] = []
    while heap and len(chosen) < n:
        stale, j = heapq.heappop(heap)
        gain = float(problem.weight[problem.covers[j]][~covered[problem.covers[j]]].sum())
        if heap and gain < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-gain, j))
            continue
        if gain <= 0:
            break
        chosen.append((j, gain))
        covered[problem.covers[j]] = True
    return chosen


def optimal_sites(problem: Problem, n: int, pinned: list[int] | None = None,
                  time_limit_s: float | None = None) -> list[tuple[int, float]]:
    """The optimum by spopt's MCLP and HiGHS; ``[(candidate, gain)]`` ordered by marginal gain.

    Raises :class:`SolverTimeLimit` when HiGHS has not proven the optimum in ``time_limit_s``
    (default :data:`SOLVER_TIME_LIMIT_S`).
    """
    import pulp
    from spopt.locate import MCLP

    if problem.size > SOLVER_LIMIT:
        raise InputError(f"{problem.size:,} demand × candidate pairs exceed the solver limit "
                         f"({SOLVER_LIMIT:,}); use the greedy method", field="recommend")
    if not len(problem.weight) or not len(problem.covers):
        return []
    far = problem.radius_m * 10
    cost = np.full((len(problem.weight), len(problem.covers)), far)
    for j, hits in enumerate(problem.covers):
        cost[hits, j] = 0.0
    pins = None
    if pinned:
        pins = np.zeros(len(problem.covers), dtype=int)
        pins[pinned] = 1
    model = MCLP.from_cost_matrix(cost, problem.weight, service_radius=problem.radius_m,
                                  p_facilities=n + len(pinned or []), predefined_facilities_arr=pins)
    limit = SOLVER_TIME_LIMIT_S if time_limit_s is None else time_limit_s
    try:
        model = model.solve(pulp.HiGHS(msg=False, timeLimit=limit))
    except Exception as error:                 # spopt's check_status: not optimal (time limit hit)
        raise SolverTimeLimit(str(error)) from error
    if pulp.LpStatus[model.problem.status] != "Optimal":
        raise SolverTimeLimit(pulp.LpStatus[model.problem.status])
    picked = [j for j in range(len(problem.covers))
              if pulp.value(model.fac_vars[j]) > 0.5 and j not in (pinned or [])]
    # Order by marginal gain, as a planner would build them.
    covered = np.zeros(len(problem.weight), dtype=bool)
    for j in pinned or []:
        covered[problem.covers[j]] = True
    ordered = []
    remaining = list(picked)
    while remaining:
        gains = [float(problem.weight[problem.covers[j]][~covered[problem.covers[j]]].sum()) for j in remaining]
        best = int(np.argmax(gains))
        j = remaining.pop(best)
        ordered.append((j, gains[best]))
        covered[problem.covers[j]] = True
    return ordered


def recommend(report: CoverageReport, districts, n: int, *, method: str = "auto", demand=None,
              index=None, time_limit_s: float | None = None) -> pd.DataFrame:
    """``n`` new sites for the area of ``report``, best first, with each one's gain.

    ``method``: ``optimal`` (MCLP + HiGHS), ``greedy``, or ``auto`` (optimal when the problem
    fits :data:`SOLVER_LIMIT`). The solver searches at most ``time_limit_s`` (default
    :data:`SOLVER_TIME_LIMIT_S`); then the greedy answer is given, and every row's ``method``
    says ``greedy-after-time-limit``.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise InputError(f"{n!r} must be a whole number ≥ 1", field="recommend")
    if demand is not None and index is None:
        raise InputError("a demand layer needs the station index to know what is already covered", field="demand")
    problem = problem_from_report(report, districts, demand, index)
    use_solver = method == "optimal" or (method == "auto" and problem.size <= SOLVER_LIMIT)
    label = "mclp-highs" if use_solver else "greedy"
    try:
        chosen = optimal_sites(problem, n, time_limit_s=time_limit_s) if use_solver else greedy_sites(problem, n)
    except SolverTimeLimit:
        chosen, label = greedy_sites(problem, n), "greedy-after-time-limit"
    total = float(problem.weight.sum()) if len(problem.weight) else 0.0
    rows = []
    cumulative = 0.0
    for rank, (j, gain) in enumerate(chosen, start=1):
        cumulative += gain
        lon, lat = float(problem.candidate_lon[j]), float(problem.candidate_lat[j])
        gcj = coords.wgs84_to_gcj02(lon, lat)
        rows.append({"rank": rank, "lon": round(lon, 6), "lat": round(lat, 6),
                     "gcj02_lon": round(float(gcj[0]), 6), "gcj02_lat": round(float(gcj[1]), 6),
                     "gain": round(gain, 1),
                     "gain_share_of_uncovered_pct": round(100 * gain / total, 3) if total else 0.0,
                     "cumulative_gain": round(cumulative, 1),
                     "method": label})
    return pd.DataFrame(rows, columns=["rank", "lon", "lat", "gcj02_lon", "gcj02_lat", "gain",
                                       "gain_share_of_uncovered_pct", "cumulative_gain", "method"])
