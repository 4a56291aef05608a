"""The WhatsApp handoff: the order summary text and the wa.me / web / api links that prefill it."""

import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from checkout.phones import normalise_phone, whatsapp_digits
from checkout.whatsapp.links import (
    MAX_QR_LINK_CHARS,
    MAX_SUMMARY_CHARS,
    build_order_summary,
    encode_text,
    handoff_links,
    qr_link,
    qr_svg,
)
from tests.factories import customer, make_order, make_product, make_store

DIGITS = "919876543210"
STATUS_URL = "https://shop.example/o/Zq3xV8mN2pL5tR7wY9bC4dF6gH1jK0aS"

TEXTS = {
    "emoji": "🎉🛍️ Order placed! 👍🏽",
    "hindi": "नमस्ते, मेरा ऑर्डर",
    "swahili": "Habari, nyumba ya Beth",
    "url_specials": "Fish & chips #2 + extra? *bold* 100% a=b;c/d",
    "newlines": "Line one\nLine two\n\nLine four\r\nend",
    "mixed": "*Order K7QX-M4PZ*\n2 × कुर्ता (Size M) — ₹1,000.00\nNote: 🎉 & #1 + ?",
}


def _single_text_param(link: str) -> str:
    """The decoded `text` of a link, after checking the query holds it exactly once."""
    query = urlsplit(link).query
    params = parse_qs(query, keep_blank_values=True, strict_parsing=True)
    assert len(params["text"]) == 1
    return params["text"][0]


def _raw_text_param(link: str) -> str:
    """The still-encoded `text=` value as it sits in the link."""
    values = [part[len("text=") :] for part in urlsplit(link).query.split("&") if part.startswith("text=")]
    assert len(values) == 1
    return values[0]


# --- links --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
def test_wa_me_link_gives_back_exactly_the_original_text(text):
    link = handoff_links(DIGITS, text).app
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == ("https", "wa.me", f"/{DIGITS}", "")
    assert parse_qs(parts.query, keep_blank_values=True) == {"text": [text]}
    assert parts.query.startswith("text=")
    assert unquote(parts.query[len("text=") :]) == text
    assert parts.query.isascii()
    assert " " not in link and "+" not in link and "\n" not in link and "#" not in link


@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
def test_web_and_api_links_carry_the_same_encoded_text_as_the_app_link(text):
    links = handoff_links(DIGITS, text)
    web, api = urlsplit(links.web), urlsplit(links.api)
    assert (web.netloc, web.path) == ("web.whatsapp.com", "/send")
    assert (api.netloc, api.path) == ("api.whatsapp.com", "/send")
    assert _raw_text_param(links.web) == _raw_text_param(links.api) == _raw_text_param(links.app)
    for link in (links.web, links.api):
        assert parse_qs(urlsplit(link).query, keep_blank_values=True) == {"phone": [DIGITS], "text": [text]}


def test_spaces_are_percent_20_never_plus_and_newlines_are_percent_0a():
    assert _raw_text_param(handoff_links(DIGITS, "a b\nc").app) == "a%20b%0Ac"


def test_characters_that_would_cut_or_change_the_text_are_percent_encoded():
    assert encode_text("& # + ? *") == "%26%20%23%20%2B%20%3F%20%2A"
    assert encode_text("🎉") == "%F0%9F%8E%89"


def test_link_number_is_international_digits_only(app_context):
    settings = make_store(whatsapp_number=normalise_phone("098765 43210", "IN"))
    for digits in (settings.whatsapp_digits, whatsapp_digits(settings.whatsapp_number)):
        link = handoff_links(digits, "hi").app
        assert re.fullmatch(r"/[1-9]\d{6,14}", urlsplit(link).path)
        assert urlsplit(link).path == "/919876543210"


# --- the summary --------------------------------------------------------------------------------


@pytest.fixture
def store(app_context):
    return make_store()


def _kurta_and_bangle():
    kurta = make_product(name="Kurta", price_minor=50000, options=[{"Size": "M"}]).variants[0]
    bangle = make_product(name="Bangle", price_minor=12050).variants[0]
    return kurta, bangle


