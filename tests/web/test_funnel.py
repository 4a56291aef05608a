"""The dashboard funnel from real journeys: carts as rows, orders placed through the real use case, the
hand-off page opened through the client, the customer's WhatsApp message through the signed webhook, and
confirm, pay and deliver through the desk. Each journey is then dated to chosen moments, so every count,
rate and median below is known exactly; the shop keeps Asia/Kolkata time (UTC+5:30)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from checkout import outbox
from checkout.extensions import db
from checkout.models import Order, OrderEvent, Payment, StaffUser, Variant, WebhookEvent
from checkout.orders import reports
from checkout.orders.desk import change_status, record_payment
from checkout.orders.lifecycle import OrderStatus
from checkout.whatsapp import webhooks
from tests.admin_helpers import make_staff
from tests.factories import customer, make_journey_cart, make_order, make_product, make_store
from tests.messaging import payloads

S = OrderStatus
ZONE = "Asia/Kolkata"
ASHA = "919876543210"
TO_DELIVERED = (S.CONFIRMED, S.PREPARING, S.SHIPPED, S.OUT_FOR_DELIVERY, S.DELIVERED)


def local(day, hour=0, minute=0, second=0) -> datetime:
    """A moment of March 2025 on the shop's clock, as the UTC instant it is."""
    return datetime(2025, 3, day, hour, minute, second, tzinfo=ZoneInfo(ZONE)).astimezone(UTC)


def later(moment: datetime, seconds: int) -> datetime:
    return moment + timedelta(seconds=seconds)


@dataclass
class Journey:
    """Where one shopper got to, and when; None: never got there."""

    source: str
    cart: datetime | None = None  # None: an order placed without a cart (the Store API)
    checkout: datetime | None = None
    order: datetime | None = None
    handoff: datetime | None = None
    message: datetime | None = None
    confirmed: datetime | None = None
    paid: datetime | None = None  # paid in full by UPI, or (cash on delivery) at delivery
    delivered: datetime | None = None


def journeys() -> dict[str, Journey]:
    w1 = local(10, 10)
    w1_order = later(w1, 120 + 300)
    w1_message = later(w1_order, 10 + 60)
    w2_order = later(local(10, 12), 60 + 180)
    g1_order = later(local(10, 9), 300 + 60)
    w5 = local(11, 0, 0, 0)  # the first instant of the shop's 11 March: still 10 March in UTC
    w5_order = later(w5, 60 + 120)
    return {
        # 10 March: the whole way, a day between payment and delivery.
        "W1": Journey(
            "website",
            cart=w1,
            checkout=later(w1, 120),
            order=w1_order,
            handoff=later(w1_order, 10),
            message=w1_message,
            confirmed=later(w1_message, 600),
            paid=later(w1_message, 600 + 3600),
            delivered=later(w1_message, 600 + 3600 + 86400),
        ),
        # Opened the hand-off page but never wrote; the shop confirmed anyway (after a phone call).
        "W2": Journey(
            "website",
            cart=local(10, 12),
            checkout=later(local(10, 12), 60),
            order=w2_order,
            handoff=later(w2_order, 30),
            confirmed=later(w2_order, 30 + 1800),
        ),
        "W3": Journey("website", cart=local(10, 15), checkout=later(local(10, 15), 600)),  # left at checkout
        "W4": Journey("website", cart=local(10, 23, 59, 59)),  # the last second of the shop's 10 March
        "G1": Journey(
            "widget",
            cart=local(10, 9),
            checkout=later(local(10, 9), 300),
            order=g1_order,
            handoff=later(g1_order, 20),
            message=later(g1_order, 20 + 60),
        ),
        # A Store API order: no cart, no hand-off page; the customer wrote, cash collected on delivery.
        "A1": Journey(
            "api",
            order=local(10, 14),
            message=local(10, 14, 30),
            confirmed=local(10, 15),
            paid=local(10, 18),
            delivered=local(10, 18),
        ),
        # 11 March: paid by UPI half a minute before the shop confirmed (a wait of 0, not negative).
        "W5": Journey(
            "website",
            cart=w5,
            checkout=later(w5, 60),
            order=w5_order,
            handoff=later(w5_order, 5),
            message=later(w5_order, 5 + 60),
            paid=later(w5_order, 5 + 60 + 30),
            confirmed=later(w5_order, 5 + 60 + 60),
        ),
        "WA1": Journey("whatsapp", cart=local(11, 8)),
        # Outside the two days: the shop's 9 March, and its 12 March (which is still 11 March in UTC).
        "OUT1": Journey("website", cart=local(9, 23, 59, 59)),
        "OUT2": Journey("website", cart=local(12, 0, 0, 0), checkout=local(12, 0, 1)),
    }


