"""The catalog in pages of twelve: which products a page holds and where its links lead."""

import pytest

from storefront.pagination import PRODUCTS_PER_PAGE, Page, page_number, page_of


def test_a_page_holds_its_share_of_the_items_in_order():
    items = list(range(1, 30))
    assert page_of(items, 1) == Page(list(range(1, 13)), 1, 3)
    assert page_of(items, 3) == Page(list(range(25, 30)), 3, 3)
    assert PRODUCTS_PER_PAGE == 12


def test_the_first_and_last_pages_link_one_way_only():
    items = list(range(30))
    assert (page_of(items, 1).previous_number, page_of(items, 1).next_number) == (None, 2)
    assert (page_of(items, 2).previous_number, page_of(items, 2).next_number) == (1, 3)
    assert (page_of(items, 3).previous_number, page_of(items, 3).next_number) == (2, None)


def test_nothing_to_show_is_still_one_page():
    assert page_of([], 1) == Page([], 1, 1)
    assert page_of(list(range(12)), 2) == Page(list(range(12)), 1, 1)


def test_a_page_past_the_end_is_the_last_page():
    assert page_of(list(range(13)), 5) == Page([12], 2, 2)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("2", 2),
        (" 3 ", 3),
        (None, 1),
        ("", 1),
        ("0", 1),
        ("-2", 1),
        ("1.5", 1),
        ("²", 1),
        ("10001", 1),
        ("10000", 10_000),
    ],
)
def test_the_page_asked_for_is_a_whole_number_from_one(text, number):
    assert page_number(text) == number
