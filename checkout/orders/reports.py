"""Dashboard figures: orders and revenue per period, orders waiting, the funnel, orders per day.

Every figure is one aggregate query (COUNT/SUM ... GROUP BY), never a loop over orders in Python, and reads
the same on SQLite and PostgreSQL. Periods are half-open [start, end) instants; their days are the shop's
days (midnight to midnight in its time zone), worked out here in Python so daylight saving and either
database read them alike. Cancelled orders never count as orders; revenue counts only orders confirmed or
later (a pending order is not money yet); payment states count every order that holds or gave back money. The funnel follows carts and orders from their first step to
delivery: every order placed counts as placed, cancelled or not.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, case, func, literal, literal_column, null, select, union_all

from checkout.database import seconds_between
from checkout.dates import local_day, zone
from checkout.extensions import db
from checkout.models.carts import Cart
from checkout.models.orders import Order, OrderEvent, Payment
from checkout.orders.lifecycle import OrderStatus
from checkout.orders.payment_states import PAYMENT_STATE_LABELS, payment_state_condition

S = OrderStatus
# Plain strings in queries: the status column is text, and drivers differ in how they send enum members.
PENDING, CANCELLED, CONFIRMED, DELIVERED = S.PENDING.value, S.CANCELLED.value, S.CONFIRMED.value, S.DELIVERED.value
# A failed delivery still on its way again counts; one returning or returned to the shop does not.
CONFIRMED_OR_LATER = tuple(
    s.value
    for s in (
        S.CONFIRMED,
        S.PREPARING,
        S.SHIPPED,
        S.OUT_FOR_DELIVERY,
        S.READY_FOR_PICKUP,
        S.DELIVERED,
        S.DELIVERY_FAILED,
        S.RESCHEDULED,
    )
)


# ---------------------------------------------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    start: datetime
    end: datetime
    zone_name: str = "UTC"  # the shop's time zone, whose days the period is made of

    def days(self) -> list[tuple[date, datetime, datetime]]:
        """Each day of the period with its [start, end) instants in UTC (23 or 25 hours across a DST change)."""
        first = local_day(self.start, self.zone_name)
        last = local_day(self.end - timedelta(microseconds=1), self.zone_name)
        count = (last - first).days + 1
        return [
            (day, midnight(day, self.zone_name), midnight(day + timedelta(days=1), self.zone_name))
            for day in (first + timedelta(days=n) for n in range(count))
        ]


def midnight(day: date, zone_name: str = "UTC") -> datetime:
    """The instant (in UTC) the shop's `day` begins."""
    return datetime.combine(day, time.min, tzinfo=zone(zone_name)).astimezone(UTC)


def start_of_day(moment: datetime, zone_name: str = "UTC") -> datetime:
    """The instant (in UTC) the shop's day containing `moment` began."""
    return midnight(local_day(moment, zone_name), zone_name)


def today(now: datetime, zone_name: str = "UTC") -> Period:
    day = local_day(now, zone_name)
    return Period("today", "Today", midnight(day, zone_name), midnight(day + timedelta(days=1), zone_name), zone_name)


def this_week(now: datetime, zone_name: str = "UTC") -> Period:
    """Monday 00:00 of the shop's week until next Monday."""
    day = local_day(now, zone_name)
    monday = day - timedelta(days=day.weekday())
    return Period(
        "week", "This week", midnight(monday, zone_name), midnight(monday + timedelta(days=7), zone_name), zone_name
    )


def last_days(now: datetime, days: int, zone_name: str = "UTC") -> Period:
    """The shop's last `days` days, today included."""
    day = local_day(now, zone_name)
    start, end = midnight(day - timedelta(days=days - 1), zone_name), midnight(day + timedelta(days=1), zone_name)
    return Period(f"{days}d", f"Last {days} days", start, end, zone_name)


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
    # Orders created in the period per payment state (orders/payment_states.py), in PAYMENT_STATE_LABELS' order.
    # Cancelled orders count here when they hold or gave back money; never as awaiting payment.
    payment_states: dict[str, int] = field(default_factory=dict)


