"""Finding the products a WhatsApp message asks for: by name, keywords, category and SKU, through filler words,
Hinglish spellings and typos; only active products with units left; fast on a 2,000-product catalog."""

import time

import pytest
from sqlalchemy import select

from bench.product_match import MESSAGES, catalog
from checkout.demo.store import seed_demo_store
from checkout.extensions import db
from checkout.models import Product, ProductStatus, Variant
from checkout.whatsapp.product_match import Candidate, match_products, rank_products
from tests.factories import make_order, make_product, make_store

SHOP = (
    Candidate(1, "Assam Tea", "AST", "Tea & Spices", "chai, chai patti, tea, चाय", ("AST-250",), (11,), 25, 24000),
    Candidate(2, "Darjeeling First Flush", "DFF", "Tea & Spices", "chai, tea", ("DFF-100",), (21,), 7, 65000),
    Candidate(3, "Masala Chai Mix", "CHA", "Tea & Spices", "chai, masala chai", ("CHA",), (31,), 0, 22000),
    Candidate(4, "Garam Masala", "GAR", "Tea & Spices", "masala", ("GAR",), (41,), 30, 18000),
    Candidate(5, "Cotton Kurta", "KUR", "Clothing", "kurta, kurti", ("KUR-S", "KUR-M"), (51, 52), 12, 79900, True),
    Candidate(6, "Cast Iron Tawa", "TAW", "Kitchen", "tawa, tava, तवा", ("TAW",), (61,), 12, 89900),
    Candidate(7, "Copper Water Bottle", "CWB", "Kitchen", "", ("CWB",), (71,), 15, 74900),
    Candidate(8, "Block-print Cushion Cover", "CUS", "Home & Decor", "", ("CUS-1",), (81,), 8, 39900),
    Candidate(9, "Brass Wall Hook", "HOK", "Home & Decor", "khunti", ("HOK",), (91,), 14, 44900),
    Candidate(10, "Kids' Cotton T-shirt", "SKU-123", "Clothing", "tee", ("SKU-123-4",), (101,), 10, 34900),
)


def names(text: str, candidates=SHOP) -> list[str]:
    return [match.name for match in rank_products(text, candidates)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mujhe chai chahiye", ["Assam Tea", "Darjeeling First Flush"]),  # Masala Chai Mix is sold out
        ("chai", ["Assam Tea", "Darjeeling First Flush"]),
        ("चाय", ["Assam Tea"]),
        ("kurti", ["Cotton Kurta"]),
        ("Kurtaa chahiye size M", ["Cotton Kurta"]),
        ("tawaa", ["Cast Iron Tawa"]),
        ("tava bhejo", ["Cast Iron Tawa"]),
        ("SKU-123", ["Kids' Cotton T-shirt"]),
        ("sku-123", ["Kids' Cotton T-shirt"]),
        ("copper botle", ["Copper Water Bottle"]),
        ("Darjeling tea", ["Darjeeling First Flush", "Assam Tea"]),
        ("i want to order a copper bottle please", ["Copper Water Bottle"]),
        ("nataka chai tafadhali", ["Assam Tea", "Darjeeling First Flush"]),
        ("quero pedir uma garrafa de cobre", []),
        ("hi", []),
        ("", []),
        ("saree", []),
    ],
)
def test_messages_find_the_products_they_ask_for(text, expected):
    assert names(text) == expected


def test_more_words_matched_rank_higher_and_a_category_counts_for_less_than_a_name():
    assert names("masala tea") == ["Garam Masala", "Assam Tea", "Darjeeling First Flush"]
    matches = rank_products("masala tea", SHOP)
    assert matches[0].score > matches[1].score == matches[2].score


def test_a_word_the_shop_uses_is_not_read_as_a_typo_of_another():
    assert names("chai") == ["Assam Tea", "Darjeeling First Flush"]  # not "chair", not "khunti" for "kurti"
    assert names("kurti") == ["Cotton Kurta"]
    assert names("cover") == ["Block-print Cushion Cover"]  # "copper" is one letter from "cover", yet not offered


