"""How the conversation card words the 24-hour window: "Customer wrote 5 min ago — you can reply freely until 2:05 pm"."""

from datetime import datetime, timedelta

from checkout.dates import format_moment, local_day
from checkout.models.store import get_store_settings
from checkout.staff.conversation import ConversationWindow


def window_sentence(window: ConversationWindow) -> str:
    """One sentence for staff: whether they may write freely, and until when."""
    if window.last_inbound_at is None:
        return "The customer hasn't written to you on WhatsApp yet. Only templates can be sent."
    wrote = time_ago(window.as_of - window.last_inbound_at)
    if window.open:
        return f"Customer wrote {wrote} — you can reply freely until {_clock(window.closes_at, window.as_of)}."
    return f"Customer last wrote {wrote}; the 24-hour window is closed. Only templates can be sent."


def time_ago(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} days ago"


def _clock(moment: datetime, now: datetime) -> str:
    """'2:05 pm' today, 'tomorrow 2:05 pm', else with the date: in the shop's time zone and locale."""
    settings = get_store_settings()
    zone_name, locale = settings.zone_name, settings.locale
    if local_day(moment, zone_name) == local_day(now, zone_name):
        return format_moment(moment, zone_name, locale, "time")
    if local_day(moment, zone_name) == local_day(now, zone_name) + timedelta(days=1):
        return "tomorrow " + format_moment(moment, zone_name, locale, "time")
    return format_moment(moment, zone_name, locale)
