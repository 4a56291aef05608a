"""Whole numbers from outside (URL parts, query strings, forms), range-checked where they are parsed.

Every id column is a database `integer` (PostgreSQL: 32-bit signed): a larger number cannot name a row,
and handing one to the database makes it raise instead of finding nothing.
"""

from werkzeug.routing import IntegerConverter

ID_MAX = 2**31 - 1


def parse_whole_number(text: str | None, *, minimum: int = 0, maximum: int = ID_MAX) -> int | None:
    """`text` as an int when it is plain ASCII digits within [minimum, maximum]; None for anything else.

    (`str.isdigit()` alone is not enough: it accepts "²", which `int()` refuses.)
    """
    text = (text or "").strip()
    if not text or len(text) > len(str(maximum)) or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def parse_id(text: str | None) -> int | None:
    """A row id (1 to ID_MAX) typed in a URL or form; None if it cannot be one."""
    return parse_whole_number(text, minimum=1)


class BoundedIntegerConverter(IntegerConverter):
    """`<int:...>` in every route: a number past ID_MAX matches no route (a 404), never a database error."""

    def __init__(self, map, fixed_digits=0, min=None, max=ID_MAX, signed=False):  # noqa: A002  (werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register(app) -> None:
    """Replace werkzeug's unbounded `int` converter; call before any blueprint adds its routes."""
    app.url_map.converters["int"] = BoundedIntegerConverter
