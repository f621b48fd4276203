"""Page texts: one place, both languages, the same keys in each."""

import pytest

from stationmap import vocab
from stationmap.texts import PAGES


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_page_says_everything_in_both_languages(page):
    assert set(PAGES[page]) == set(vocab.LANGUAGES)
    assert set(PAGES[page]["zh"]) == set(PAGES[page]["en"])
    assert all(PAGES[page][lang][key] for lang in vocab.LANGUAGES for key in PAGES[page][lang])
