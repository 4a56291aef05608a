"""Quiet hours: the shop's local times when no reminder or recovery message goes out ("22:00" to "08:00").

A message due inside them waits for their end: the sweep skips it until then. Both ends empty means none.
"""

from datetime import UTC, datetime, time, timedelta

from checkout.dates import local, zone
from checkout.models.store import StoreSettings


class InvalidClockTime(ValueError):
    """Not a 24-hour clock time like 08:00 or 22:30."""


def parse_clock(text: str) -> time:
    """'8:00' → time(8, 0); '22:30' → time(22, 30); raises InvalidClockTime for anything else."""
    hours, _, minutes = (text or "").strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) <= 2):
        raise InvalidClockTime(text)
    if int(hours) > 23 or int(minutes) > 59:
        raise InvalidClockTime(text)
    return time(int(hours), int(minutes))


def _span(settings: StoreSettings) -> tuple[time, time] | None:
    if not settings.quiet_hours_start or not settings.quiet_hours_end:
        return None
    try:
        start, end = parse_clock(settings.quiet_hours_start), parse_clock(settings.quiet_hours_end)
    except InvalidClockTime:
        return None  # a value stored before a rule changed: no quiet hours rather than no messages ever
    return (start, end) if start != end else None


def quiet_until(settings: StoreSettings, now: datetime) -> datetime | None:
    """When the quiet hours `now` falls in end (UTC), or None when `now` is not in quiet hours."""
    span = _span(settings)
    if span is None:
        return None
    start, end = span
    wall = local(now, settings.zone_name)
    clock = wall.time().replace(tzinfo=None)
    if start < end:
        inside, end_day = start <= clock < end, wall.date()
    else:  # across midnight: 22:00 to 08:00
        inside = clock >= start or clock < end
        end_day = wall.date() + timedelta(days=1) if clock >= start else wall.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=zone(settings.zone_name)).astimezone(UTC)


def is_quiet(settings: StoreSettings, now: datetime) -> bool:
    return quiet_until(settings, now) is not None
