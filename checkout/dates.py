"""Dates and moments shown to people: in the shop's time zone and locale, at the edge, like money.

Moments are stored as timezone-aware UTC; this module is the one place that turns one into what a person
in the shop (or its customer) reads: `format_moment(at, zone, locale)` → '2 Jan 2026, 1:30 am'.
"""

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import UnknownLocaleError
from babel.core import get_global
from babel.dates import format_date, format_time, get_datetime_format

# Countries spanning several zones: the zone most of their people live in (CLDR lists them alphabetically).
_MAIN_ZONE = {
    "US": "America/New_York",
    "CA": "America/Toronto",
    "BR": "America/Sao_Paulo",
    "MX": "America/Mexico_City",
    "AR": "America/Argentina/Buenos_Aires",
    "RU": "Europe/Moscow",
    "AU": "Australia/Sydney",
    "ID": "Asia/Jakarta",
    "KZ": "Asia/Almaty",
    "CN": "Asia/Shanghai",
    "CD": "Africa/Kinshasa",
    "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon",
    "CL": "America/Santiago",
    "EC": "America/Guayaquil",
    "MN": "Asia/Ulaanbaatar",
    "MY": "Asia/Kuala_Lumpur",
    "NZ": "Pacific/Auckland",
    "UA": "Europe/Kyiv",
    "DE": "Europe/Berlin",
}


class UnknownTimeZone(ValueError):
    """A time zone name the zone database doesn't know."""


def default_time_zone(region: str) -> str:
    """The time zone a shop in country `region` most likely keeps: 'IN' → 'Asia/Kolkata'; unknown → 'UTC'."""
    region = (region or "").upper()
    if region in _MAIN_ZONE:
        return _MAIN_ZONE[region]
    zones = get_global("territory_zones").get(region) or []
    return zones[0] if zones else "UTC"


def normalise_time_zone(name: str) -> str:
    """'asia/kolkata ' → 'Asia/Kolkata'; raises UnknownTimeZone for anything the zone database lacks."""
    text = (name or "").strip()
    known = {zone.lower(): zone for zone in _known_zones()}
    if text.lower() not in known:
        raise UnknownTimeZone(text)
    return known[text.lower()]


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The zone called `name`, or UTC when there is no such zone (a value saved before a rule changed)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local(moment: datetime, zone_name: str) -> datetime:
    """`moment` (aware; naive counts as UTC) as the wall clock reads in `zone_name`."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone(zone_name))


def local_day(moment: datetime, zone_name: str) -> date:
    """The calendar day `moment` falls on in the shop: 20:00 UTC on 1 Jan is 2 Jan in Asia/Kolkata."""
    return local(moment, zone_name).date()


@lru_cache(maxsize=4096)  # Babel is slow; a page shows the same few moments again and again
def format_moment(moment: datetime | None, zone_name: str = "UTC", locale: str = "en", style: str = "datetime") -> str:
    """A moment as the shop reads it, in its zone and locale.

    style 'datetime' → '2 Jan 2026, 1:30 am'; 'time' → '1:30 am'; 'date' → '2 Jan 2026'. None → ''.
    """
    if moment is None:
        return ""
    at = local(moment, zone_name)
    try:
        text = _format(at, style, locale or "en")
    except (UnknownLocaleError, ValueError):
        text = _format(at, style, "en")
    # CLDR puts a narrow no-break space before am/pm; WhatsApp, spreadsheets and search read a plain space.
    return text.replace("\u202f", " ")


def _format(at: datetime, style: str, locale: str) -> str:
    if style == "time":
        return format_time(at, "short", tzinfo=at.tzinfo, locale=locale)
    day = format_date(at.date(), "medium", locale=locale)
    if style == "date":
        return day
    clock = format_time(at, "short", tzinfo=at.tzinfo, locale=locale)
    return get_datetime_format("medium", locale=locale).replace("{1}", day).replace("{0}", clock)


@lru_cache(maxsize=1024)  # Babel is slow; a shop shows few distinct dates
def format_day(day: date | None, locale: str = "en") -> str:
    """date(2026, 12, 1), 'en_IN' → '1 Dec 2026'; None → '' (so a message line about it drops out)."""
    if day is None:
        return ""
    try:
        return format_date(day, format="medium", locale=locale or "en")
    except (UnknownLocaleError, ValueError):
        return format_date(day, format="medium", locale="en")


def format_window(
    start: datetime | None,
    end: datetime | None,
    zone_name: str = "UTC",
    locale: str = "en",
    now: datetime | None = None,
) -> str:
    """A delivery window as the customer reads it, in the shop's zone: 'today 2:00 pm–5:00 pm'.

    With `now`, the day is said as "today" or "tomorrow" when it is one of those; without it (a document other
    systems keep), as a date: '2 Dec 2026, 2:00 pm–5:00 pm'. A window across midnight names both moments.
    None (no window) → ''.
    """
    if start is None or end is None:
        return ""
    first, last = local(start, zone_name), local(end, zone_name)
    if first.date() != last.date():
        return f"{format_moment(start, zone_name, locale)} – {format_moment(end, zone_name, locale)}"
    day = format_day(first.date(), locale)
    if now is not None:
        today = local_day(now, zone_name)
        day = {today: "today", today + timedelta(days=1): "tomorrow"}.get(first.date(), day)
    clock = f"{format_moment(start, zone_name, locale, 'time')}–{format_moment(end, zone_name, locale, 'time')}"
    return f"{day} {clock}" if now is not None and day in ("today", "tomorrow") else f"{day}, {clock}"
