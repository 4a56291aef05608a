"""Money: integer minor units with the currency beside them; formatted only at the edge."""

from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision


def minor_digits(currency: str) -> int:
    return get_currency_precision(currency)


def to_minor(amount: Decimal | str | int, currency: str) -> int:
    """'398.50' INR → 39850. Rejects amounts with more decimals than the currency has."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise ValueError(f"Not an amount: {amount!r}") from None
    if not value.is_finite():
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
