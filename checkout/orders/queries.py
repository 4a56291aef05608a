"""Finding orders for the order desk: filters, status counts and keyset pagination.

Pages are cut by (created_at, id) rather than OFFSET, so page 500 costs what page 1 costs; the
indexes ix_orders_created_id, ix_orders_status_created and (for the payment filter)
ix_orders_payment_status_created serve these queries.
"""

import base64
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import selectinload, undefer

from checkout.extensions import db
from checkout.models.orders import OPEN_STATUSES_SQL, Order
from checkout.orders.lifecycle import OPEN_STATUSES, OrderStatus
from checkout.orders.payment_states import payment_state_condition
from checkout.orders.references import find_reference
from checkout.web.integer_input import parse_id

PAGE_SIZE = 50
SOURCES = ("website", "whatsapp", "api")


@dataclass(frozen=True)
class OrderFilters:
    status: str | None = None
    search: str = ""
    date_from: date | None = None
    date_to: date | None = None
    assigned_to: str = ""  # "" any, "none" unassigned, or a staff user id
    source: str | None = None
    payment: str | None = None  # a payment state (orders/payment_states.py), e.g. "unpaid": awaiting payment

    def without_status(self) -> "OrderFilters":
        return replace(self, status=None)


def _conditions(filters: OrderFilters) -> list:
    conditions = []
    if filters.status:
        conditions.append(Order.status == filters.status)
    if filters.source:
        conditions.append(Order.source == filters.source)
    if filters.payment:
        conditions.append(payment_state_condition(filters.payment))
    if filters.date_from:
        conditions.append(Order.created_at >= datetime.combine(filters.date_from, time.min, UTC))
    if filters.date_to:
        conditions.append(Order.created_at < datetime.combine(filters.date_to + timedelta(days=1), time.min, UTC))
    if filters.assigned_to == "none":
        conditions.append(Order.assigned_to_id.is_(None))
    elif (staff_id := parse_id(filters.assigned_to)) is not None:
        conditions.append(Order.assigned_to_id == staff_id)
    text = filters.search.strip()
    if text:
        conditions.append(_search_condition(text))
    return conditions


def _search_condition(text: str):
    """A reference finds that order; digits search phone numbers; anything else searches names."""
    reference = find_reference(text)
    if reference:
        return Order.reference == reference
    digits = "".join(c for c in text if c.isdigit())
    if digits and len(digits) >= max(4, len(text.replace(" ", "").replace("+", "")) - 2):
        return Order.customer_phone.like(f"%{digits}%")
    return func.lower(Order.customer_name).like(f"%{text.lower()[:80]}%")


def encode_cursor(order: Order) -> str:
    raw = f"{order.created_at.timestamp():.6f}:{order.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The position after which the next page starts; None for junk (junk shows page one)."""
    if not cursor or len(cursor) > 64:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, order_id = raw.split(":")
        position = datetime.fromtimestamp(float(stamp), UTC), parse_id(order_id)
    except (ValueError, UnicodeDecodeError, OverflowError, OSError):  # the last two: a time past year 9999
        return None
    return position if position[1] is not None else None


@dataclass
class OrderPage:
    orders: list[Order]
    next_cursor: str | None


def find_orders(
    filters: OrderFilters, after: str | None = None, page_size: int = PAGE_SIZE, with_lines: bool = False
) -> OrderPage:
    """A page of orders, newest first; the list needs only each order's item count, an export its lines."""
    lines = selectinload(Order.lines) if with_lines else undefer(Order.item_count)
    query = (
        select(Order)
        .where(*_conditions(filters))
        .options(lines, selectinload(Order.assigned_to))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(page_size + 1)
    )
    position = decode_cursor(after)
    if position:
        created_at, order_id = position
        query = query.where(
            or_(Order.created_at < created_at, and_(Order.created_at == created_at, Order.id < order_id))
        )
    rows = list(db.session.scalars(query))
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    return OrderPage(orders=rows, next_cursor=encode_cursor(rows[-1]) if has_more and rows else None)


def iter_orders(filters: OrderFilters, batch_size: int = 500):
    """Every order matching the filters, newest first, fetched in keyset batches (for CSV export)."""
    cursor = None
    while True:
        page = find_orders(filters, after=cursor, page_size=batch_size, with_lines=True)
        yield from page.orders
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def status_counts(filters: OrderFilters) -> dict[str, int | None]:
    """Orders per open status under the other filters, for the tabs.

    History (delivered, cancelled, and so "all") is not counted: it grows without end, and counting it
    would read every order ever taken on every page view. The open orders have partial indexes of their
    own, which the planner may only use when the query states their condition word for word — hence the
    literal SQL (a prepared statement's generic plan cannot use them for a bound status list).
    """
    query = select(Order.status, func.count()).where(text(OPEN_STATUSES_SQL), *_conditions(filters.without_status()))
    counts: dict[str, int | None] = {status.value: None for status in OrderStatus}
    counts |= {status.value: 0 for status in OPEN_STATUSES}
    for status, count in db.session.execute(query.group_by(Order.status)):
        counts[status] = count
    counts["all"] = None
    return counts


def count_pending() -> int:
    """Orders waiting for the customer's confirmation: the badge every admin page polls."""
    return db.session.scalar(select(func.count()).where(Order.status == OrderStatus.PENDING)) or 0


def newest_order_id() -> int:
    return db.session.scalar(select(func.max(Order.id))) or 0


def count_orders_after(order_id: int) -> int:
    return db.session.scalar(select(func.count(Order.id)).where(Order.id > order_id)) or 0


def get_order_by_reference(reference: str) -> Order | None:
    canonical = find_reference(reference or "")
    if canonical is None:
        return None
    return db.session.scalar(select(Order).where(Order.reference == canonical))


def latest_open_order_id(phone_forms: list[str]) -> int | None:
    """The id of the newest open order placed from any of these forms of one number, or None."""
    query = (
        select(Order.id)
        .where(Order.customer_phone.in_(phone_forms), text(OPEN_STATUSES_SQL))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(1)
    )
    return db.session.scalar(query)