def test_a_prefix_finds_the_word_and_a_plural_finds_the_singular():
    assert names("dupat", (Candidate(1, "Silk Dupatta", "DUP", available=3),)) == ["Silk Dupatta"]
    assert names("hooks") == ["Brass Wall Hook"]
    assert names("ku") == []  # two letters are too few to guess from


def test_a_typed_variant_sku_says_which_variant():
    match = rank_products("KUR-M please", SHOP)[0]
    assert (match.name, match.variant_id) == ("Cotton Kurta", 52)
    assert rank_products("KUR", SHOP)[0].variant_id is None
    assert rank_products("(kur-s)", SHOP)[0].variant_id == 51


def test_matches_carry_what_a_list_row_needs():
    match = rank_products("kurta", SHOP)[0]
    assert (match.product_id, match.category, match.available, match.lowest_price_minor, match.has_price_range) == (
        5,
        "Clothing",
        12,
        79900,
        True,
    )


def test_sold_out_products_are_never_offered_even_by_sku():
    assert names("Masala Chai Mix") == ["Assam Tea", "Darjeeling First Flush", "Garam Masala"]  # ties: by name
    assert names("CHA") == []


def test_a_long_message_is_read_for_its_first_words_only():
    assert names("kurta " + "blah " * 5000) == ["Cotton Kurta"]


# ---------------------------------------------------------------- from the database


def test_the_demo_store_finds_its_teas_for_chai_and_its_kurta_for_kurti(app_context):
    seed_demo_store()
    assert [m.name for m in match_products("mujhe chai chahiye")] == ["Assam Tea", "Darjeeling First Flush"]
    assert [m.name for m in match_products("kurti")] == ["Cotton Kurta"]
    assert [m.name for m in match_products("tawaa")] == ["Cast Iron Tawa"]
    assert match_products("marble coaster") == []  # a draft
    assert match_products("pashmina shawl") == []  # no stock


def test_units_held_by_open_orders_do_not_count_and_drafts_and_archived_are_left_out(app_context):
    make_store()
    last = make_product("Jute Rug", stock=1)
    make_product("Jute Bag", stock=3, status=ProductStatus.DRAFT)
    make_product("Jute Mat", stock=3, status=ProductStatus.ARCHIVED)
    sizes = make_product("Jute Basket", stock=0, options=[{"Size": "S"}, {"Size": "L"}])
    db.session.get(Variant, sizes.variants[1].id).stock_on_hand = 2
    db.session.commit()
    assert [m.name for m in match_products("jute")] == ["Jute Basket", "Jute Rug"]
    make_order([(last.variants[0], 1)])
    found = match_products("jute")
    assert [(m.name, m.available) for m in found] == [("Jute Basket", 2)]


def test_keywords_saved_on_a_product_are_found_at_once(app_context):
    make_store()
    make_product("Cast Iron Griddle", stock=4)
    assert match_products("tawa") == []
    db.session.scalars(select(Product)).one().keywords = "tawa, tava"
    db.session.commit()
    assert [m.name for m in match_products("tawaa")] == ["Cast Iron Griddle"]


# ---------------------------------------------------------------- speed


def test_a_two_thousand_product_catalog_is_matched_quickly():
    products = catalog(2000)
    assert len(products) == 2000
    rank_products("warm up", products)  # builds the word index once
    started = time.perf_counter()
    for _ in range(10):
        for message in MESSAGES:
            found = rank_products(message, products)
            assert all(match.available > 0 for match in found)
    per_message = (time.perf_counter() - started) / (10 * len(MESSAGES))
    assert per_message < 0.05, f"{per_message * 1000:.1f} ms per message"
    assert rank_products("SKU-1234", products)[0].product_id == 1234 or not products[1233].available