def _not_cancelled_between(start: datetime, end: datetime):
    return (Order.created_at >= start, Order.created_at < end, Order.status != CANCELLED)


def period_totals(period: Period) -> PeriodTotals:
    """Orders not cancelled, the revenue of those confirmed or later, and the orders in each payment state,
    created in the period: one query."""
    not_cancelled = Order.status != CANCELLED
    revenue_of_confirmed = func.sum(Order.total_minor).filter(Order.status.in_(CONFIRMED_OR_LATER))
    states = list(PAYMENT_STATE_LABELS)
    rows = db.session.execute(
        select(
            Order.currency,
            func.count(Order.id).filter(not_cancelled),
            func.coalesce(revenue_of_confirmed, 0),
            *(func.count(Order.id).filter(payment_state_condition(state)) for state in states),
        )
        .where(Order.created_at >= period.start, Order.created_at < period.end)
        .group_by(Order.currency)
    ).all()
    revenue = sorted(((row[0], int(row[2])) for row in rows if row[2]), key=lambda item: (-item[1], item[0]))
    counts = {state: sum(row[3 + index] for row in rows) for index, state in enumerate(states)}
    return PeriodTotals(period, sum(row[1] for row in rows), revenue, counts)


@dataclass(frozen=True)
class RecoveredTotals:
    period: Period
    orders: int
    value: list[tuple[str, int]]  # (currency, minor units), largest first


def recovered_orders(period: Period) -> RecoveredTotals:
    """Orders created in the period that a WhatsApp reminder or cart message won back (orders.recovered_by,
    credited by the sweep in checkout/whatsapp/recovery.py), not cancelled, and their value."""
    rows = db.session.execute(
        select(Order.currency, func.count(Order.id), func.coalesce(func.sum(Order.total_minor), 0))
        .where(*_not_cancelled_between(period.start, period.end), Order.recovered_by != "")
        .group_by(Order.currency)
    ).all()
    value = sorted(((currency, int(total)) for currency, _, total in rows), key=lambda item: (-item[1], item[0]))
    return RecoveredTotals(period, sum(count for _, count, _ in rows), value)


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
# The funnel: from a cart to a delivered order
# ---------------------------------------------------------------------------------------------------------------

FUNNEL_SOURCES = {"website": "Website", "widget": "Widget", "api": "API", "whatsapp": "WhatsApp"}
FUNNEL_STEPS = {
    "cart": "Sessions with a cart",
    "checkout": "Checkout started",
    "order": "Order placed",
    "handoff": "Hand-off opened",
    "message": "WhatsApp message received",
    "confirmed": "Confirmed",
    "paid": "Paid",
    "delivered": "Delivered",
}
_STEP_KEYS = tuple(FUNNEL_STEPS)
_STEP_PAIRS = tuple(zip(_STEP_KEYS, _STEP_KEYS[1:], strict=False))  # (the step before, the step)


@dataclass(frozen=True)
class FunnelStep:
    key: str
    label: str
    count: int  # journeys that reached this step
    from_previous: int | None  # of those, how many had reached the step before; None for the first step
    percent_of_previous: float | None  # from_previous of the step before's count; None when nobody was there
    median_wait: timedelta | None  # from the step before, over the journeys that reached both

    @property
    def median_wait_label(self) -> str:
        return describe_wait(self.median_wait) if self.median_wait is not None else ""


@dataclass(frozen=True)
class FunnelDay:
    day: date
    steps: list[FunnelStep]

    @property
    def quiet(self) -> bool:
        return not any(step.count for step in self.steps)


@dataclass(frozen=True)
class Funnel:
    period: Period
    source: str | None  # one of FUNNEL_SOURCES, or None for all of them
    steps: list[FunnelStep]  # the whole period
    days: list[FunnelDay]  # each of the shop's days in the period, oldest first


def describe_wait(wait: timedelta) -> str:
    """A median wait: '40 s' under a minute, else as describe_age says it ('3 h 20 min')."""
    return f"{max(0, int(wait.total_seconds()))} s" if wait < timedelta(minutes=1) else describe_age(wait)