def test_summary_lists_store_order_items_totals_address_payment_name_note_and_status_link(store):
    kurta, bangle = _kurta_and_bangle()
    order = make_order([(kurta, 2), (bangle, 1)], details=customer(note="Please call before 6pm"))
    summary = build_order_summary(order, store, STATUS_URL)
    assert summary == "\n".join(
        [
            "Hello Test Shop! I'd like to place this order.",
            "",
            f"*Order {order.reference}*",
            "2 × Kurta (Size M) — ₹1,000.00",
            "1 × Bangle — ₹120.50",
            "",
            "Subtotal: ₹1,120.50",
            "Delivery: ₹50.00",
            "*Total: ₹1,170.50*",
            "",
            "Deliver to: Beth House, Kasarani, House 16",
            "Payment: Cash on delivery",
            "Name: Asha Kumar",
            "Note: Please call before 6pm",
            "",
            f"Order status: {STATUS_URL}",
        ]
    )


def test_summary_shows_every_option_of_a_line(store):
    shirt = make_product(name="Shirt", price_minor=100000, options=[{"Size": "L", "Colour": "Red"}]).variants[0]
    order = make_order([(shirt, 3)])
    assert "3 × Shirt (Size L, Colour Red) — ₹3,000.00" in build_order_summary(order, store, STATUS_URL).splitlines()


def test_summary_says_free_when_delivery_costs_nothing(app_context):
    settings = make_store(free_delivery_threshold_minor=100000)
    kurta, _ = _kurta_and_bangle()
    lines = build_order_summary(make_order([(kurta, 2)]), settings, STATUS_URL).splitlines()
    assert "Delivery: Free" in lines
    assert "*Total: ₹1,000.00*" in lines


def test_summary_for_pickup_names_the_pickup_place_and_no_delivery_address(store):
    kurta, _ = _kurta_and_bangle()
    order = make_order([(kurta, 1)], details=customer(fulfilment="pickup", address="", payment_method="transfer"))
    lines = build_order_summary(order, store, STATUS_URL).splitlines()
    assert "Pickup at 12 Market Road" in lines
    assert "Payment: Bank / UPI transfer on confirmation" in lines
    assert "Delivery: Free" in lines
    assert not any(line.startswith("Deliver to:") for line in lines)


def test_summary_for_pickup_without_a_pickup_address_just_says_pickup(app_context):
    settings = make_store(pickup_address="")
    kurta, _ = _kurta_and_bangle()
    order = make_order([(kurta, 1)], details=customer(fulfilment="pickup", address=""))
    assert "Pickup" in build_order_summary(order, settings, STATUS_URL).splitlines()


def test_summary_has_no_note_line_without_a_note(store):
    kurta, _ = _kurta_and_bangle()
    summary = build_order_summary(make_order([(kurta, 1)]), store, STATUS_URL)
    assert "Note:" not in summary


def test_summary_keeps_the_delivery_address_exactly_as_typed(store):
    kurta, _ = _kurta_and_bangle()
    order = make_order([(kurta, 1)], details=customer(address="Beth House, Kasarani, House 16"))
    assert "Deliver to: Beth House, Kasarani, House 16" in build_order_summary(order, store, STATUS_URL).splitlines()


def test_summary_in_many_scripts_survives_the_round_trip_through_every_link(store):
    product = make_product(name="Kanga & Kitenge #2 + 1? *sale*", price_minor=75000).variants[0]
    details = customer(
        name="नमस्ते, मेरा ऑर्डर",
        address="Habari, nyumba ya Beth\nKasarani, House 16",
        note="🎉🛍️ Asante sana!",
    )
    order = make_order([(product, 2)], details=details)
    summary = build_order_summary(order, store, STATUS_URL)
    for part in ("नमस्ते, मेरा ऑर्डर", "Habari, nyumba ya Beth\nKasarani, House 16", "🎉🛍️", "Kanga & Kitenge #2"):
        assert part in summary
    links = handoff_links(store.whatsapp_digits, summary)
    for link in (links.app, links.web, links.api):
        assert _single_text_param(link) == summary
        assert unquote(_raw_text_param(link)) == summary
    assert "%0A" in links.app and "%20" in links.app and "+" not in links.app


# --- long carts ---------------------------------------------------------------------------------


def _long_name(index: int) -> str:
    return f"Handwoven cotton kurta with mirror work, embroidered neckline and side pockets, design {index:03d}"


