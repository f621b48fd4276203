"""What the API adds for riders: served-area verdict, the week's hours, detours, cached outlines."""

import numpy as np

from stationmap import hours, travel
from stationmap.districts import area_contains, load_districts


def test_nearest_says_whether_the_point_is_inside_the_served_area_and_names_it(client):
    inside = client.get("/api/v1/stations/nearest?lat=31.2304&lon=121.4737&k=1").get_json()["query"]
    hangzhou = client.get("/api/v1/stations/nearest?lat=30.2741&lon=120.1551&k=1&lang=en").get_json()["query"]
    assert inside["in_served_area"] is True and inside["served_area"] == {"adcode": "310100", "name": "上海市"}
    assert hangzhou["in_served_area"] is False and hangzhou["served_area"]["name"] == "Shanghai"


def test_area_contains_agrees_with_the_districts_one_by_one():
    districts = load_districts("310100")
    for shape in districts.geometry.iloc[:5]:
        inner = shape.representative_point()
        assert area_contains("310100", inner.x, inner.y)
    assert not area_contains("310100", 116.397, 39.909)                 # Beijing


def test_nearest_cards_carry_the_week_in_the_page_language(client):
    body = client.get("/api/v1/stations/nearest?lat=31.2304&lon=121.4737&k=3&lang=en").get_json()
    for record in body["results"]:
        if record["status"] == "open":
            assert len(record["week_hours"]) == 7
            assert record["week_hours"][0]["day"] in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def test_week_matches_the_state_at_each_hour():
    start = hours.parse_when("2026-11-23T00:00")                       # a Monday
    days = hours.week("Mo-Fr 09:30-17:00; Sa 10:00-12:00", start, "en")
    assert [d["hours"] for d in days] == ["09:30–17:00"] * 5 + ["10:00–12:00", "closed"]
    assert hours.week("24/7", start, "zh")[0]["hours"] == "全天"
    assert hours.week("not hours at all", start, "zh")[0]["hours"] == "不详"


def test_along_route_detour_is_twice_the_distance_by_the_mode(client):
    route = {"type": "LineString", "coordinates": [[121.45, 31.22], [121.50, 31.24]]}
    body = client.post("/api/v1/stations/along-route",
                       json={"route": route, "distance_m": 400, "mode": "walk"}).get_json()
    assert body["count"] > 0
    for record in body["results"]:
        assert abs(record["detour_minutes"] - travel.minutes(2 * record["distance_m"], "walk")) < 0.06


def test_district_outlines_have_an_etag_and_cache_control(client):
    first = client.get("/api/v1/districts")
    assert first.status_code == 200 and first.headers["ETag"]
    assert "max-age=" in first.headers["Cache-Control"] and "public" in first.headers["Cache-Control"]
    again = client.get("/api/v1/districts", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    gcj = client.get("/api/v1/districts?coordsys=gcj02")
    assert gcj.headers["ETag"] != first.headers["ETag"]


def test_amenities_come_in_the_vocabulary_order(client):
    from stationmap import vocab

    order = list(vocab.AMENITIES)
    body = client.get("/api/v1/stations/nearest?lat=31.2304&lon=121.4737&k=50").get_json()
    lists = [[a["code"] for a in r["amenities"]] for r in body["results"]]
    assert any(len(codes) > 1 for codes in lists)
    for codes in lists:
        assert codes == sorted(codes, key=order.index)


def test_the_served_area_test_equals_the_outline_test_in_and_around_its_bounds_and_on_its_vertices():
    import shapely

    outline = shapely.union_all(np.asarray(load_districts("310100").geometry.array))
    west, south, east, north = outline.bounds
    rng = np.random.default_rng(15)
    lon = rng.uniform(west - 0.2, east + 0.2, 3000)
    lat = rng.uniform(south - 0.2, north + 0.2, 3000)
    vertices = shapely.get_coordinates(outline.boundary)[::50]
    edges = np.array([[west, (south + north) / 2], [east, (south + north) / 2],
                      [(west + east) / 2, south], [(west + east) / 2, north]])
    points = np.vstack([np.column_stack([lon, lat]), vertices, edges])
    expected = shapely.intersects_xy(outline, points[:, 0], points[:, 1])
    got = np.array([area_contains("310100", float(x), float(y)) for x, y in points])
    assert expected.any() and not expected.all() and expected[3000:3000 + len(vertices)].all()
    assert (got == expected).all()


def test_the_outlines_westmost_eastmost_southmost_and_northmost_points_are_in_the_served_area():
    import shapely

    outline = shapely.union_all(np.asarray(load_districts("310100").geometry.array))
    points = shapely.get_coordinates(outline.boundary)
    for i in (points[:, 0].argmin(), points[:, 0].argmax(), points[:, 1].argmin(), points[:, 1].argmax()):
        assert area_contains("310100", float(points[i, 0]), float(points[i, 1])), points[i]
