"""Values staff type into the catalog, in forms and CSV files alike: prices, SKUs, stock, options, slugs.

Each parser returns the stored value or raises InvalidValue with a message staff can act on; the
limits here are the ones the forms and the import both enforce.
"""

import re
import unicodedata

from checkout.catalog.errors import InvalidValue
from checkout.models.catalog import ProductKind, ProductStatus
from checkout.money import InvalidAmount, from_minor, parse_amount

NAME_MAX = 120
SLUG_MAX = 140
SKU_MAX = 64
CATEGORY_MAX = 80
DESCRIPTION_MAX = 5000
OPTIONS_MAX = 300
OPTION_PART_MAX = 40
KEYWORDS_MAX = 500  # Product.keywords, as stored: "chai, tea, चाय"
KEYWORD_MAX = 60
PRICE_MAX_MINOR = 1_000_000_000  # well inside the 32-bit integer column, so a typo is an error, not a 500
STOCK_MAX = 1_000_000
DURATION_MAX_MINUTES = 24 * 60  # a service unit is at most a day; longer ones are sold as several units

SKU_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
WHOLE_NUMBER_PATTERN = re.compile(r"[0-9]+")
SIGNED_NUMBER_PATTERN = re.compile(r"[+-]?[0-9]+")
STATUSES = tuple(status.value for status in ProductStatus)
KINDS = tuple(kind.value for kind in ProductKind)


def check_sku(text: str) -> str:
    sku = text.strip()
    if not sku:
        raise InvalidValue("Enter a SKU.")
    if len(sku) > SKU_MAX:
        raise InvalidValue(f"A SKU can be at most {SKU_MAX} characters.")
    if not SKU_PATTERN.fullmatch(sku):
        raise InvalidValue(
            f"“{sku}” is not a valid SKU: use letters, digits and . _ / - (no spaces), starting with a letter or digit."
        )
    return sku


def parse_price(text: str, currency: str, locale: str = "en", *, from_file: bool = False) -> int:
    """'799.50' or '₹799.50' → 79950 minor units, read by money.parse_amount; refuses what it refuses.

    `from_file`: a CSV cell, where the plain '12.500' format_price exports wins over a locale's reading
    of the same text (12500 in ar_TN, whose dinar has three decimals and whose group symbol is '.').
    """
    if not text.strip():
        raise InvalidValue("Enter a price.")
    try:
        return parse_amount(text, currency, locale, maximum_minor=PRICE_MAX_MINOR, plain_first=from_file)
    except InvalidAmount as error:
        raise InvalidValue(error.message) from None


def format_price(price_minor: int, currency: str) -> str:
    """79950 INR → '799.50': the plain decimal staff type and the CSV carries (no symbol)."""
    return f"{from_minor(price_minor, currency):f}"


def parse_stock(text: str) -> int:
    quantity = text.strip()
    if not quantity:
        raise InvalidValue("Enter a stock quantity (0 or more).")
    if not WHOLE_NUMBER_PATTERN.fullmatch(quantity):
        raise InvalidValue(f"“{quantity}” is not a stock quantity; use a whole number, 0 or more.")
    if len(quantity) > len(str(STOCK_MAX)) or int(quantity) > STOCK_MAX:
        raise InvalidValue(f"Stock can be at most {STOCK_MAX:,}.")
    return int(quantity)


def parse_kind(text: str) -> str:
    """'goods' (also blank: what every product was before services) or 'service', in any case."""
    kind = text.strip().lower() or ProductKind.GOODS.value
    if kind not in KINDS:
        raise InvalidValue(f"Unknown kind “{text.strip()}”; use " + " or ".join(KINDS) + ".")
    return kind


def parse_duration(text: str, kind: str) -> int | None:
    """A service's paid minutes per unit ('60' → 60); goods have none, so their cell must stay blank."""
    typed = text.strip()
    if kind != ProductKind.SERVICE:
        if typed:
            raise InvalidValue("Only a service has a duration; leave it blank for goods.")
        return None
    if not typed:
        raise InvalidValue("Enter the minutes a service gives, like 60.")
    if not WHOLE_NUMBER_PATTERN.fullmatch(typed) or len(typed) > 5 or not 1 <= int(typed) <= DURATION_MAX_MINUTES:
        raise InvalidValue(f"The duration is a whole number of minutes, from 1 to {DURATION_MAX_MINUTES:,}.")
    return int(typed)


def format_duration(minutes: int | None) -> str:
    """60 → '60 minutes', 1 → '1 minute': how a service's length reads to customers and staff."""
    if not minutes:
        return ""
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def parse_stock_delta(text: str) -> int:
    """'+10' → 10, '-2' or '−2' → -2. Zero is refused: an adjustment changes something."""
    typed = text.strip().replace("\u2212", "-")  # the minus sign some keyboards and phones type
    if not SIGNED_NUMBER_PATTERN.fullmatch(typed):
        raise InvalidValue("Enter a whole number of units: +10 for stock received, -2 for stock removed.")
    delta = int(typed) if len(typed.lstrip("+-")) <= len(str(STOCK_MAX)) else STOCK_MAX + 1
    if delta == 0:
        raise InvalidValue("Enter a change other than 0.")
    if abs(delta) > STOCK_MAX:
        raise InvalidValue(f"A single adjustment can be at most {STOCK_MAX:,} units.")
    return delta


def parse_options(text: str) -> dict[str, str]:
    """'Size=M, Colour=Red' (or with ';') → {'Size': 'M', 'Colour': 'Red'}; blank → {}."""
    if len(text) > OPTIONS_MAX:
        raise InvalidValue(f"Options can be at most {OPTIONS_MAX} characters.")
    options: dict[str, str] = {}
    for part in re.split(r"[;,]", text):
        if not part.strip():
            continue
        name, equals, value = (piece.strip() for piece in part.partition("="))
        if not equals or not name or not value:
            raise InvalidValue(f"Write options as Name=Value pairs, like “Size=M, Colour=Red” (not “{part.strip()}”).")
        if name.casefold() in {known.casefold() for known in options}:
            raise InvalidValue(f"The option “{name}” is given twice.")
        if len(name) > OPTION_PART_MAX or len(value) > OPTION_PART_MAX:
            raise InvalidValue(f"Option names and values can be at most {OPTION_PART_MAX} characters.")
        options[name] = value
    return options


def parse_keywords(text: str) -> str:
    """'chai,  Tea ; चाय' → 'chai, Tea, चाय': words customers use for a product, comma-separated; blank → ''.

    Commas, semicolons and new lines all separate keywords; repeats (in any case) are dropped.
    """
    keywords: list[str] = []
    for part in re.split(r"[,;\n]", text):
        keyword = " ".join(part.split())
        if not keyword or keyword.casefold() in {known.casefold() for known in keywords}:
            continue
        if len(keyword) > KEYWORD_MAX:
            raise InvalidValue(f"A keyword can be at most {KEYWORD_MAX} characters (“{keyword[:20]}…” is longer).")
        keywords.append(keyword)
    joined = ", ".join(keywords)
    if len(joined) > KEYWORDS_MAX:
        raise InvalidValue(f"Keywords can be at most {KEYWORDS_MAX} characters in all.")
    return joined


def format_options(options: dict[str, str], separator: str = ", ") -> str:
    return separator.join(f"{name}={value}" for name, value in options.items())


def options_key(options: dict[str, str]) -> frozenset:
    """What makes two variants' options the same: names and values compared in any case."""
    return frozenset((name.casefold(), value.casefold()) for name, value in options.items())


def slugify(text: str, max_length: int = SLUG_MAX, fallback: str = "product") -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].strip("-") or fallback
