"""Dates shown to customers are written the way the shop's locale writes them."""

from datetime import date

from checkout.dates import format_day


def test_a_day_is_written_in_the_shops_locale():
    day = date(2026, 12, 4)
    assert format_day(day, "en_IN") == "4 Dec 2026"
    assert format_day(day, "en_US") == "Dec 4, 2026"
    assert format_day(day, "pt_BR") == "4 de dez. de 2026"


def test_no_day_is_an_empty_string_and_an_unknown_locale_falls_back_to_english():
    assert format_day(None, "en_IN") == ""
    assert format_day(date(2026, 12, 4), "xx_YY") == "Dec 4, 2026"
