"""Money: integer minor units with the currency beside them; formatted only at the edge.

Every amount typed by a person (admin payment and refund forms, catalog prices, CSV imports, delivery fees)
is read by `parse_amount` and nowhere else: a short, bounded text of digits, with the group and decimal
symbols of the shop's locale, the currency's symbol or code allowed around it. No exponent ever reaches
`Decimal`: `1e999997` is nine characters, but turning it into minor units is a million-digit integer.
"""

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    format_currency,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    parse_pattern,
)

MAX_AMOUNT_TEXT = 32  # '₹5,84,40,000.00' is 15; anything longer is a paste gone wrong
MAX_AMOUNT_MINOR = 2_000_000_000  # stays inside the 32-bit integer columns that hold amounts
_MAX_EXPONENT = 18  # to_minor's bound for amounts our own code builds: far past any price, far below a slow int

_MACHINE = re.compile(r"(?P<whole>[0-9]+)(?:\.(?P<fraction>[0-9]+))?")
_MINUS_SIGNS = ("-", "\u2212", "\u2012", "\u2013")


class InvalidAmount(ValueError):
    """An amount typed by a person was refused; `message` says why, for that person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def minor_digits(currency: str) -> int:
    return get_currency_precision(currency)


def to_minor(amount: Decimal | str | int, currency: str) -> int:
    """'398.50' INR → 39850, for amounts our own code holds. Text typed by people goes through parse_amount."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise ValueError(f"Not an amount: {amount!r}") from None
    if not value.is_finite() or abs(value.adjusted()) > _MAX_EXPONENT:
        raise ValueError(f"Not an amount: {amount!r}")
    scaled = value.scaleb(minor_digits(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"Too many decimals for {currency}: {amount!r}")
    return int(scaled)


def from_minor(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-minor_digits(currency))


@lru_cache(maxsize=4096)  # Babel is slow and a shop has few distinct prices
def format_money(amount_minor: int, currency: str, locale: str = "en") -> str:
    """39850, 'INR', 'en_IN' → '₹398.50'."""
    return format_currency(from_minor(amount_minor, currency), currency, locale=locale)


def format_amount_for_input(amount_minor: int, currency: str, locale: str = "en") -> str:
    """584400, 'INR', 'en_IN' → '5,844.00': what a form shows to edit, as staff write it; parse_amount reads it back."""
    digits = minor_digits(currency)
    pattern = parse_pattern(_locale(locale).decimal_formats[None].pattern)  # a fresh copy: Babel's is shared
    pattern.frac_prec = (digits, digits)
    return pattern.apply(from_minor(amount_minor, currency), _locale(locale))


def parse_amount(
    text: str, currency: str, locale: str = "en", *, maximum_minor: int = MAX_AMOUNT_MINOR, plain_first: bool = False
) -> int:
    """'₹5,844.50' INR en_IN → 584450; '5.844,50' EUR de_DE → 584450. Raises InvalidAmount with a reason.

    Accepted: digits grouped as the locale groups them (or not at all), the locale's decimal symbol, the
    currency's symbol or code before or after, other scripts' digits. The plain '5844.50' that forms and
    CSV exports write is always accepted too; when it and the locale's reading disagree ('1.500' for a
    three-decimal currency in de_DE), the text is refused as ambiguous rather than guessed, unless
    `plain_first` says the text comes from a file we wrote (a CSV export), where the plain form wins.
    Refused: exponents, signs, more decimals than the currency has, more than `maximum_minor`.
    """
    if len((text or "").strip()) > MAX_AMOUNT_TEXT:
        raise InvalidAmount("That amount is too long.")
    cleaned = _without_currency(_plain_characters(text or "").strip(), currency, locale)
    if not cleaned:
        raise InvalidAmount("Enter an amount.")
    if cleaned.startswith(_MINUS_SIGNS):
        raise InvalidAmount("An amount cannot be negative.")
    digits = minor_digits(currency)
    plain = _MACHINE.fullmatch(cleaned)
    readings = [match for match in (_locale_pattern(locale).fullmatch(cleaned), plain) if match]
    if not readings:
        raise InvalidAmount(f"“{cleaned}” is not an amount; write it like {_example(digits, locale)}.")
    values, problems = set(), []
    for match in readings:
        try:
            values.add(_minor_units(match, currency, digits, maximum_minor, locale))
        except InvalidAmount as problem:
            problems.append(problem)
    if not values:
        raise problems[0]
    if len(values) > 1 and plain_first:
        return _minor_units(plain, currency, digits, maximum_minor, locale)  # two valid readings: plain is one
    if len(values) > 1:
        raise InvalidAmount(f"“{cleaned}” could be read two ways; write it like {_example(digits, locale)}.")
    return values.pop()


def _plain_characters(text: str) -> str:
    """Other scripts' digits become 0-9; invisible marks (bidi marks Babel itself puts around ج.م.) go."""
    kept = []
    for character in text:
        if unicodedata.category(character) == "Cf":
            continue
        kept.append(str(unicodedata.decimal(character)) if character.isdecimal() else character)
    return "".join(kept)


def _without_currency(text: str, currency: str, locale: str) -> str:
    marks = sorted(_currency_marks(currency, locale), key=len, reverse=True)
    folded = text.casefold()
    for mark in marks:
        if folded.startswith(mark):
            return text[len(mark) :].strip()
        if folded.endswith(mark):
            return text[: -len(mark)].strip()
    return text


@lru_cache(maxsize=256)
def _currency_marks(currency: str, locale: str) -> frozenset[str]:
    marks = {currency, get_currency_symbol(currency, "en"), get_currency_symbol(currency, _locale(locale))}
    return frozenset(_plain_characters(mark).strip().casefold() for mark in marks if mark)


@lru_cache(maxsize=256)
def _locale(locale: str) -> Locale:
    try:
        return Locale.parse(locale or "en")
    except (ValueError, UnknownLocaleError):
        return Locale.parse("en")


@lru_cache(maxsize=256)
def _symbols(locale: str) -> tuple[str, str]:
    return get_group_symbol(_locale(locale)), get_decimal_symbol(_locale(locale))


@lru_cache(maxsize=256)
def _locale_pattern(locale: str) -> re.Pattern:
    """Digits grouped in threes (5,844,000) or the Indian way (58,44,000), or not grouped; the locale's symbols."""
    group, decimal = _symbols(locale)
    if group.isspace():
        group_class = r"[\s]"  # French and others group with a narrow no-break space; people type a space
    elif group == "’":
        group_class = "[’']"
    else:
        group_class = re.escape(group)
    whole = rf"[0-9]{{1,3}}(?:{group_class}[0-9]{{3}})+|[0-9]{{1,2}}(?:{group_class}[0-9]{{2}})+{group_class}[0-9]{{3}}|[0-9]+"
    return re.compile(rf"(?P<whole>{whole})(?:{re.escape(decimal)}(?P<fraction>[0-9]+))?")


def _minor_units(match: re.Match, currency: str, digits: int, maximum_minor: int, locale: str) -> int:
    whole = re.sub(r"[^0-9]", "", match["whole"])
    fraction = match["fraction"] or ""
    if len(fraction) > digits:
        allowed = "no decimals" if digits == 0 else f"at most {digits} decimal{'s' if digits > 1 else ''}"
        raise InvalidAmount(f"{currency} amounts have {allowed}.")
    amount_minor = int(whole) * 10**digits + int(fraction.ljust(digits, "0") or "0")
    if amount_minor > maximum_minor:
        raise InvalidAmount(
            f"That amount is too large; at most {format_amount_for_input(maximum_minor, currency, locale)}."
        )
    return amount_minor


def _example(digits: int, locale: str) -> str:
    group, decimal = _symbols(locale)
    fraction = f"{decimal}{'50'.ljust(digits, '0')[:digits]}" if digits else ""
    return f"5844 or 5{group}844{fraction}"