def funnel(period: Period, source: str | None = None) -> Funnel:
    """Carts → checkout → order → hand-off → the customer's WhatsApp message → confirmed → paid → delivered.

    A journey is a cart, counted on the shop's day it was started, with the order placed from it; an order
    placed without a cart (the Store API, or a cart since swept away) is a journey that begins at "Order
    placed", on the day it was placed. Its source is the cart's channel, else the order's source. A step
    counts every journey that reached it; its rate is how many of those at the step before also reached it,
    and its median wait is over those same journeys (a step reached before the one before it, as a payment
    taken before confirming, waited 0). Two grouped queries, whatever the number of carts and orders.
    """
    days = period.days()
    # Materialized: each journey's lookups run once, however many of the figures read them.
    journeys = _journeys(period, source).cte("journeys").prefix_with("MATERIALIZED")
    day_index = case(*((journeys.c.started_at < end, index) for index, (_, _, end) in enumerate(days)), else_=None)
    counts = _step_counts(journeys, day_index)
    waits = _median_waits(journeys, day_index)
    whole = _funnel_steps(_add_up(counts.values()), waits.get(-1, {}))
    by_day = [
        FunnelDay(day, _funnel_steps(counts.get(index, _no_counts()), waits.get(index, {})))
        for index, (day, _, _) in enumerate(days)
    ]
    return Funnel(period, source, whole, by_day)


def _order_steps():
    """When an order was placed, its hand-off opened, the customer wrote, it was first confirmed, paid, delivered.

    Confirmed and delivered are the first such status on its timeline; paid is the last payment once the
    payments cover the total. Each is a lookup by the order's id (indexed), so the plan stays the same
    however many orders there are and whatever the planner's statistics say.
    """

    def first_time_status(status: str):
        return (
            select(func.min(OrderEvent.created_at))
            .where(OrderEvent.order_id == Order.id, OrderEvent.to_status == status)
            .scalar_subquery()
        )

    def of_payments(aggregate):
        return select(aggregate).where(Payment.order_id == Order.id, Payment.kind == "payment").scalar_subquery()

    paid_at = case(
        (of_payments(func.sum(Payment.amount_minor)) >= Order.total_minor, of_payments(func.max(Payment.created_at))),
        else_=None,
    )
    return (
        Order.created_at.label("order"),
        Order.handoff_opened_at.label("handoff"),
        Order.phone_verified_at.label("message"),
        first_time_status(CONFIRMED).label("confirmed"),
        paid_at.label("paid"),
        first_time_status(DELIVERED).label("delivered"),
    )


def _journeys(period: Period, source: str | None):
    """One row per journey started in the period (of `source`, if given): its start and when it reached each step."""
    order_steps = _order_steps()
    from_carts = (
        select(
            Cart.created_at.label("started_at"),
            Cart.created_at.label("cart"),
            Cart.checkout_started_at.label("checkout"),
            *order_steps,
        )
        .select_from(Cart)
        .outerjoin(Order, Order.id == Cart.order_id)
        .where(Cart.created_at >= period.start, Cart.created_at < period.end)
    )
    without_cart = select(
        Order.created_at.label("started_at"), null().label("cart"), null().label("checkout"), *order_steps
    ).where(
        Order.created_at >= period.start,
        Order.created_at < period.end,
        ~select(Cart.id).where(Cart.order_id == Order.id).exists(),
    )
    if source is not None:
        from_carts = from_carts.where(Cart.channel == source)
        without_cart = without_cart.where(Order.source == source)
    return union_all(from_carts, without_cart)


def _no_counts() -> dict[str, int]:
    return dict.fromkeys((*_STEP_KEYS, *(f"{step}_after" for _, step in _STEP_PAIRS)), 0)


def _add_up(rows) -> dict[str, int]:
    total = _no_counts()
    for row in rows:
        for name, value in row.items():
            total[name] += value
    return total