def receive(client, app, body) -> None:
    """A signed webhook, then what the worker does: process it and send the replies."""
    assert payloads.post_signed(client, app, body).status_code == 200
    with app.app_context():
        for event_id in db.session.scalars(select(WebhookEvent.id).where(WebhookEvent.processed_at.is_(None))).all():
            webhooks.process_event(event_id)
        outbox.run_due()


def drive(app, client, journey: Journey, variant_id: int, staff_id: int) -> int | None:
    """Take one shopper through the steps the journey reached, the way each happens; the order's id."""
    cash_on_delivery = journey.paid is not None and journey.paid == journey.delivered
    with app.app_context():
        order = None
        if journey.order:
            order = make_order(
                [(db.session.get(Variant, variant_id), 1)],
                details=customer(phone="+" + ASHA, payment_method="cod" if cash_on_delivery else "transfer"),
                source="website" if journey.cart else "api",
            )
        if journey.cart:
            make_journey_cart(journey.source, journey.cart, journey.checkout, order)
        if order is None:
            return None
        order_id, token, reference = order.id, order.status_token, order.reference
    if journey.handoff:
        assert client.get(f"/o/{token}/whatsapp").status_code == 200
    if journey.message:
        receive(client, app, payloads.text(f"Hello! My order {reference}", wa_id=ASHA))
    desk_steps = [(journey.confirmed, "confirm"), (journey.delivered, "deliver")]
    if journey.paid and not cash_on_delivery:  # cash is recorded by the desk as it delivers
        desk_steps.append((journey.paid, "pay"))
    with app.app_context():
        staff, order = db.session.get(StaffUser, staff_id), db.session.get(Order, order_id)
        for _, step in sorted(step for step in desk_steps if step[0] is not None):
            if step == "pay":
                record_payment(
                    order,
                    method="upi",
                    amount_minor=order.total_minor,
                    reference="",
                    staff=staff,
                    expected_version=None,
                )
            for status in {"confirm": (S.CONFIRMED,), "deliver": TO_DELIVERED[1:], "pay": ()}[step]:
                change_status(order, status, staff=staff, expected_version=None)
    return order_id


def date_as_planned(order_id: int, journey: Journey) -> None:
    """Move what driving recorded to the journey's moments (after checking driving recorded exactly that)."""
    order = db.session.get(Order, order_id)
    assert (order.handoff_opened_at is not None) == (journey.handoff is not None)
    assert (order.phone_verified_at is not None) == (journey.message is not None)
    order.created_at, order.handoff_opened_at, order.phone_verified_at = journey.order, journey.handoff, journey.message
    moments = {S.CONFIRMED.value: journey.confirmed, S.DELIVERED.value: journey.delivered}
    for event in db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id)):
        if event.to_status in moments:
            assert moments[event.to_status] is not None
            event.created_at = moments[event.to_status]
    payments = db.session.scalars(select(Payment).where(Payment.order_id == order_id)).all()
    assert bool(payments) == (journey.paid is not None)
    for payment in payments:
        payment.created_at = journey.paid
    db.session.commit()


@pytest.fixture
def shop(app, client):
    """Every journey driven and dated; the funnel then reads the shop's 10 and 11 March 2025."""
    with app.app_context():
        make_store(default_region="IN")
        variant_id = make_product("Assam Tea", price_minor=24000, stock=100).variants[0].id
        staff_id = make_staff("owner").id
    planned = journeys()
    orders = {name: drive(app, client, journey, variant_id, staff_id) for name, journey in planned.items()}
    with app.app_context():
        for name, order_id in orders.items():
            if order_id is not None:
                date_as_planned(order_id, planned[name])
        db.session.remove()
    return reports.last_days(local(11, 12), 2, ZONE)


def read(funnel_steps) -> dict[str, list]:
    return {
        "count": [step.count for step in funnel_steps],
        "from_previous": [step.from_previous for step in funnel_steps],
        "percent": [step.percent_of_previous for step in funnel_steps],
        "median_seconds": [
            None if step.median_wait is None else step.median_wait.total_seconds() for step in funnel_steps
        ],
    }


def test_the_funnel_follows_every_journey_through_every_step(app, shop):
    with app.app_context():
        funnel = reports.funnel(shop)
    assert [step.label for step in funnel.steps] == [
        "Sessions with a cart",
        "Checkout started",
        "Order placed",
        "Hand-off opened",
        "WhatsApp message received",
        "Confirmed",
        "Paid",
        "Delivered",
    ]
    assert read(funnel.steps) == {
        # 7 carts in the two days; 5 orders, one of them (the Store API's) without a cart.
        "count": [7, 5, 5, 4, 4, 4, 3, 2],
        "from_previous": [None, 5, 4, 4, 3, 3, 3, 2],
        "percent": [None, 71.4, 80.0, 80.0, 75.0, 75.0, 75.0, 66.7],
        # Carts to checkout: 60, 60, 120, 300, 600 s; checkout to order: 60, 120, 180, 300 s (the middle two);
        # paid to delivered: a day (by UPI) and 0 (cash, collected as it was delivered); a payment taken
        # before confirming waited 0, not a negative time.
        "median_seconds": [None, 120, 150, 15, 60, 600, 3600, 43200],
    }
    assert [step.median_wait_label for step in funnel.steps[1:4]] == ["2 min", "2 min", "15 s"]
    assert funnel.steps[-1].median_wait_label == "12 h"


