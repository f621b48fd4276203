"""The nearest endpoint's fast parameter path gives exactly what its marshmallow schema gives."""

import itertools

import pytest
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from stationmap.web.fastargs import FastQuery
from stationmap.web.schemas import NearestArgs

FAST = FastQuery(NearestArgs(), slow=("open_now", "open_at"))
VALUES = {
    "lat": ["31.23", "-90", "90", "90.0001", "1e1", "nan", "", " 31", "+31.5", ".5", "31."],
    "lon": ["121.47", "180", "-180.5", "inf", "0x10", "121"],
    "k": ["5", "0", "50", "51", "5.0", "+3", "007"],
    "radius_m": ["2000", "0.5", "1", "50000", "50000.1", "-3"],
    "coordsys": ["gcj02", "GCJ02", "wgs84"],
    "mode": ["ebike", "car"],
    "lang": ["en", "fr"],
    "f": ["geojson", "xml"],
}


def _cases():
    yield {"lat": "31.23", "lon": "121.47"}
    for name, values in VALUES.items():
        for value in values:
            yield {"lat": "31.23", "lon": "121.47", name: value}
    for lat, lon, k in itertools.product(VALUES["lat"][:4], VALUES["lon"][:3], VALUES["k"][:3]):
        yield {"lat": lat, "lon": lon, "k": k}
    yield {"lat": "31.23"}
    yield {"lat": "31.23", "lon": "121.47", "cachebuster": "1"}
    yield {"lat": "31.23", "lon": "121.47", "type": "driver_home"}
    yield {"lat": "31.23", "lon": "121.47", "open_now": "true"}


@pytest.mark.parametrize("query", list(_cases()), ids=str)
def test_fast_path_returns_what_the_schema_loads_or_steps_aside(query):
    fast = FAST.parse(MultiDict(query))
    try:
        expected = NearestArgs().load(query)
    except ValidationError:                 # invalid: the schema must be the one to say so
        assert fast is None
        return
    assert fast is None or fast == expected


def test_plain_rider_queries_take_the_fast_path():
    assert FAST.parse(MultiDict({"lat": "31.23", "lon": "121.47", "k": "5", "radius_m": "2000"})) is not None


def test_repeated_parameters_go_to_the_schema():
    assert FAST.parse(MultiDict([("lat", "31"), ("lat", "32"), ("lon", "121")])) is None
