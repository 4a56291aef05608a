"""Phone numbers: whatever the shopper types becomes E.164, and WhatsApp gets international digits."""

import re

import pytest

from checkout.phones import (
    InvalidPhone,
    display_phone,
    normalise_business_phone,
    normalise_phone,
    phone_forms,
    phone_from_wa_id,
    whatsapp_digits,
)

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

REGIONS = ("IN", "KE", "NG", "BR", "AR", "MX", "GB", "ID", "PK", "EG")

# As people type their own number at home, the store's region set to their country: trunk 0, spaces,
# dashes, brackets, the country code without its +. Each answer checked against phonenumbers' metadata.
AT_HOME = [
    # India: mobiles are ten digits from 6-9; a 0 in front is the trunk prefix
    ("098765 43210", "IN", "+919876543210"),
    ("98765-43210", "IN", "+919876543210"),
    ("9876543210", "IN", "+919876543210"),
    ("(0) 98765 43210", "IN", "+919876543210"),
    ("91 98765 43210", "IN", "+919876543210"),
    ("(+91) 98765 43210", "IN", "+919876543210"),
    ("080 2345 6789", "IN", "+918023456789"),  # a Bangalore landline: WhatsApp Business can live there
    # Kenya
    ("0712 345678", "KE", "+254712345678"),
    ("0712-345-678", "KE", "+254712345678"),
    ("712 345 678", "KE", "+254712345678"),
    ("254712345678", "KE", "+254712345678"),
    ("0110 123456", "KE", "+254110123456"),  # Safaricom's newer 01xx range
    # Nigeria
    ("0803 123 4567", "NG", "+2348031234567"),
    ("0803-123-4567", "NG", "+2348031234567"),
    ("08031234567", "NG", "+2348031234567"),
    ("234 803 123 4567", "NG", "+2348031234567"),
    ("0908 123 4567", "NG", "+2349081234567"),
    # Brazil: (area) 9xxxx-xxxx; 0 + area, or 0 + carrier code + area, when dialled long-distance
    ("(11) 91234-5678", "BR", "+5511912345678"),
    ("11 91234-5678", "BR", "+5511912345678"),
    ("011 91234-5678", "BR", "+5511912345678"),
    ("021 11 91234-5678", "BR", "+5511912345678"),  # carrier 21 chosen for the call
    ("(21) 98765-4321", "BR", "+5521987654321"),
    # Argentina: mobiles are 9 + area + number for WhatsApp; at home people write 0 + area + 15 + number
    ("011 15-2345-6789", "AR", "+5491123456789"),
    ("11 15 2345-6789", "AR", "+5491123456789"),
    ("011 2345-6789", "AR", "+5491123456789"),  # without the 15: taken as the mobile (see normalise_phone)
    ("0351 15 234-5678", "AR", "+5493512345678"),
    # Mexico: ten digits; the old 044/045 (mobile) and 01 (long distance) prefixes still typed
    ("55 1234 5678", "MX", "+525512345678"),
    ("(55) 1234-5678", "MX", "+525512345678"),
    ("044 55 1234 5678", "MX", "+525512345678"),
    ("045 55 1234 5678", "MX", "+525512345678"),
    ("01 55 1234 5678", "MX", "+525512345678"),
    ("5215512345678", "MX", "+525512345678"),  # WhatsApp's own form, copied without the +
    ("044 33 1234 5678", "MX", "+523312345678"),
    # United Kingdom
    ("07911 123456", "GB", "+447911123456"),
    ("07911-123-456", "GB", "+447911123456"),
    ("(07911) 123456", "GB", "+447911123456"),
    ("7911 123456", "GB", "+447911123456"),
    # Indonesia: 08xx mobiles; 62 without the +
    ("0812-3456-7890", "ID", "+6281234567890"),
    ("0812 3456 7890", "ID", "+6281234567890"),
    ("081234567890", "ID", "+6281234567890"),
    ("62 812 3456 7890", "ID", "+6281234567890"),
    ("0857 1234 5678", "ID", "+6285712345678"),
    # Pakistan
    ("0300 1234567", "PK", "+923001234567"),
    ("0300-1234567", "PK", "+923001234567"),
    ("03001234567", "PK", "+923001234567"),
    ("92 300 1234567", "PK", "+923001234567"),
    ("0321 1234567", "PK", "+923211234567"),
    # Egypt: 010, 011, 012, 015 mobiles
    ("010 1234 5678", "EG", "+201012345678"),
    ("01012345678", "EG", "+201012345678"),
    ("0100 123 4567", "EG", "+201001234567"),
    ("20 10 1234 5678", "EG", "+201012345678"),
    ("0111 234 5678", "EG", "+201112345678"),
    ("015 1234 5678", "EG", "+201512345678"),
]

