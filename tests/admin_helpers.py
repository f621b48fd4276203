"""What the admin tests share: a seeded store with one account of each role, signing in through
the real form (CSRF token and all), and reading a form's fields back out of its HTML.
"""

from __future__ import annotations

import html
import re

import pandas as pd

from stationmap.accounts import Account
from stationmap.stations import from_frame, read_stations
from stationmap.store import Store

PASSWORD = "correct horse battery staple"
SECRET = "test-secret-key-" + "x" * 32
HOSTILE = '<img src=x onerror="alert(1)">驿站'
#: A Xuhui (310104) station, a Pudong (310115) one, and one with markup in its name (Xuhui).
XUHUI, PUDONG, EVIL = "SH-310104-0001", "SH-310115-0001", "EVIL-1"
#: name → (role, districts)
PEOPLE = {"ada": ("admin", ()), "xu": ("editor", ("310104",)), "vera": ("viewer", ())}


def seeded_store(url: str) -> str:
    """A store at ``url`` with the shipped sample, the hostile station and the three accounts."""
    store = Store.open(url, upgrade=True)
    evil = from_frame(pd.DataFrame({"id": [EVIL], "name": [HOSTILE], "lon": [121.44], "lat": [31.18],
                                    "adcode": ["310104"], "address": ['<script>alert("addr")</script>']}))
    store.seed(pd.concat([read_stations(), evil], ignore_index=True), file_name="sample", digest="")
    operator = Account.operator("tests")
    for name, (role, adcodes) in PEOPLE.items():
        store.add_account(name, role, adcodes, password=PASSWORD, actor=operator)
    store.close()
    return url


def csrf_token(page: str) -> str:
    """The CSRF token in a page's first form."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(client, name: str, password: str = PASSWORD, **extra):
    """Sign in through the form (GET for the token, then POST); the POST's response."""
    token = csrf_token(client.get("/admin/login").get_data(as_text=True))
    return client.post("/admin/login", data={"name": name, "password": password, "csrf_token": token, **extra})


def form_fields(page: str, form_id: str = "station-form") -> dict:
    """The values a browser would submit from the form ``form_id`` of ``page`` (amenities as a list)."""
    start = page.index(f'id="{form_id}"')
    body = page[start:page.index("</form>", start)]
    fields: dict = {}
    for tag in re.findall(r"<input [^>]*>", body):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name or name.group(1) == "amenities":
            continue
        fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, options in re.findall(r'<select id="[^"]*" name="([^"]+)">(.*?)</select>', body, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        fields[name] = html.unescape(chosen.group(1)) if chosen else ""
    fields["amenities"] = re.findall(r'name="amenities" value="([^"]+)" checked', body)
    return fields


def errors_of(page: str) -> dict[str, str]:
    """The form's messages, by field."""
    found = re.findall(r'id="err-([a-z_]+)" class="error">([^<]*)<', page)
    return {field: html.unescape(text) for field, text in found}
