"""The station page /s/<id> and the printable posters, through Flask's test client and a
real browser; the posters' QR codes decoded as a phone would (zxing-cpp)."""

import io
import re
from html import unescape

import pandas as pd
import pytest

from stationmap import vocab
from stationmap.stations import from_frame, write_stations
from stationmap.web import create_app

BASE = "https://stations.example.cn"
HOSTILE = "<img src=x onerror=alert(1)>"


def _meta(html, key):
    found = re.search(r'<meta (?:name|property)="' + re.escape(key) + r'" content="([^"]*)">', html)
    return unescape(found.group(1)) if found else None


@pytest.fixture(scope="module")
def stations_file(tmp_path_factory):
    frame = pd.DataFrame({
        "id": ["ok-1", "members-1", "staff-1", "evil-1"],
        "name": ["测试爱心接力站", "测试职工之家", "测试休息室", HOSTILE],
        "lon": [121.47, 121.48, 121.49, 121.50], "lat": [31.23, 31.23, 31.23, 31.23],
        "type": ["outdoor_worker_station", "worker_home", "rest_room", "outdoor_worker_station"],
        "access": ["public", "union_members", "employees", "public"],
        "amenities": ["wifi;drinking_water;microwave", "books", "", "toilet"],
        "opening_hours": ["Mo-Fr 09:30-17:00; PH off", "24/7", "", "06:00-18:00"],
        "address": ["上海市黄浦区人民路1号", "", "", '"><script>alert(2)</script>'],
        "adcode": ["310101"] * 4,
        "last_verified": ["2026-11-01", "", "", ""],
    })
    path = tmp_path_factory.mktemp("stations") / "stations.csv"
    write_stations(from_frame(frame), path)
    return path


@pytest.fixture(scope="module")
def client(stations_file):
    return create_app({"TESTING": True, "STATIONS_PATH": str(stations_file), "PUBLIC_BASE_URL": BASE}).test_client()


def test_the_station_page_shows_name_address_week_and_facilities_in_vocabulary_order(client):
    response = client.get("/s/ok-1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Content-Language"] == "zh-CN"
    assert '<h2 id="name">测试爱心接力站</h2>' in html and "上海市黄浦区人民路1号" in html
    assert len(re.findall(r"<tr[^>]*><th scope=\"row\">", html)) == 7
    facilities = re.findall(r"<li>([^<]+)</li>", html.split('id="facilities"')[1].split("</ul>")[0])
    assert facilities == [vocab.label(vocab.AMENITIES, c) for c in ("drinking_water", "microwave", "wifi")]
    assert "2026-11-01" in html and 'id="badge"' not in html
    assert "https://uri.amap.com/navigation?to=" in html and "coordinate=gaode" in html


@pytest.mark.parametrize("station_id, zh, en", [("members-1", "会员专用", "Union members only"),
                                                 ("staff-1", "本单位职工专用", "Host employer's staff only")])
def test_stations_not_open_to_everyone_carry_an_access_badge(client, station_id, zh, en):
    assert f'id="badge">{zh}<' in client.get(f"/s/{station_id}").get_data(as_text=True)
    english = client.get(f"/s/{station_id}?lang=en").get_data(as_text=True)
    assert f'id="badge">{en.replace(chr(39), "&#39;")}<' in english


def test_link_preview_tags_use_the_configured_public_address_not_the_host_header(client):
    html = client.get("/s/ok-1", headers={"Host": "127.0.0.1"}).get_data(as_text=True)
    assert _meta(html, "og:title") == "测试爱心接力站"
    assert _meta(html, "og:url") == f"{BASE}/s/ok-1"
    assert _meta(html, "og:image") == f"{BASE}/s/ok-1/poster.png"
    assert "测试爱心接力站" in html.split("<title>")[1].split("</title>")[0]
    description = _meta(html, "description")
    assert description == _meta(html, "og:description") and "饮用水" in description and "今天" in description
    assert "127.0.0.1" not in html
    assert client.get("/s/ok-1", headers={"Host": "evil.example"}).status_code == 400     # untrusted host


def test_without_a_public_address_links_fall_back_to_the_request_url():
    client = create_app({"TESTING": True}).test_client()
    html = client.get("/s/SH-310101-0001?lang=en").get_data(as_text=True)
    assert _meta(html, "og:url") == "http://localhost/s/SH-310101-0001?lang=en"


@pytest.mark.parametrize("lang, words", [("zh", "找不到这个站点"), ("en", "Station not found")])
def test_an_unknown_station_is_a_404_page_in_the_page_language(client, lang, words):
    response = client.get(f"/s/no-such-station?lang={lang}")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert words in response.get_data(as_text=True)


def test_a_hostile_station_name_and_address_are_shown_as_text(client):
    html = client.get("/s/evil-1").get_data(as_text=True)
    assert "<img src=x" not in html and "<script>alert(2)" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert _meta(html, "og:title") == HOSTILE                  # escaped in the attribute, intact when read
    probe = client.get("/s/%3Cscript%3Ex%3C%2Fscript%3E").get_data(as_text=True)
    assert "<script>x</script>" not in probe


def _decode(png: bytes) -> list[str]:
    import zxingcpp
    from PIL import Image

    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_the_poster_qr_code_decodes_to_the_station_page_absolute_address(client):
    response = client.get("/s/ok-1/poster.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert _decode(response.data) == [f"{BASE}/s/ok-1"]
    english = client.get("/s/members-1/poster.png?lang=en")
    assert _decode(english.data) == [f"{BASE}/s/members-1?lang=en"]


def test_posters_are_a4_pdfs_with_an_etag_and_cache_control(client):
    response = client.get("/s/ok-1/poster.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf" and response.data[:5] == b"%PDF-"
    box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", response.data)
    assert box and abs(float(box.group(1)) - 595.4) < 1 and abs(float(box.group(2)) - 841.7) < 1   # A4 in points
    assert "max-age=3600" in response.headers["Cache-Control"] and "public" in response.headers["Cache-Control"]
    again = client.get("/s/ok-1/poster.pdf", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert client.get("/s/ok-1/poster.pdf?lang=en").headers["ETag"] != response.headers["ETag"]
    assert client.get("/s/no-such/poster.pdf").status_code == 404


def test_a_hostile_name_is_drawn_as_text_on_the_poster(client):
    assert client.get("/s/evil-1/poster.png").status_code == 200


def test_the_district_poster_lists_its_stations_with_a_qr_code_to_the_worker_page(client):
    response = client.get("/d/310101/poster.png")
    assert response.status_code == 200
    assert _decode(response.data) == [f"{BASE}/?district=310101"]
    pdf = client.get("/d/310101/poster.pdf")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    bad = client.get("/d/440300/poster.pdf")
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"
