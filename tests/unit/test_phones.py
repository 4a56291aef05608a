"""Phone numbers: whatever the shopper types becomes E.164, and WhatsApp gets international digits."""

import re

import pytest

from checkout.phones import InvalidPhone, display_phone, normalise_phone, whatsapp_digits

VALID = [
    ("098765 43210", "IN", "+919876543210"),
    ("98765 43210", "IN", "+919876543210"),
    ("+91 98765 43210", "IN", "+919876543210"),
    ("+91 98765 43210", "KE", "+919876543210"),
    ("0091 98765 43210", "IN", "+919876543210"),
    ("0091 98765 43210", "GB", "+919876543210"),
    ("  +91-98765-43210  ", "in", "+919876543210"),
    ("0712 345678", "KE", "+254712345678"),
    ("+254 712 345 678", "IN", "+254712345678"),
    ("07911 123456", "GB", "+447911123456"),
    ("(11) 91234-5678", "BR", "+5511912345678"),
    ("+55 (11) 91234-5678", "IN", "+5511912345678"),
]


@pytest.mark.parametrize("raw,region,expected", VALID)
def test_numbers_as_people_type_them_become_e164(raw, region, expected):
    assert normalise_phone(raw, region) == expected


@pytest.mark.parametrize("raw,region,expected", VALID)
def test_whatsapp_digits_are_the_e164_number_without_the_plus(raw, region, expected):
    digits = whatsapp_digits(normalise_phone(raw, region))
    assert digits == expected[1:]
    assert re.fullmatch(r"[1-9]\d{6,14}", digits)


def test_a_number_of_exactly_32_characters_is_still_read():
    padded = "+91" + " " * 18 + "98765 43210"
    assert len(padded) == 32
    assert normalise_phone(padded, "IN") == "+919876543210"


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_an_empty_number_asks_for_one(raw):
    with pytest.raises(InvalidPhone, match="Please enter your WhatsApp number"):
        normalise_phone(raw, "IN")


def test_a_number_longer_than_32_characters_is_refused_before_parsing():
    padded = "+91" + " " * 19 + "98765 43210"
    assert len(padded) == 33
    with pytest.raises(InvalidPhone, match="too long"):
        normalise_phone(padded, "IN")


def test_letters_are_not_a_phone_number():
    with pytest.raises(InvalidPhone, match="doesn't look like a phone number"):
        normalise_phone("call me maybe", "IN")


@pytest.mark.parametrize(
    "raw,region",
    [
        ("12345", "IN"),  # too short
        ("98765 4321", "IN"),  # one digit missing
        ("+91 5555 55555", "IN"),  # not in any range of the Indian numbering plan
        ("9876543210", "KE"),  # an Indian number without its country code, in Kenya
        ("+1 555 0100", "US"),  # fictional 555 number
        ("0712 345678 999", "KE"),  # too many digits
    ],
)
def test_numbers_that_cannot_exist_are_refused_with_a_hint(raw, region):
    with pytest.raises(InvalidPhone, match="Include the country code") as caught:
        normalise_phone(raw, region)
    assert isinstance(caught.value, ValueError)


def test_display_phone_groups_digits_for_people_and_leaves_unparsable_text_alone():
    assert display_phone("+919876543210") == "+91 98765 43210"
    assert display_phone("not a number") == "not a number"
