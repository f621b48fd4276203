"""Posters are drawn in the request's worker: a client may not make it draw without limit."""

from stationmap.web import create_app


def test_posters_drawn_for_one_client_count_against_the_picture_limit_but_repeats_are_free():
    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": True, "RATELIMIT_PICTURES": "2 per minute"})
    client = app.test_client()
    first = client.get("/s/SH-310101-0001/poster.png")
    assert first.status_code == 200
    for _ in range(3):          # served from memory: not drawn again, not counted
        assert client.get("/s/SH-310101-0001/poster.png").status_code == 200
    assert client.get("/s/SH-310101-0001/poster.png",
                      headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert client.get("/s/SH-310101-0002/poster.png").status_code == 200
    refused = client.get("/s/SH-310101-0003/poster.png")
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    assert "Retry-After" in refused.headers
