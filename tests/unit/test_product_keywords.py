"""Product keywords: how typed keywords are tidied and limited, and the demo store's own."""

import pytest
from sqlalchemy import select

from checkout.catalog.errors import InvalidValue
from checkout.catalog.values import KEYWORDS_MAX, parse_keywords
from checkout.demo.store import seed_demo_store
from checkout.extensions import db
from checkout.models import Product


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("", ""),
        ("   ", ""),
        ("chai", "chai"),
        ("chai,tea", "chai, tea"),
        (" chai ;  masala   chai\n tea ", "chai, masala chai, tea"),
        ("Chai, chai, CHAI, tea", "Chai, tea"),
        (",, chai ,,", "chai"),
        ("चाय, chai", "चाय, chai"),
    ],
)
def test_keywords_are_split_on_commas_semicolons_and_lines_and_repeats_dropped(typed, kept):
    assert parse_keywords(typed) == kept


def test_one_keyword_or_all_of_them_too_long_is_refused_with_the_limit():
    with pytest.raises(InvalidValue, match="A keyword can be at most 60 characters"):
        parse_keywords("x" * 61)
    with pytest.raises(InvalidValue, match=f"at most {KEYWORDS_MAX} characters in all"):
        parse_keywords(", ".join(f"keyword{number}" for number in range(60)))
    assert len(parse_keywords(", ".join("k" * 58 + str(number) for number in range(8)))) <= KEYWORDS_MAX


def test_the_demo_store_gives_its_teas_chai_and_its_kurta_kurti(app_context):
    seed_demo_store()
    keywords = {product.sku: product.keyword_list for product in db.session.scalars(select(Product))}
    assert all("chai" in keywords[sku] for sku in ("AST", "DFF", "CHA"))
    assert {"kurta", "kurti"} <= set(keywords["KUR"])
    assert "तवा" in keywords["TAW"]
    assert keywords["MCS"] == []  # the draft has none
    assert all(parse_keywords(", ".join(words)) == ", ".join(words) for words in keywords.values())
