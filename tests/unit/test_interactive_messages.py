"""Lists and reply buttons for ordering in the chat: within Meta's limits whatever the shop's names, paged with
"More…", and accepted by the fake Graph API's own reading of Meta's rules."""

import pytest

from checkout.whatsapp.interactive import (
    MORE_TITLE,
    ListRow,
    list_message,
    offset_from_more_row,
    paged_list,
    product_id_from_row,
    product_list,
    reply_buttons,
    shorten,
)
from checkout.whatsapp.limits import PayloadInvalid, check_payload
from checkout.whatsapp.product_match import ProductMatch
from tests.fakes.graph_api import meta_rejections

LONG = "Hand-block printed organic cotton kurta with mirror work and a matching dupatta, festive edition 2026"


def accepted_by_meta(message) -> bool:
    body = {"messaging_product": "whatsapp", "to": "919876543210", **message.payload}
    return meta_rejections(body, {}) == []


def rows_of(message) -> list[dict]:
    return [row for section in message.payload["interactive"]["action"]["sections"] for row in section["rows"]]


def match(number: int, name: str = "", **fields) -> ProductMatch:
    values = dict(
        product_id=number,
        name=name or f"Product {number}",
        category="Tea & Spices",
        score=1.0,
        available=5,
        lowest_price_minor=24000,
        has_price_range=False,
    )
    values.update(fields)
    return ProductMatch(**values)


@pytest.mark.parametrize(
    ("text", "maximum", "expected"),
    [
        ("Assam Tea", 24, "Assam Tea"),
        ("Darjeeling First Flush Tea", 24, "Darjeeling First Flush …"[:23].rstrip() + "…"),
        ("a\nb   c", 24, "a b c"),
        ("x" * 30, 20, "x" * 19 + "…"),
        ("\u202eevil\u202c name", 24, "evil name"),
    ],
)
def test_shorten_cuts_with_an_ellipsis_and_keeps_one_line(text, maximum, expected):
    assert shorten(text, maximum) == expected
    assert len(shorten(text, maximum)) <= maximum


def test_shorten_never_leaves_a_vowel_sign_without_its_letter():
    name = "चाय" * 10  # च, the vowel sign ा, य: a cut after 22 characters would split चा
    assert shorten(name, 23) == "चाय" * 7 + "…"
    assert shorten(name, 24) == "चाय" * 7 + "चा" + "…"


def test_a_list_with_long_names_is_shortened_never_refused():
    rows = [ListRow(f"product:{n}", LONG, LONG + " " + LONG) for n in range(10)]
    message = list_message("product_list", LONG * 20, "Choose a product please", rows, section_title=LONG, header=LONG)
    interactive = message.payload["interactive"]
    assert len(interactive["action"]["button"]) <= 20 and interactive["action"]["button"].endswith("…")
    assert len(interactive["action"]["sections"][0]["title"]) <= 24
    assert len(interactive["header"]["text"]) <= 60
    assert len(interactive["body"]["text"]) <= 1024
    assert all(len(row["title"]) <= 24 and len(row["description"]) <= 72 for row in rows_of(message))
    assert accepted_by_meta(message)
    assert message.kind == "interactive" and LONG[:10] in message.body_text


def test_a_list_needs_one_to_ten_rows_and_unique_ids():
    with pytest.raises(ValueError):
        list_message("p", "Pick one", "Choose", [])
    with pytest.raises(ValueError):
        list_message("p", "Pick one", "Choose", [ListRow(str(n), "x") for n in range(11)])
    with pytest.raises(ValueError, match="different ids"):
        list_message("p", "Pick one", "Choose", [ListRow("same", "a"), ListRow("same", "b")])
    with pytest.raises(PayloadInvalid, match="row 1 id is 201 characters"):
        list_message("p", "Pick one", "Choose", [ListRow("x" * 201, "a")])


