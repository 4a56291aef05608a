"""Money: integer minor units with the currency beside them, Decimal in between, text only at the edge."""

import re
from decimal import Decimal

import pytest

from checkout.money import (
    InvalidAmount,
    format_amount_for_input,
    format_money,
    from_minor,
    minor_digits,
    parse_amount,
    to_minor,
)


@pytest.mark.parametrize(
    "amount_minor,currency,locale,expected",
    [
        (39850, "INR", "en_IN", "₹398.50"),
        (123456789, "INR", "en_IN", "₹12,34,567.89"),  # Indian lakh grouping
        (0, "INR", "en_IN", "₹0.00"),
        (5, "INR", "en_IN", "₹0.05"),
        (123450, "KES", "en_KE", "Ksh1,234.50"),
        (123450, "KES", "sw_KE", "Ksh\xa01,234.50"),
        (123450, "BRL", "pt_BR", "R$\xa01.234,50"),
        (1500, "JPY", "ja_JP", "￥1,500"),
        (1500, "JPY", "en", "¥1,500"),
    ],
)
def test_format_money_uses_the_currency_symbol_grouping_and_decimals_of_the_locale(
    amount_minor, currency, locale, expected
):
    assert format_money(amount_minor, currency, locale) == expected


def test_currencies_have_their_own_number_of_decimals():
    assert (minor_digits("INR"), minor_digits("KES"), minor_digits("BRL"), minor_digits("JPY")) == (2, 2, 2, 0)
    assert minor_digits("BHD") == 3


@pytest.mark.parametrize(
    "amount,currency,expected",
    [
        ("398.50", "INR", 39850),
        ("398.5", "INR", 39850),
        ("398", "INR", 39800),
        (Decimal("398.50"), "INR", 39850),
        (12, "INR", 1200),
        ("0.01", "KES", 1),
        ("1234.50", "BRL", 123450),
        ("1500", "JPY", 1500),
        (Decimal("1500.00"), "JPY", 1500),
        ("1.234", "BHD", 1234),
        (" 12.50 ", "INR", 1250),
    ],
)
def test_to_minor_reads_decimals_and_strings_into_exact_integers(amount, currency, expected):
    result = to_minor(amount, currency)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    "amount,currency", [("398.505", "INR"), (Decimal("0.001"), "KES"), ("1500.5", "JPY"), ("1.2345", "BHD")]
)
def test_to_minor_refuses_more_decimals_than_the_currency_has(amount, currency):
    with pytest.raises(ValueError, match="Too many decimals"):
        to_minor(amount, currency)


@pytest.mark.parametrize("amount", ["", "abc", "1,000", "₹10", "12.5.0"])
def test_to_minor_refuses_text_that_is_not_an_amount(amount):
    with pytest.raises(ValueError, match="Not an amount"):
        to_minor(amount, "INR")


@pytest.mark.parametrize("amount", ["Infinity", "-Infinity"])
def test_to_minor_refuses_infinity_with_a_value_error(amount):
    with pytest.raises(ValueError):
        to_minor(amount, "INR")


@pytest.mark.parametrize(
    "amount_minor,currency,expected",
    [(39850, "INR", Decimal("398.50")), (1, "KES", Decimal("0.01")), (1500, "JPY", Decimal("1500")), (0, "BRL", 0)],
)
def test_from_minor_gives_an_exact_decimal(amount_minor, currency, expected):
    result = from_minor(amount_minor, currency)
    assert result == expected
    assert isinstance(result, Decimal)


@pytest.mark.parametrize("currency", ["INR", "KES", "BRL", "JPY", "BHD"])
@pytest.mark.parametrize("amount_minor", [0, 1, 7, 99, 100, 39850, 123456789, 2**53 + 1])
def test_minor_units_round_trip_through_decimal_and_text(amount_minor, currency):
    as_decimal = from_minor(amount_minor, currency)
    assert to_minor(as_decimal, currency) == amount_minor
    assert to_minor(str(as_decimal), currency) == amount_minor


def test_amounts_beyond_float_precision_stay_exact():
    # 2**53 + 1 is the first integer a float cannot hold; any float on the way would lose the last paisa.
    amount_minor = 2**53 + 1
    assert from_minor(amount_minor, "INR") == Decimal("90071992547409.93")
    assert format_money(amount_minor, "INR", "en_IN") == "₹9,00,71,99,25,47,409.93"
    assert to_minor("90071992547409.93", "INR") == amount_minor


# ---------------------------------------------------------------- amounts typed by people: parse_amount


