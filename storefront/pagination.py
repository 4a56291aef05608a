"""The catalog in pages: a phone downloads the pictures of one page, not of the whole shop.

Chrome fetches lazy pictures within about 1,250 px of the screen, so on a phone's two columns a long
catalog costs every picture at once. Twelve cards fill two, three or four columns evenly.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil
from typing import Generic, TypeVar

from checkout.web.integer_input import parse_whole_number

PRODUCTS_PER_PAGE = 12
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int  # from 1
    count: int  # how many pages there are (at least one, even when nothing matches)

    @property
    def previous_number(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next_number(self) -> int | None:
        return self.number + 1 if self.number < self.count else None


def page_number(text: str | None) -> int:
    """The page a `?page=` asks for: 1 when it is missing or not a whole number from 1."""
    return parse_whole_number(text, minimum=1, maximum=10_000) or 1


def page_of(items: Sequence[T], number: int, per_page: int = PRODUCTS_PER_PAGE) -> Page[T]:
    """Page `number` of `items`; past the last page, the last page (an old link still shows products)."""
    count = max(1, ceil(len(items) / per_page))
    number = min(max(number, 1), count)
    start = (number - 1) * per_page
    return Page(list(items[start : start + per_page]), number, count)
