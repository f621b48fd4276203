"""Review findings (review6) on the PostgreSQL COPY path of an import: each test shows one."""

from __future__ import annotations

import pandas as pd

from stationmap.accounts import Account
from stationmap.stations import from_frame
from stationmap.store import Store

OP = Account.operator("tester")


def test_an_import_over_a_connection_whose_client_encoding_is_not_utf8_stores_the_chinese_it_was_given(postgres):
    """The COPY text is encoded as UTF-8 whatever the connection's ``client_encoding`` says
    (psycopg's ``write_row`` used the connection's encoding); an operator whose environment
    sets ``PGCLIENTENCODING=GBK`` (or a URL with ``client_encoding``) gets every name mangled
    or the import refused, while every other statement still writes correctly.
    """
    url = postgres.database() + "?client_encoding=GBK"
    store = Store.open(url, upgrade=True)
    try:
        frame = from_frame(pd.DataFrame([{"id": "G-1", "name": "户外劳动者驿站", "address": "南京东路1号",
                                          "lon": "121.47", "lat": "31.23"}]))
        store.apply_import(frame, actor=OP, reason="编码", file_name="gbk.csv")
        stored = store.get("G-1")
        assert (stored["name"], stored["address"]) == ("户外劳动者驿站", "南京东路1号")
    finally:
        store.close()
