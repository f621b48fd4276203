"""The admin import and audit pages say everything in both languages."""

import string

from stationmap.texts_admin_register import PAGES, page_text


def test_every_page_has_the_same_words_in_chinese_and_english_with_the_same_fields():
    for name, languages in PAGES.items():
        assert set(languages["zh"]) == set(languages["en"]), name
        for key, zh in languages["zh"].items():
            fields = {f for _, f, _, _ in string.Formatter().parse(zh) if f}
            assert fields == {f for _, f, _, _ in string.Formatter().parse(languages["en"][key]) if f}, (name, key)
    assert page_text("admin_import", "fr") == page_text("admin_import", "zh")
