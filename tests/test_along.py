"""Along-route at a bounded cost (stationmap/along.py), checked against the first, brute-force answer."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from stationmap import geodesy
from stationmap.errors import InputError
from stationmap.filters import Filters
from stationmap.routes import ROUTE_STEP_DEG as _ROUTE_STEP_DEG


def brute_force(index, route: shapely.LineString, distance_m: float):
    """The first along-route: every (route vertex, station in reach) pair, then each station's best."""
    dense = np.asarray(shapely.segmentize(route, _ROUTE_STEP_DEG).coords)
    vlon, vlat = dense[:, 0], dense[:, 1]
    vxyz = geodesy.ecef(vlon, vlat)
    piece_m = geodesy.geodesic_m(vlon[:-1], vlat[:-1], vlon[1:], vlat[1:])
    start_m = np.concatenate([[0.0], np.cumsum(piece_m)])
    reach = distance_m + np.linalg.norm(vxyz[1:] - vxyz[:-1], axis=1).max() / 2 + geodesy.CHORD_SLACK_M
    best: dict[int, tuple[float, float]] = {}
    vertices, stations = index.near_points(vxyz, reach)
    for v, s in zip(vertices.tolist(), stations.tolist(), strict=True):
        if True:
            for piece in (v - 1, v):
                if not 0 <= piece < len(piece_m):
                    continue
                a, b, p = vxyz[piece], vxyz[piece + 1], index.xyz[s]
                t = float(np.clip(np.dot(p - a, b - a) / max(np.dot(b - a, b - a), 1e-12), 0, 1))
                flon = vlon[piece] + t * (vlon[piece + 1] - vlon[piece])
                flat = vlat[piece] + t * (vlat[piece + 1] - vlat[piece])
                d = float(geodesy.geodesic_m(np.array([flon]), np.array([flat]),
                                             index.lon[s:s + 1], index.lat[s:s + 1])[0])
                if s not in best or d < best[s][0]:
                    best[s] = (d, start_m[piece] + t * piece_m[piece])
    admitted = index.admitted(np.array(sorted(best), dtype=np.int64), Filters())
    return {s: best[s] for s, ok in zip(sorted(best), admitted, strict=True) if ok and best[s][0] <= distance_m}


ROUTES = {
    "a ring road arc": shapely.LineString([(121.40, 31.20), (121.45, 31.26), (121.52, 31.25), (121.55, 31.19)]),
    "a long straight ride": shapely.LineString([(121.20, 31.00), (121.70, 31.40)]),
    "a delivery loop": shapely.LineString([(121.47, 31.23), (121.49, 31.23), (121.49, 31.25), (121.47, 31.25),
                                           (121.47, 31.231)]),
}


@pytest.mark.parametrize("name", ROUTES)
@pytest.mark.parametrize("distance_m", [300, 2000])
def test_along_route_gives_the_brute_force_answer_on_ordinary_routes(shanghai, name, distance_m):
    route = ROUTES[name]
    matches = shanghai.along_route(route, distance_m)
    expected = brute_force(shanghai, route, distance_m)
    assert sorted(matches.positions.tolist()) == sorted(expected)
    for s, d, a in zip(matches.positions, matches.distance_m, matches.along_m, strict=True):
        assert d == pytest.approx(expected[s][0], abs=1e-6)
        assert a == pytest.approx(expected[s][1], abs=1e-3)


def test_a_ten_thousand_vertex_zigzag_at_fifty_kilometres_is_bounded(shanghai):
    import resource

    x = np.linspace(121.3, 121.6, 10_000)
    y = 31.2 + 0.02 * (np.arange(10_000) % 2)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    matches = shanghai.along_route(shapely.LineString(np.column_stack([x, y])), 50_000)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert len(matches) > 0 and grown_mb < 300


def test_a_route_too_long_for_one_query_is_refused_naming_the_route(shanghai):
    x = np.tile([73.0, 135.0], 5_000)
    y = np.linspace(18.0, 53.0, 10_000)
    with pytest.raises(InputError) as error:
        shanghai.along_route(shapely.LineString(np.column_stack([x, y])), 1000)
    assert error.value.field == "route"