def _step_counts(journeys, day_index) -> dict[int, dict[str, int]]:
    """Per day index: journeys at each step ("order"), and at each step having been at the one before ("order_after")."""
    reached = [func.count(journeys.c[step]).label(step) for step in _STEP_KEYS]
    reached_both = [
        func.count(case((and_(journeys.c[before].is_not(None), journeys.c[step].is_not(None)), 1))).label(
            f"{step}_after"
        )
        for before, step in _STEP_PAIRS
    ]
    # Grouped by the output column's name: PostgreSQL would not see the CASE's bound parameters as equal twice.
    rows = db.session.execute(
        select(day_index.label("day_index"), *reached, *reached_both).group_by(literal_column("day_index"))
    ).mappings()
    return {
        row["day_index"]: {name: row[name] for name in _no_counts()} for row in rows if row["day_index"] is not None
    }


def _median_waits(journeys, day_index) -> dict[int, dict[str, timedelta]]:
    """Per day index (and -1 for the whole period): the median wait before each step, in one query.

    The waits are ranked with window functions and the middle one (or the mean of the middle two) kept:
    SQLite has no median function and PostgreSQL's percentile_cont is its own, but ranking reads alike on both.
    """

    def wait(before: str, step: str):  # a step reached before the one before it waited 0, never a negative time
        seconds = seconds_between(journeys.c[step], journeys.c[before])
        return case((seconds < 0, 0.0), else_=seconds)

    waits = union_all(
        *(
            select(
                literal(step).label("step"), day_index.label("day_index"), wait(before, step).label("seconds")
            ).where(journeys.c[before].is_not(None), journeys.c[step].is_not(None))
            for before, step in _STEP_PAIRS
        )
    ).subquery("waits")
    by_day = (waits.c.step, waits.c.day_index)
    ranked = select(
        waits.c.step,
        waits.c.day_index,
        waits.c.seconds,
        func.row_number().over(partition_by=by_day, order_by=waits.c.seconds).label("day_rank"),
        func.count().over(partition_by=by_day).label("day_count"),
        func.row_number().over(partition_by=waits.c.step, order_by=waits.c.seconds).label("rank"),
        func.count().over(partition_by=waits.c.step).label("count"),
    ).cte("ranked")

    def middle(rank, count):
        return and_(rank * 2 >= count, rank * 2 <= count + 2)  # the middle one, or the middle two

    per_day = (
        select(ranked.c.step, ranked.c.day_index, func.avg(ranked.c.seconds))
        .where(middle(ranked.c.day_rank, ranked.c.day_count))
        .group_by(ranked.c.step, ranked.c.day_index)
    )
    whole = (
        select(ranked.c.step, literal(-1), func.avg(ranked.c.seconds))
        .where(middle(ranked.c.rank, ranked.c.count))
        .group_by(ranked.c.step)
    )
    medians: dict[int, dict[str, timedelta]] = {}
    for step, index, seconds in db.session.execute(union_all(per_day, whole)):
        if index is not None:
            medians.setdefault(index, {})[step] = timedelta(seconds=round(float(seconds)))
    return medians


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _funnel_steps(counts: dict[str, int], waits: dict[str, timedelta]) -> list[FunnelStep]:
    steps = [FunnelStep(_STEP_KEYS[0], FUNNEL_STEPS[_STEP_KEYS[0]], counts[_STEP_KEYS[0]], None, None, None)]
    for before, step in _STEP_PAIRS:
        after = counts[f"{step}_after"]
        steps.append(
            FunnelStep(step, FUNNEL_STEPS[step], counts[step], after, _percent(after, counts[before]), waits.get(step))
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
    """Non-cancelled orders created on each of the shop's days in the period, days without orders included as 0.

    The day boundaries are computed here and handed to the database as a CASE, so the buckets are the shop's
    days on SQLite (which knows no time zones) exactly as on PostgreSQL.
    """
    days = period.days()
    if not days:
        return []
    day_index = case(*((Order.created_at < end, index) for index, (_, _, end) in enumerate(days)), else_=None)
    # Grouped by the output column's name: PostgreSQL would not see the CASE's bound parameters as equal twice.
    rows = db.session.execute(
        select(day_index.label("day_index"), func.count(Order.id))
        .where(*_not_cancelled_between(period.start, period.end))
        .group_by(literal_column("day_index"))
    ).all()
    counts = {index: count for index, count in rows if index is not None}
    return [DayCount(day, counts.get(index, 0)) for index, (day, _, _) in enumerate(days)]
