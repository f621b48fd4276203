"""OGC API - Features, read by real clients (GDAL's OAPIF driver, OWSLib) from the real server."""

import json
import urllib.error
import urllib.request

import numpy as np
import pyogrio
import pytest
from owslib.ogcapi.features import Features


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.headers.get_content_type(), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type(), json.loads(error.read())


def test_gdal_reads_every_station_through_paging(live_server, shanghai):
    frame = pyogrio.read_dataframe(f"OAPIF:{live_server}/ogc", layer="stations", PAGE_SIZE=300)
    assert len(frame) == len(shanghai)                       # closed stations included
    frame = frame.set_index("id").loc[shanghai.ids]
    np.testing.assert_allclose(frame.geometry.x, shanghai.lon, atol=1e-6)
    np.testing.assert_allclose(frame.geometry.y, shanghai.lat, atol=1e-6)
    assert frame["status"].tolist() == shanghai.stations["status"].tolist()
    assert frame["name"].tolist() == shanghai.stations["name"].tolist()


def test_gdal_with_a_spatial_filter(live_server, shanghai):
    box = (121.40, 31.15, 121.55, 31.30)
    frame = pyogrio.read_dataframe(f"OAPIF:{live_server}/ogc", layer="stations", bbox=box)
    inside = (shanghai.lon >= box[0]) & (shanghai.lon <= box[2]) & (shanghai.lat >= box[1]) & (shanghai.lat <= box[3])
    assert sorted(frame["id"]) == sorted(shanghai.ids[inside])


def test_owslib(live_server, shanghai):
    api = Features(f"{live_server}/ogc")
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    assert [c["id"] for c in api.collections()["collections"]] == ["stations"]
    page = api.collection_items("stations", bbox=[121.40, 31.15, 121.55, 31.30], limit=7)
    assert page["numberReturned"] == len(page["features"]) <= 7
    assert page["numberMatched"] == int(((shanghai.lon >= 121.40) & (shanghai.lon <= 121.55)
                                         & (shanghai.lat >= 31.15) & (shanghai.lat <= 31.30)).sum())
    ids, offset = [], 0
    while True:
        page = api.collection_items("stations", limit=500, offset=offset)
        ids += [f["id"] for f in page["features"]]
        if not any(link["rel"] == "next" for link in page["links"]):
            break
        offset += 500
    assert ids == shanghai.ids.tolist()
    one = api.collection_item("stations", shanghai.ids[3])
    assert one["id"] == shanghai.ids[3] and one["geometry"]["type"] == "Point"


def test_next_links_cover_everything_once(live_server, shanghai):
    seen, url = [], f"{live_server}/ogc/collections/stations/items?limit=400&type=outdoor_worker_station"
    while url:
        status, mimetype, body = get(url)
        assert status == 200 and mimetype == "application/geo+json"
        seen += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    expected = shanghai.ids[shanghai.stations["type"].to_numpy() == "outdoor_worker_station"].tolist()
    assert seen == expected and body["numberMatched"] == len(expected)


def test_limit_is_clamped_and_filters_combine(live_server, shanghai):
    status, _, body = get(f"{live_server}/ogc/collections/stations/items?limit=5000&amenity=wifi&status=open")
    assert status == 200 and body["numberReturned"] == 1000
    assert all("wifi" in f["properties"]["amenities"].split(";") and f["properties"]["status"] == "open"
               for f in body["features"])


@pytest.mark.parametrize("query, parameter", [("bbox=1,2,3", "bbox"), ("bbox=a,b,c,d", "bbox"), ("limit=0", "limit"),
                                              ("limit=ten", "limit"), ("offset=-1", "offset"), ("type=canteen", "type"),
                                              ("amenity=sauna", "amenity"), ("bbox-crs=EPSG:3857", "bbox-crs")])
def test_bad_parameters(live_server, query, parameter):
    status, mimetype, body = get(f"{live_server}/ogc/collections/stations/items?{query}")
    assert status == 400 and mimetype == "application/problem+json"
    assert [e["parameter"] for e in body["errors"]] == [parameter]


def test_unknown_feature_and_collection(live_server):
    assert get(f"{live_server}/ogc/collections/stations/items/nope")[:2] == (404, "application/problem+json")
    assert get(f"{live_server}/ogc/collections/roads/items")[0] == 404
