"""Money: integer minor units with the currency beside them, Decimal in between, text only at the edge."""

from decimal import Decimal

import pytest

from checkout.money import format_money, from_minor, minor_digits, to_minor


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