def test_long_cart_is_cut_between_whole_item_lines_and_summarised_with_the_right_count(store):
    variants = [
        make_product(name=_long_name(i), price_minor=123450, options=[{"Size": "M"}]).variants[0] for i in range(60)
    ]
    order = make_order([(variant, 2) for variant in variants])
    expected_items = [f"2 × {_long_name(i)} (Size M) — ₹2,469.00" for i in range(60)]

    summary = build_order_summary(order, store, STATUS_URL)
    lines = summary.splitlines()

    assert len(summary) <= MAX_SUMMARY_CHARS
    assert lines[2] == f"*Order {order.reference}*"
    first_blank_after_items = lines.index("", 3)
    shown, more = lines[3 : first_blank_after_items - 1], lines[first_blank_after_items - 1]
    assert 1 <= len(shown) < 60
    assert shown == expected_items[: len(shown)]
    assert more == f"…and {60 - len(shown)} more items, see {STATUS_URL}"
    assert "Subtotal: ₹1,48,140.00" in lines
    assert "*Total: ₹1,48,190.00*" in lines
    assert lines[-1] == f"Order status: {STATUS_URL}"
    # As many whole lines as fit: showing the next one as well would have broken the limit.
    next_more = f"…and {59 - len(shown)} more items, see {STATUS_URL}"
    one_more = lines[:3] + shown + [expected_items[len(shown)], next_more] + lines[first_blank_after_items:]
    assert len("\n".join(one_more)) > MAX_SUMMARY_CHARS


def test_a_single_item_left_over_is_summarised_as_one_more_item(store):
    variants = [make_product(name=_long_name(i), price_minor=100).variants[0] for i in range(10)]
    # With this note, nine lines and the "1 more item" line fit but all ten lines don't.
    order = make_order([(variant, 1) for variant in variants], details=customer(note="n" * 200))
    lines = build_order_summary(order, store, STATUS_URL).splitlines()
    assert [line for line in lines if line.startswith("1 × ")] == [f"1 × {_long_name(i)} — ₹1.00" for i in range(9)]
    assert f"…and 1 more item, see {STATUS_URL}" in lines


def test_summary_stays_within_the_limit_even_with_the_longest_allowed_details(app_context):
    settings = make_store(name="N" * 80)
    variants = [make_product(name=_long_name(i), stock=99).variants[0] for i in range(30)]
    details = customer(name="A" * 80, address="B" * 500, note="C" * 500, payment_method="transfer")
    order = make_order([(variant, 1) for variant in variants], details=details)
    status_url = f"https://kasarani-fashion.example.co.ke/o/{order.status_token}"
    summary = build_order_summary(order, settings, status_url)
    assert len(summary) <= MAX_SUMMARY_CHARS
    assert summary.endswith(f"Order status: {status_url}")


def test_summary_of_exactly_the_limit_is_not_trimmed(store):
    variants = [make_product(name=_long_name(i), price_minor=100, stock=99).variants[0] for i in range(9)]
    cart = [(variant, 1) for variant in variants]
    probe = build_order_summary(make_order(cart, details=customer(note="x")), store, STATUS_URL)
    assert "more item" not in probe
    note_length = MAX_SUMMARY_CHARS - len(probe) + 1
    assert 1 < note_length <= 500
    order = make_order(cart, details=customer(note="x" * note_length))
    summary = build_order_summary(order, store, STATUS_URL)
    assert "more item" not in summary
    assert len(summary) == MAX_SUMMARY_CHARS


# --- QR codes -----------------------------------------------------------------------------------


def test_qr_code_encodes_the_wa_me_link_while_it_is_short_enough():
    prefix = len(f"https://wa.me/{DIGITS}?text=")
    links = handoff_links(DIGITS, "a" * (MAX_QR_LINK_CHARS - prefix))
    assert len(links.app) == MAX_QR_LINK_CHARS
    assert qr_link(links, "https://shop.example/w/K7QXM4PZ") == links.app


def test_qr_code_encodes_the_short_link_when_the_wa_me_link_is_too_long():
    prefix = len(f"https://wa.me/{DIGITS}?text=")
    just_over = handoff_links(DIGITS, "a" * (MAX_QR_LINK_CHARS - prefix + 1))
    assert qr_link(just_over, "https://shop.example/w/K7QXM4PZ") == "https://shop.example/w/K7QXM4PZ"
    emoji = handoff_links(DIGITS, "🎉" * 100)  # 100 characters of text, 1,200 in the link
    assert qr_link(emoji, "https://shop.example/w/K7QXM4PZ") == "https://shop.example/w/K7QXM4PZ"


def test_qr_svg_draws_an_svg_once_per_link():
    first = qr_svg("https://wa.me/919876543210?text=hello%20qr")
    assert first.startswith("<svg") and first.rstrip().endswith("</svg>")
    assert qr_svg("https://wa.me/919876543210?text=hello%20qr") is first
    assert qr_svg("https://wa.me/919876543210?text=another") != first
