"""The delivery date a shop promises at confirmation: its delivery time in days, or an area's own.

The shop sets "2 to 4 days" (0 and 0: it promises no date) and, optionally, areas that differ, one per line:
"560=1-2" (addresses with a postcode starting 560 take 1 to 2 days) or "Kasarani=2" (addresses naming
Kasarani take 2). The most specific area that matches wins (the longest name or prefix). The promise is the
latest day of the range, counted in calendar days from the day the order is confirmed in the shop's zone.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from checkout.dates import local_day
from checkout.models.orders import Order
from checkout.models.store import StoreSettings

DELIVERY_DAYS_MAX = 60
AREA_LINES_MAX = 200
AREA_NAME_MAX = 60
_DAYS = re.compile(r"(\d{1,3})(?:\s*[-–]\s*(\d{1,3}))?")
_DIGIT_RUN = re.compile(r"\d+")


@dataclass(frozen=True)
class DeliveryTime:
    min_days: int
    max_days: int

    @property
    def promised(self) -> bool:
        return self.max_days > 0


@dataclass(frozen=True)
class AreaDeliveryTime:
    area: str  # a postcode prefix (digits) or a place name
    time: DeliveryTime

    def matches(self, address: str) -> bool:
        if self.area.isdigit():
            return any(run.startswith(self.area) for run in _DIGIT_RUN.findall(address))
        return re.search(rf"(?<!\w){re.escape(self.area)}(?!\w)", address, re.IGNORECASE) is not None


class InvalidAreaDays(ValueError):
    """A line of the area table that can't be read; `message` says which and why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def parse_days(text: str) -> DeliveryTime | None:
    """'2' → 2 to 2 days, '2-4' → 2 to 4; None for anything else or a range out of order or over the limit."""
    found = _DAYS.fullmatch(text.strip())
    if not found:
        return None
    low = int(found.group(1))
    high = int(found.group(2)) if found.group(2) else low
    if low > high or high > DELIVERY_DAYS_MAX:
        return None
    return DeliveryTime(low, high)


def parse_area_days(text: str) -> list[AreaDeliveryTime]:
    """The area table, one "area=days" per line (blank lines skipped); raises InvalidAreaDays naming the line."""
    areas = []
    lines = [line.strip() for line in (text or "").splitlines()]
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        area, equals, days = line.partition("=")
        area = " ".join(area.split())
        time = parse_days(days) if equals else None
        if not area or len(area) > AREA_NAME_MAX or time is None:
            raise InvalidAreaDays(
                f"Line {number} ({line[:40]}): write an area or postcode start, '=', and days, like 560=1-2 "
                f"or Kasarani=2 (at most {DELIVERY_DAYS_MAX} days)."
            )
        areas.append(AreaDeliveryTime(area, time))
    if len(areas) > AREA_LINES_MAX:
        raise InvalidAreaDays(f"At most {AREA_LINES_MAX} areas.")
    return areas


def delivery_time_for(address: str, settings: StoreSettings) -> DeliveryTime:
    """How long delivery to `address` takes: the most specific matching area's days, else the shop's."""
    try:
        areas = parse_area_days(settings.delivery_area_days or "")
    except InvalidAreaDays:
        areas = []  # saved before a rule changed: the shop's own days still hold
    matching = [area for area in areas if area.matches(address or "")]
    if matching:
        return max(matching, key=lambda area: len(area.area)).time
    return DeliveryTime(settings.delivery_days_min or 0, settings.delivery_days_max or 0)


def promised_delivery_date(order: Order, settings: StoreSettings, now: datetime) -> date | None:
    """The date to tell the customer at confirmation, or None (pickup, or the shop promises no date)."""
    if order.fulfilment != "delivery":
        return None
    time = delivery_time_for(order.delivery_address, settings)
    if not time.promised:
        return None
    return local_day(now, settings.zone_name) + timedelta(days=time.max_days)