# The same people writing for the world: +, 00, a (0) left in, dashes. Read the same in every store region.
INTERNATIONAL = [
    ("+91 98765 43210", "+919876543210"),
    ("0091-98765-43210", "+919876543210"),
    ("+91 (0) 98765 43210", "+919876543210"),
    ("+254 712 345678", "+254712345678"),
    ("00254 712 345 678", "+254712345678"),
    ("+254 (0) 712 345678", "+254712345678"),
    ("+234 803 123 4567", "+2348031234567"),
    ("00234 803 123 4567", "+2348031234567"),
    ("+234 (0) 803 123 4567", "+2348031234567"),
    ("+55 11 91234-5678", "+5511912345678"),
    ("+55 (11) 91234-5678", "+5511912345678"),
    ("0055 11 91234 5678", "+5511912345678"),
    ("+54 9 11 2345-6789", "+5491123456789"),
    ("+54 11 2345-6789", "+5491123456789"),  # the 9 WhatsApp needs, added (see normalise_phone)
    ("00 54 9 11 2345 6789", "+5491123456789"),
    ("+54 11 15 2345 6789", "+5491123456789"),
    ("+52 55 1234 5678", "+525512345678"),
    ("+52 1 55 1234 5678", "+525512345678"),
    ("+521 55 1234 5678", "+525512345678"),
    ("+5215512345678", "+525512345678"),
    ("0052 1 55 1234 5678", "+525512345678"),
    ("+44 7911 123456", "+447911123456"),
    ("+44 (0)7911 123456", "+447911123456"),
    ("0044 7911 123456", "+447911123456"),
    ("+62 812 3456 7890", "+6281234567890"),
    ("+62 0812 3456 7890", "+6281234567890"),  # the trunk 0 kept after the country code
    ("0062 812-3456-7890", "+6281234567890"),
    ("+92 300 1234567", "+923001234567"),
    ("+92-300-1234567", "+923001234567"),
    ("0092 300 1234567", "+923001234567"),
    ("+20 10 1234 5678", "+201012345678"),
    ("+20 (0) 10 1234 5678", "+201012345678"),
    ("0020 10 1234 5678", "+201012345678"),
]

# Numbers the WhatsApp app cannot live on (phonenumbers.number_type), refused with the reason.
NOT_FOR_WHATSAPP = [
    ("1800 123 4567", "IN", "toll-free"),
    ("1860 345 1234", "IN", "shared-cost"),
    ("1-800-FLOWERS", "US", "toll-free"),
    ("+1 800 356 9377", "IN", "toll-free"),
    ("+1 900 555 0123", "US", "premium-rate"),
    ("0800 223 456", "KE", "toll-free"),
    ("0900 223 456", "KE", "premium-rate"),
    ("0800 1759 1759", "NG", "toll-free"),
    ("0700 123 4567", "NG", "company's universal access number"),
    ("0800 12 3456", "BR", "toll-free"),
    ("4004-1234", "BR", "shared-cost"),
    ("0800-123-4567", "AR", "toll-free"),
    ("0810-123-4567", "AR", "company's universal access number"),
    ("800 123 4567", "MX", "toll-free"),
    ("01 800 123 4567", "MX", "toll-free"),
    ("300 123 4567", "MX", "shared-cost"),
    ("0800 123 4567", "GB", "toll-free"),
    ("09065 123456", "GB", "premium-rate"),
    ("0300 123 4567", "GB", "company's universal access number"),
    ("076 4012 3456", "GB", "pager"),
    ("0800 1234567", "ID", "toll-free"),
    ("0804 123 4567", "ID", "shared-cost"),
    ("0800 123 45", "PK", "toll-free"),
    ("(021) 111 825 888", "PK", "company's universal access number"),
    ("0800 123 4567", "EG", "toll-free"),
    ("+20 900 123 4567", "IN", "premium-rate"),
    ("0177 99 1234567", "DE", "voicemail"),
]


@pytest.mark.parametrize("raw,region,expected", AT_HOME)
def test_numbers_typed_at_home_become_e164(raw, region, expected):
    assert normalise_phone(raw, region) == expected


@pytest.mark.parametrize("raw,expected", INTERNATIONAL)
def test_international_numbers_read_the_same_in_every_store_region(raw, expected):
    assert {region: normalise_phone(raw, region) for region in (*REGIONS, "")} == dict.fromkeys(
        (*REGIONS, ""), expected
    )


@pytest.mark.parametrize("raw,region,kind", NOT_FOR_WHATSAPP)
def test_numbers_that_cannot_have_whatsapp_are_refused_with_the_reason(raw, region, kind):
    with pytest.raises(InvalidPhone, match=f"That is an? {kind}.*can't have WhatsApp"):
        normalise_phone(raw, region)


def test_the_shops_own_business_number_may_be_toll_free_or_a_landline():
    """Meta registers WhatsApp Business numbers on landlines and toll-free numbers (verified by a call)."""
    assert normalise_business_phone("1800 123 4567", "IN") == "+9118001234567"
    assert normalise_business_phone("+54 11 2345-6789", "AR") == "+541123456789"
    assert normalise_business_phone("+52 1 55 1234 5678", "MX") == "+525512345678"


@pytest.mark.parametrize(
    "raw,region", [("044 55 1234 5678", "IN"), ("045 55 1234 5678", "GB"), ("+52 1 05 1234 5678", "MX")]
)
def test_old_mexican_prefixes_are_only_read_as_such_where_they_can_be(raw, region):
    with pytest.raises(InvalidPhone):
        normalise_phone(raw, region)


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


@pytest.mark.parametrize(
    "wa_id,phone",
    [
        ("919876543210", "+919876543210"),
        ("5215512345678", "+525512345678"),  # Mexico's old mobile form
        ("551187654321", "+5511987654321"),  # a Brazilian mobile from before the ninth digit
        ("5511987654321", "+5511987654321"),
        ("556198765432", "+5561998765432"),
        ("551134567890", "+551134567890"),  # a São Paulo landline: no 9 to add
        ("", None),
        ("user.name", None),
    ],
)
def test_phone_from_wa_id_gives_the_number_as_orders_hold_it(wa_id, phone):
    assert phone_from_wa_id(wa_id) == phone


@pytest.mark.parametrize(
    "phone,forms",
    [
        ("+5511987654321", ("+5511987654321", "+551187654321")),
        ("+551187654321", ("+5511987654321", "+551187654321")),
        ("+5511912345678", ("+5511912345678",)),  # a newer mobile range that never existed without its 9
        ("+551134567890", ("+551134567890",)),
        ("+919876543210", ("+919876543210",)),
        ("", ()),
    ],
)
def test_phone_forms_lists_every_form_one_phone_may_be_stored_under(phone, forms):
    assert phone_forms(phone) == forms
