"""Quiet hours in the shop's own clock: when a reminder must wait, and until when."""

from datetime import UTC, datetime

import pytest

from checkout.models.store import StoreSettings
from checkout.shop.quiet_hours import InvalidClockTime, parse_clock, quiet_until


def shop(start: str, end: str, zone: str = "Asia/Kolkata") -> StoreSettings:
    return StoreSettings(quiet_hours_start=start, quiet_hours_end=end, time_zone=zone, default_region="IN")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "now,until",
    [
        ("2026-12-01T17:00", "2026-12-02T02:30"),  # 22:30 in Kolkata: quiet until 08:00 tomorrow (02:30 UTC)
        ("2026-12-01T20:00", "2026-12-02T02:30"),  # 01:30 after midnight: the same night
        ("2026-12-02T02:29", "2026-12-02T02:30"),  # 07:59
        ("2026-12-02T02:30", None),  # 08:00: the quiet hours are over
        ("2026-12-01T10:00", None),  # 15:30
    ],
)
def test_quiet_hours_across_midnight_end_at_the_next_morning(now, until):
    assert quiet_until(shop("22:00", "08:00"), utc(now)) == (utc(until) if until else None)


def test_quiet_hours_within_a_day():
    settings = shop("13:00", "14:00", "Africa/Nairobi")  # UTC+3
    assert quiet_until(settings, utc("2026-12-01T10:30")) == utc("2026-12-01T11:00")
    assert quiet_until(settings, utc("2026-12-01T11:00")) is None


@pytest.mark.parametrize("start,end", [("", ""), ("22:00", ""), ("08:00", "08:00"), ("nonsense", "08:00")])
def test_no_quiet_hours_unless_both_ends_make_a_span(start, end):
    assert quiet_until(shop(start, end), utc("2026-12-01T20:00")) is None


@pytest.mark.parametrize("text,expected", [("8:00", (8, 0)), ("22:30", (22, 30)), (" 07:05 ", (7, 5))])
def test_clock_times_are_read_on_the_24_hour_clock(text, expected):
    assert (parse_clock(text).hour, parse_clock(text).minute) == expected


@pytest.mark.parametrize("text", ["24:00", "7", "07:5", "7pm", "", "07:60", "-1:00"])
def test_anything_else_is_not_a_clock_time(text):
    with pytest.raises(InvalidClockTime):
        parse_clock(text)
