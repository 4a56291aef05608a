"""Dashboard figures: orders and revenue per period, orders waiting, the conversion funnel, orders per day.

Every figure is one aggregate query (COUNT/SUM ... GROUP BY), never a loop over orders in Python, and reads
the same on SQLite and PostgreSQL. Periods are half-open [start, end) in UTC; days are UTC days for now.
Cancelled orders count neither as orders nor as revenue, except in the funnel, where every order created
counts as "created".
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Date, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from checkout.extensions import db
from checkout.models.orders import Order, OrderEvent
from checkout.models.store import CartStart
from checkout.orders.lifecycle import OrderStatus

S = OrderStatus
# Plain strings in queries: the status column is text, and drivers differ in how they send enum members.
PENDING, CANCELLED, CONFIRMED, DELIVERED = S.PENDING.value, S.CANCELLED.value, S.CONFIRMED.value, S.DELIVERED.value
CONFIRMED_OR_LATER = tuple(
    s.value for s in (S.CONFIRMED, S.PREPARING, S.SHIPPED, S.OUT_FOR_DELIVERY, S.READY_FOR_PICKUP, S.DELIVERED)
)


class utc_date(FunctionElement):
    """The UTC calendar day of a timestamp column, as a DATE, on either database."""

    type = Date()
    name = "utc_date"
    inherit_cache = True


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element, compiler, **kw):
    # timestamptz::date would use the session's time zone; AT TIME ZONE 'UTC' pins the day to UTC.
    return f"CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC' AS DATE)"


@compiles(utc_date, "sqlite")
def _utc_date_sqlite(element, compiler, **kw):
    # SQLite holds our timestamps as naive UTC text ('2025-03-01 23:30:00.000000'); date() keeps the day.
    return f"date({compiler.process(element.clauses, **kw)})"


# ---------------------------------------------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    start: datetime
    end: datetime


def start_of_day(moment: datetime) -> datetime:
    return datetime.combine(moment.astimezone(UTC).date(), time.min, tzinfo=UTC)


def today(now: datetime) -> Period:
    start = start_of_day(now)
    return Period("today", "Today", start, start + timedelta(days=1))


def this_week(now: datetime) -> Period:
    """Monday 00:00 UTC of this week until next Monday."""
    start = start_of_day(now) - timedelta(days=now.astimezone(UTC).weekday())
    return Period("week", "This week", start, start + timedelta(days=7))


def last_days(now: datetime, days: int) -> Period:
    """The last `days` UTC days, today included."""
    end = start_of_day(now) + timedelta(days=1)
    return Period(f"{days}d", f"Last {days} days", end - timedelta(days=days), end)


# ---------------------------------------------------------------------------------------------------------------
# Orders and revenue
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodTotals:
    period: Period
    orders: int
    # One (currency, amount in minor units) per currency, largest first: a shop that changed its currency
    # has orders in both, and adding rupees to shillings would be meaningless.
    revenue: list[tuple[str, int]]


def _not_cancelled_between(start: datetime, end: datetime):
    return (Order.created_at >= start, Order.created_at < end, Order.status != CANCELLED)


def period_totals(period: Period) -> PeriodTotals:
    rows = db.session.execute(
        select(Order.currency, func.count(Order.id), func.coalesce(func.sum(Order.total_minor), 0))
        .where(*_not_cancelled_between(period.start, period.end))
        .group_by(Order.currency)
    ).all()
    revenue = sorted(((currency, int(total)) for currency, _, total in rows), key=lambda item: (-item[1], item[0]))
    return PeriodTotals(period, sum(count for _, count, _ in rows), revenue)


# ---------------------------------------------------------------------------------------------------------------
# Orders waiting for confirmation
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingOrder:
    reference: str
    customer_name: str
    created_at: datetime
    total_minor: int
    currency: str
    age: timedelta

    @property
    def age_label(self) -> str:
        return describe_age(self.age)


def describe_age(age: timedelta) -> str:
    """How long something has waited, the way a person says it: '4 min', '3 h 20 min', '2 days 5 h'."""
    minutes = max(0, int(age.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{minutes} min"


def orders_waiting_for_confirmation(now: datetime, limit: int = 20) -> tuple[list[WaitingOrder], int]:
    """The oldest `limit` pending orders, oldest first, and how many are pending in all."""
    pending = Order.status == PENDING
    total = db.session.scalar(select(func.count(Order.id)).where(pending)) or 0
    rows = db.session.execute(
        select(Order.reference, Order.customer_name, Order.created_at, Order.total_minor, Order.currency)
        .where(pending)
        .order_by(Order.created_at, Order.id)
        .limit(limit)
    ).all()
    waiting = [
        WaitingOrder(reference, name, created_at, total_minor, currency, now - created_at)
        for reference, name, created_at, total_minor, currency in rows
    ]
    return waiting, total


# ---------------------------------------------------------------------------------------------------------------
# Conversion funnel
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStep:
    label: str
    count: int
    percent_of_start: float | None  # of carts started; None when nobody started a cart
    percent_of_previous: float | None


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def conversion_funnel(period: Period) -> list[FunnelStep]:
    """Carts started → orders created → orders confirmed (even if cancelled later) → orders delivered.

    Orders are those created in the period, whatever their source; carts are CartStart rows in the period.
    An order reached "confirmed" if its status is confirmed or later, or its timeline shows a confirmation.
    """
    carts = db.session.scalar(
        select(func.count(CartStart.id)).where(CartStart.started_at >= period.start, CartStart.started_at < period.end)
    )
    confirmed_once = select(OrderEvent.order_id).where(OrderEvent.to_status == CONFIRMED)
    created, confirmed, delivered = db.session.execute(
        select(
            func.count(Order.id),
            func.count(Order.id).filter(or_(Order.status.in_(CONFIRMED_OR_LATER), Order.id.in_(confirmed_once))),
            func.count(Order.id).filter(Order.status == DELIVERED),
        ).where(Order.created_at >= period.start, Order.created_at < period.end)
    ).one()
    counts = [("Carts started", carts or 0), ("Orders placed", created), ("Confirmed", confirmed)]
    counts.append(("Delivered", delivered))
    steps = []
    for index, (label, count) in enumerate(counts):
        previous = counts[index - 1][1] if index else None
        steps.append(
            FunnelStep(
                label,
                count,
                _percent(count, counts[0][1]),
                _percent(count, previous) if previous is not None else None,
            )
        )
    return steps


# ---------------------------------------------------------------------------------------------------------------
# Orders per day and its bar chart
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayCount:
    day: date
    orders: int


def orders_per_day(period: Period) -> list[DayCount]:
    """Non-cancelled orders created on each UTC day of the period, days without orders included as 0."""
    day = utc_date(Order.created_at)
    rows = db.session.execute(
        select(day, func.count(Order.id)).where(*_not_cancelled_between(period.start, period.end)).group_by(day)
    ).all()
    counts = {_as_date(value): count for value, count in rows}
    first = period.start.date()
    return [
        DayCount(first + timedelta(days=offset), counts.get(first + timedelta(days=offset), 0))
        for offset in range((period.end - period.start).days)
    ]


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@dataclass(frozen=True)
class Bar:
    day: date
    orders: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    highest: int
    total: int
    busiest: DayCount | None  # the first day with the most orders, None if there were none


def bar_chart(days: list[DayCount], width: int = 900, height: int = 150, gap: float = 4) -> BarChart:
    """Bar geometry in SVG user units: one bar per day, scaled so the highest day fills the height."""
    highest = max((d.orders for d in days), default=0)
    slot = width / len(days) if days else width
    bars = []
    for index, entry in enumerate(days):
        bar_height = round(height * entry.orders / highest, 2) if highest else 0
        bars.append(
            Bar(entry.day, entry.orders, round(index * slot + gap / 2, 2), height - bar_height, slot - gap, bar_height)
        )
    busiest = next((d for d in days if d.orders == highest), None) if highest else None
    return BarChart(width, height, bars, highest, sum(d.orders for d in days), busiest)