def test_ten_rows_fit_on_one_page_without_more():
    message = paged_list("p", "Pick one", "Choose", [ListRow(f"r{n}", f"Row {n}") for n in range(10)])
    assert [row["id"] for row in rows_of(message)] == [f"r{n}" for n in range(10)]
    assert accepted_by_meta(message)


def test_more_rows_page_by_offset_nine_at_a_time_with_a_more_row():
    rows = [ListRow(f"r{n}", f"Row {n}") for n in range(25)]
    first = rows_of(paged_list("p", "Pick one", "Choose", rows))
    assert [row["id"] for row in first[:9]] == [f"r{n}" for n in range(9)]
    assert first[9] == {"id": "more:9", "title": MORE_TITLE, "description": "16 more"}
    second = rows_of(paged_list("p", "Pick one", "Choose", rows, offset=offset_from_more_row(first[9]["id"])))
    assert [row["id"] for row in second[:9]] == [f"r{n}" for n in range(9, 18)] and second[9]["id"] == "more:18"
    last = rows_of(paged_list("p", "Pick one", "Choose", rows, offset=18))
    assert [row["id"] for row in last] == [f"r{n}" for n in range(18, 25)]  # 7 left: no "More…"
    stale = rows_of(paged_list("p", "Pick one", "Choose", rows, offset=90))
    assert stale[0]["id"] == "r0"  # the results shrank since: start again


def test_product_lists_show_name_price_and_category_and_their_rows_read_back():
    matches = [match(1, "Assam Tea"), match(2, LONG, has_price_range=True, category="Clothing")]
    matches += [match(number) for number in range(3, 15)]
    message = product_list(matches, currency="INR", locale="en_IN", body="Here is what we found:")
    rows = rows_of(message)
    assert rows[0] == {"id": "product:1", "title": "Assam Tea", "description": "₹240.00 · Tea & Spices"}
    assert rows[1]["title"].endswith("…") and rows[1]["description"] == "from ₹240.00 · Clothing"
    assert len(rows) == 10 and rows[9]["id"] == "more:9"
    assert [product_id_from_row(row["id"]) for row in rows[:2]] == [1, 2]
    assert product_id_from_row("more:9") is None and offset_from_more_row("product:1") is None
    assert offset_from_more_row("more:x") is None and product_id_from_row("product:" + "9" * 40) is None
    assert accepted_by_meta(message)
    page_two = product_list(matches, currency="INR", locale="en_IN", body="More:", offset=9)
    assert [product_id_from_row(row["id"]) for row in rows_of(page_two)] == list(range(10, 15))


def test_reply_buttons_are_shortened_and_at_most_three():
    message = reply_buttons(
        "cart_next",
        "Added 2 × Assam Tea to your cart.",
        [("add_more", "Add more"), ("view_cart", "View cart"), ("checkout", "Checkout and pay on delivery")],
        footer="Sunrise Bazaar",
    )
    titles = [button["reply"]["title"] for button in message.payload["interactive"]["action"]["buttons"]]
    assert titles == ["Add more", "View cart", "Checkout and pay on…"]
    assert all(len(title) <= 20 for title in titles)
    assert accepted_by_meta(message)
    assert "[Add more] | [View cart]" in message.body_text
    with pytest.raises(PayloadInvalid, match="4 reply buttons"):
        reply_buttons("p", "Pick", [(str(n), f"B{n}") for n in range(4)])


def test_the_limits_module_and_the_fake_agree_on_every_built_message():
    built = [
        list_message("p", "b", "c", [ListRow("a", LONG, LONG)]),
        paged_list("p", LONG, LONG, [ListRow(f"r{n}", LONG * 2, LONG * 3) for n in range(40)], offset=9),
        reply_buttons("p", LONG * 30, [("yes", LONG), ("no", "No")], header=LONG, footer=LONG),
    ]
    for message in built:
        check_payload(message.payload)
        assert accepted_by_meta(message)