@pytest.mark.parametrize(
    "text,currency,locale,expected",
    [
        ("5844", "INR", "en_IN", 584400),
        ("5,844.00", "INR", "en_IN", 584400),
        ("₹5,844.00", "INR", "en_IN", 584400),
        ("₹ 58,44,000.50", "INR", "en_IN", 584400050),  # lakh grouping, as format_money writes it
        ("5,844,000", "INR", "en_IN", 584400000),  # grouped in thousands also reads
        ("INR 5844.5", "INR", "en_IN", 584450),
        ("5844 inr", "INR", "en_IN", 584400),
        ("  350.00 ", "INR", "en_IN", 35000),
        ("0", "INR", "en_IN", 0),
        ("5.844,00", "EUR", "de_DE", 584400),
        ("5.844,00 €", "EUR", "de_DE", 584400),
        ("5844,5", "EUR", "de_DE", 584450),
        ("1.500", "EUR", "de_DE", 150000),  # the locale's grouping: 1.500 euros cannot be 1.5 with three decimals
        ("799.50", "EUR", "de_DE", 79950),  # the plain form forms and CSV exports write always reads
        ("5 844,00", "EUR", "fr_FR", 584400),  # typed space for French narrow no-break space
        ("5\u202f844,00\xa0€", "EUR", "fr_FR", 584400),  # exactly as format_money writes it
        ("R$ 5.844,00", "BRL", "pt_BR", 584400),
        ("Rp5.844", "IDR", "id_ID", 584400),
        ("Ksh 5,844.00", "KES", "sw_KE", 584400),
        ("KES 5844", "KES", "en_KE", 584400),
        ("₦5,844", "NGN", "en_NG", 584400),
        ("\u200f5,844.00 ج.م.\u200f", "EGP", "ar_EG", 584400),  # with the bidi marks Babel writes
        ("٥٨٤٤", "EGP", "ar_EG", 584400),  # Arabic-Indic digits
        ("1’234.50", "CHF", "de_CH", 123450),
        ("1'234.50", "CHF", "de_CH", 123450),
        ("¥1,500", "JPY", "en", 1500),
        ("1.234", "BHD", "en", 1234),
    ],
)
def test_parse_amount_reads_what_staff_type_and_see(text, currency, locale, expected):
    result = parse_amount(text, currency, locale)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    "text,currency,locale,message",
    [
        ("1e999997", "INR", "en_IN", "“1e999997” is not an amount; write it like 5844 or 5,844.50."),
        ("1e400000", "INR", "en_IN", "is not an amount"),
        ("1e1000000", "INR", "en_IN", "is not an amount"),
        ("1E3", "INR", "en_IN", "is not an amount"),
        ("NaN", "INR", "en_IN", "is not an amount"),
        ("Infinity", "INR", "en_IN", "is not an amount"),
        ("abc", "INR", "en_IN", "is not an amount"),
        ("12.5.0", "INR", "en_IN", "is not an amount"),
        ("5,84", "INR", "en_IN", "is not an amount"),  # not how en_IN groups: a typo for 5.84 or 584?
        ("5.844,00", "INR", "en_IN", "is not an amount"),  # the German way in an Indian shop
        ("5 844", "INR", "en_IN", "is not an amount"),
        ("$100", "INR", "en_IN", "is not an amount"),  # another currency's symbol
        ("0x10", "INR", "en_IN", "is not an amount"),
        ("1_000", "INR", "en_IN", "is not an amount"),
        ("+5", "INR", "en_IN", "is not an amount"),
        ("-5", "INR", "en_IN", "An amount cannot be negative."),
        ("₹-5", "INR", "en_IN", "An amount cannot be negative."),
        ("398.505", "INR", "en_IN", "INR amounts have at most 2 decimals."),
        ("1500.5", "JPY", "ja_JP", "JPY amounts have no decimals."),
        ("5.844", "INR", "en_IN", "INR amounts have at most 2 decimals."),
        ("20000000.01", "INR", "en_IN", "That amount is too large; at most 2,00,00,000.00."),
        ("99999999999", "INR", "en_IN", "too large"),
        ("9" * 40, "INR", "en_IN", "That amount is too long."),
        ("", "INR", "en_IN", "Enter an amount."),
        ("  ₹ ", "INR", "en_IN", "Enter an amount."),
        ("1.500", "KWD", "de_DE", "could be read two ways"),  # 1500 or 1.5 dinars: refused, not guessed
    ],
)
def test_parse_amount_refuses_with_a_reason_for_people(text, currency, locale, message):
    with pytest.raises(InvalidAmount, match=re.escape(message)):
        parse_amount(text, currency, locale)


def test_an_exponent_never_reaches_decimal():
    """'1e999997' once took a gunicorn worker's 30 s: Decimal read it, int() built a million digits."""
    with pytest.raises(InvalidAmount):
        parse_amount("1e999997", "INR", "en_IN")
    with pytest.raises(ValueError, match="Not an amount"):
        to_minor("1e999997", "INR")  # our own code's amounts are bounded too
    with pytest.raises(ValueError, match="Not an amount"):
        to_minor(Decimal("1e-400000"), "INR")


def test_a_smaller_maximum_can_be_asked_for():
    assert parse_amount("10", "INR", "en_IN", maximum_minor=1000) == 1000
    with pytest.raises(InvalidAmount, match="too large"):
        parse_amount("10.01", "INR", "en_IN", maximum_minor=1000)


@pytest.mark.parametrize(
    "amount_minor,currency,locale,expected",
    [
        (584400, "INR", "en_IN", "5,844.00"),
        (584400000, "INR", "en_IN", "58,44,000.00"),
        (584450, "EUR", "de_DE", "5.844,50"),
        (584450, "EUR", "fr_FR", "5\u202f844,50"),
        (1500, "JPY", "ja_JP", "1,500"),
        (1234, "BHD", "en", "1.234"),
        (5, "KES", "sw_KE", "0.05"),
    ],
)
def test_amounts_shown_for_editing_read_back_unchanged(amount_minor, currency, locale, expected):
    shown = format_amount_for_input(amount_minor, currency, locale)
    assert shown == expected
    assert parse_amount(shown, currency, locale) == amount_minor


def test_a_file_we_wrote_is_read_plain_first_where_a_locale_would_read_it_otherwise():
    """Tunisian dinars have three decimals and ar_TN groups with '.': '12.500' is 12.5 TND or 12,500 TND."""
    with pytest.raises(InvalidAmount, match="could be read two ways"):
        parse_amount("12.500", "TND", "ar_TN")
    assert parse_amount("12.500", "TND", "ar_TN", plain_first=True) == 12500
    assert parse_amount("12.500,000", "TND", "ar_TN", plain_first=True) == 12500000  # only the locale reads it
    assert parse_amount(format_amount_for_input(12500, "TND", "ar_TN"), "TND", "ar_TN") == 12500