def test_the_funnel_splits_by_source(app, shop):
    with app.app_context():
        website, widget, api, whatsapp = (reports.funnel(shop, source) for source in reports.FUNNEL_SOURCES)
    assert read(website.steps) == {
        "count": [5, 4, 3, 3, 2, 3, 2, 1],
        "from_previous": [None, 4, 3, 3, 2, 2, 2, 1],
        "percent": [None, 80.0, 75.0, 100.0, 66.7, 100.0, 66.7, 50.0],
        "median_seconds": [None, 90, 180, 10, 60, 330, 1800, 86400],
    }
    assert read(widget.steps) == {
        "count": [1, 1, 1, 1, 1, 0, 0, 0],
        "from_previous": [None, 1, 1, 1, 1, 0, 0, 0],
        "percent": [None, 100.0, 100.0, 100.0, 100.0, 0.0, None, None],
        "median_seconds": [None, 300, 60, 20, 60, None, None, None],
    }
    # The Store API's order had no cart and no hand-off page: those rates are not 0%, they do not apply.
    assert read(api.steps) == {
        "count": [0, 0, 1, 0, 1, 1, 1, 1],
        "from_previous": [None, 0, 0, 0, 0, 1, 1, 1],
        "percent": [None, None, None, 0.0, None, 100.0, 100.0, 100.0],
        "median_seconds": [None, None, None, None, None, 1800, 10800, 0],
    }
    assert [step.count for step in whatsapp.steps] == [1, 0, 0, 0, 0, 0, 0, 0]
    assert [step.percent_of_previous for step in whatsapp.steps][:3] == [None, 0.0, None]


def test_each_journey_counts_on_the_shops_day_it_began(app, shop):
    with app.app_context():
        funnel = reports.funnel(shop)
    [(tenth, first), (eleventh, second)] = [(day.day.isoformat(), day.steps) for day in funnel.days]
    assert (tenth, eleventh) == ("2025-03-10", "2025-03-11")
    # The cart at 23:59:59 and the one at midnight are the same UTC day; they are two of the shop's days.
    # W1 was delivered on the 11th, but it counts on the 10th, with the cart it began as.
    assert read(first) == {
        "count": [5, 4, 4, 3, 3, 3, 2, 2],
        "from_previous": [None, 4, 3, 3, 2, 2, 2, 2],
        "percent": [None, 80.0, 75.0, 75.0, 66.7, 66.7, 66.7, 100.0],
        "median_seconds": [None, 210, 180, 20, 60, 1200, 7200, 43200],
    }
    assert read(second) == {
        "count": [2, 1, 1, 1, 1, 1, 1, 0],
        "from_previous": [None, 1, 1, 1, 1, 1, 1, 0],
        "percent": [None, 50.0, 100.0, 100.0, 100.0, 100.0, 100.0, 0.0],
        "median_seconds": [None, 60, 120, 5, 60, 60, 0, None],
    }


def test_only_the_first_opening_of_the_hand_off_page_is_kept(app, client):
    with app.app_context():
        make_store()
        order = make_order([(make_product(stock=5).variants[0], 1)])
        order_id, token, version = order.id, order.status_token, order.version
    assert client.get(f"/o/{token}/whatsapp").status_code == 200
    with app.app_context():
        first = db.session.get(Order, order_id).handoff_opened_at
        assert first is not None
    assert client.get(f"/o/{token}/whatsapp").status_code == 200
    assert client.get(f"/o/{token}").status_code == 200  # the status page is not the hand-off
    with app.app_context():
        order = db.session.get(Order, order_id)
        # Opening the page is not a change of the order: staff with it open need not reload.
        assert (order.handoff_opened_at, order.version) == (first, version)
    assert client.get("/o/no-such-order/whatsapp").status_code == 404


def test_an_empty_period_has_zero_counts_and_no_rates(app_context):
    make_store()
    funnel = reports.funnel(reports.today(local(11, 12), ZONE))
    assert read(funnel.steps) == {
        "count": [0] * 8,
        "from_previous": [None] + [0] * 7,
        "percent": [None] * 8,
        "median_seconds": [None] * 8,
    }
    assert [day.quiet for day in funnel.days] == [True]
