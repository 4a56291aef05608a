"""Working hours for the chat button: open now, or when a reply can be expected."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from checkout.database import utcnow

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _zone(hours: dict) -> ZoneInfo:
    try:
        return ZoneInfo(hours.get("timezone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _span(hours: dict, day: str) -> tuple[str, str] | None:
    span = hours.get(day)
    if isinstance(span, list | tuple) and len(span) == 2 and all(isinstance(t, str) for t in span):
        return span[0], span[1]
    return None


def is_open(hours: dict, now: datetime | None = None) -> bool:
    """No hours set means always open. Times are the shop's local time ("09:00"–"18:00")."""
    if not any(_span(hours, day) for day in DAYS):
        return True
    local = (now or utcnow()).astimezone(_zone(hours))
    span = _span(hours, DAYS[local.weekday()])
    return span is not None and span[0] <= local.strftime("%H:%M") < span[1]


def next_opening(hours: dict, now: datetime | None = None) -> datetime | None:
    """When the shop next opens (timezone-aware), or None if always open / never open."""
    if not any(_span(hours, day) for day in DAYS):
        return None
    zone = _zone(hours)
    local = (now or utcnow()).astimezone(zone)
    for offset in range(8):
        day = local + timedelta(days=offset)
        span = _span(hours, DAYS[day.weekday()])
        if span is None:
            continue
        hour, minute = (int(x) for x in span[0].split(":"))
        opening = day.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if opening > local:
            return opening
    return None
