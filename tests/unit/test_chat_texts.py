"""The ordering chat's texts: which one is said (the shop's, ours, English), and what a shop may write."""

import pytest

from checkout.whatsapp.chat_order_texts import TEXTS, say, text_order, text_when_empty
from checkout.whatsapp.chat_text_editing import (
    CHAT_TEXT_KEYS,
    CHAT_TEXT_LABELS,
    LABEL_LIMITS,
    REQUIRED_PLACEHOLDERS,
    InvalidChatTexts,
    chat_texts_after,
    check_chat_text,
    placeholders_of,
)
from checkout.whatsapp.wording import InvalidMessageText

SHOP = {
    "hinglish": {"add_more": "Aur lo", "stopped": "{broken"},
    "en": {"add_more": "More", "nothing_added": "Now what?", "items": "{count} things"},
}


# --- which text is said --------------------------------------------------------------------------------------


def test_the_shops_text_in_the_language_comes_first():
    assert say("hinglish", "add_more", SHOP) == "Aur lo"


def test_our_text_in_the_language_comes_before_the_shops_english():
    assert say("hinglish", "view_cart", SHOP) == TEXTS["hinglish"]["view_cart"]
    assert say("sw", "add_more", SHOP) == TEXTS["sw"]["add_more"]  # the shop's English "More" is not used


def test_the_shops_english_comes_before_our_english_where_the_language_has_none():
    assert "nothing_added" not in TEXTS["hinglish"]
    assert say("hinglish", "nothing_added", SHOP) == "Now what?"
    assert say("hinglish", "items", SHOP, count=3) == "3 things"


def test_without_shop_texts_it_is_ours_with_english_behind():
    assert say("pt", "confirm") == "Confirmar"
    assert say("pt", "nothing_added") == TEXTS["en"]["nothing_added"]
    assert say("xx", "cart_kept", None, count=2) == "Your cart from before is kept (2 items)."


def test_a_stored_text_that_cannot_be_filled_is_passed_over():
    assert say("hinglish", "stopped", SHOP) == TEXTS["hinglish"]["stopped"]
    assert say("en", "items", {"en": {"items": "{total} things"}}, count=2) == "2 items"


def test_the_order_of_candidates_and_the_text_shown_when_a_field_is_empty():
    assert text_order("hinglish", "nothing_added", SHOP) == ["Now what?", TEXTS["en"]["nothing_added"]]
    assert text_order("hinglish", "add_more", SHOP) == [
        "Aur lo",
        TEXTS["hinglish"]["add_more"],
        "More",
        TEXTS["en"]["add_more"],
    ]
    assert text_when_empty("hinglish", "add_more", SHOP) == TEXTS["hinglish"]["add_more"]
    assert text_when_empty("hinglish", "nothing_added", SHOP) == "Now what?"
    assert text_when_empty("en", "add_more", SHOP) == TEXTS["en"]["add_more"]


def test_broken_stored_shapes_are_ignored():
    assert say("en", "confirm", {"en": ["Confirm!"]}) == "Confirm"
    assert say("en", "confirm", {"en": {"confirm": 42}}) == "Confirm"


# --- what a shop may write ------------------------------------------------------------------------------------


def test_every_default_passes_the_rules_and_uses_the_english_placeholders():
    for language, texts in TEXTS.items():
        for key, text in texts.items():
            assert key in CHAT_TEXT_KEYS, (language, key)
            check_chat_text(key, text)
            assert sorted(placeholders_of(key)) == sorted(n for n in placeholders_of(key) if "{" + n + "}" in text)


def test_every_key_has_a_label_and_the_rules_name_real_keys_and_placeholders():
    assert set(CHAT_TEXT_LABELS) == set(CHAT_TEXT_KEYS)
    assert set(LABEL_LIMITS) <= set(CHAT_TEXT_KEYS)
    for key, names in REQUIRED_PLACEHOLDERS.items():
        assert set(names) <= set(placeholders_of(key)), key


@pytest.mark.parametrize(
    ("key", "text", "why"),
    [
        ("added", "Added {item} for {price}", "{price} can't be used in this text. You can use: {quantity}, {item}"),
        ("ask_name", "Your {name}?", "{name} can't be used in this text. This text takes no placeholders."),
        ("added", "Added {}", "{} can't be used"),
        ("added", "Added {item!r}", "Write placeholders plainly, like {item}"),
        ("added", "Added {item:>10}", "Write placeholders plainly"),
        ("added", "Added {item", "A brace is not closed or not opened"),
        ("already_placed", "Done: {reference}", "Keep {url}: the customer needs it"),
        ("summary", "Check: {lines}", "Keep {money}, {fulfilment}, {payment}, {name}: the customer needs them"),
        ("total", "Total", "Keep {amount}"),
        ("use_name", "Yes, that's me", "Keep {name}"),
        ("confirm", "Yes, place the order now", "a button label: WhatsApp shows at most 20 characters (it has 24)"),
        ("more_than_ten", "Ten or more, I'll type it", "a list row: WhatsApp shows at most 24 characters"),
        ("button_choose", "Add\nmore", "keep it on one line"),
        ("ask_name", "n" * 1001, "Keep the text to 1000 characters (it has 1001)."),
        ("ask_name", "Name\x00?", "Remove the invisible control characters"),
        ("ask_name", "Name\x07?", "Remove the invisible control characters"),
        ("ask_name", "Na\u2066me?", "Remove the invisible text-direction marks"),
    ],
)
def test_a_text_that_cannot_be_used_says_why(key, text, why):
    with pytest.raises(InvalidMessageText) as refused:
        check_chat_text(key, text)
    assert why in refused.value.message


def test_good_texts_pass_even_with_long_values_placeholders_and_braces():
    check_chat_text("use_name", "Yes, use {name}")  # the name is shortened at send time, not counted
    check_chat_text("added", "{{ok}} {quantity} of {item} in.\nCart: {count}, {subtotal}")
    check_chat_text("ask_name", "Kindly\nyour name?")


def test_chat_texts_after_keeps_only_changes_and_names_every_refusal():
    current = {"pt": {"confirm": "Sim"}, "en": {"add_more": "More"}}
    after = chat_texts_after(current, "en", {"add_more": "", "view_cart": "Cart", "checkout": TEXTS["en"]["checkout"]})
    assert after == {"pt": {"confirm": "Sim"}, "en": {"view_cart": "Cart"}}
    assert current == {"pt": {"confirm": "Sim"}, "en": {"add_more": "More"}}  # not changed in place
    assert chat_texts_after(current, "pt", {"confirm": " "}) == {"en": {"add_more": "More"}}
    with pytest.raises(InvalidChatTexts) as refused:
        chat_texts_after(current, "en", {"total": "Total", "confirm": "x" * 30, "view_cart": "Fine", "nope": "x"})
    assert set(refused.value.errors) == {"total", "confirm"}
    with pytest.raises(KeyError):
        chat_texts_after(current, "fr", {})
