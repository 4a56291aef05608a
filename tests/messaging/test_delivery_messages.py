"""Delivery details in the customer's messages, through the fake Graph API (which refuses what Meta would): the
window and agent in the shipped and out-for-delivery messages, the promised date at confirmation, the shop's
switches for status messages, and the details in the shop's own webhook."""

from datetime import UTC, datetime, timedelta

from checkout import outbox
from checkout.database import utcnow
from checkout.dates import local
from checkout.extensions import db
from checkout.models import Contact, get_store_settings
from checkout.notifications import customer_hears_of
from checkout.orders.delivery import set_delivery_details
from checkout.orders.lifecycle import OrderStatus
from checkout.whatsapp.wording import SWITCHABLE_STATUS_MESSAGES
from tests.messaging.conftest import body_parameters, move_order_to, outgoing_messages, place

ASHA, ASHA_DIGITS = "+919876543210", "919876543210"
ZONE = "Asia/Kolkata"


def _window_today_2_to_5_pm() -> tuple[datetime, datetime]:
    today = local(utcnow(), ZONE).date()
    start = datetime(today.year, today.month, today.day, 8, 30, tzinfo=UTC)  # 14:00 in Kolkata
    return start, start + timedelta(hours=3)


def _out_for_delivery_with_window_and_agent(variant_id, *, agent_name="Ravi Kumar"):
    get_store_settings().time_zone = ZONE
    db.session.commit()
    order = place(variant_id, phone=ASHA)
    move_order_to(order, OrderStatus.CONFIRMED)
    move_order_to(order, OrderStatus.PREPARING)
    start, end = _window_today_2_to_5_pm()
    order.carrier, order.tracking_number = "Blue Dart", "BD123456789IN"
    set_delivery_details(
        order, window_start=start, window_end=end, agent_name=agent_name, agent_phone="98123 45678", actor="Staff"
    )
    move_order_to(order, OrderStatus.SHIPPED)
    move_order_to(order, OrderStatus.OUT_FOR_DELIVERY)
    return order


def test_outside_the_window_the_order_update_template_carries_window_and_agent(graph_api, variant_id):
    _out_for_delivery_with_window_and_agent(variant_id)
    assert outbox.run_due() == {"sent": 5}

    shipped, out = graph_api.messages_to(ASHA_DIGITS)[-2:]
    assert [m.body["template"]["name"] for m in (shipped, out)] == ["order_update", "order_update"]
    assert body_parameters(shipped)[2] == (
        "Shipped with Blue Dart, tracking number BD123456789IN, arriving today 2:00 pm–5:00 pm, "
        "delivered by Ravi Kumar +919812345678"
    )
    assert body_parameters(out)[2] == (
        "Out for delivery, arriving today 2:00 pm–5:00 pm, delivered by Ravi Kumar +919812345678"
    )


def test_a_very_long_agent_name_still_fits_metas_limits(graph_api, variant_id):
    _out_for_delivery_with_window_and_agent(variant_id, agent_name="Ravi " + "Kumarswamy" * 7)
    assert outbox.run_due() == {"sent": 5}  # the fake refuses (and fails the test) anything Meta would
    assert len(body_parameters(graph_api.messages_to(ASHA_DIGITS)[-1])[2]) <= 1024


def test_inside_the_window_the_shops_texts_carry_window_and_agent(graph_api, variant_id):
    db.session.add(Contact(phone=ASHA, wa_id=ASHA_DIGITS, last_inbound_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    _out_for_delivery_with_window_and_agent(variant_id)
    outbox.run_due()

    shipped, out = [m.body["text"]["body"] for m in graph_api.messages_to(ASHA_DIGITS)[-2:]]
    assert "Delivery window: today 2:00 pm–5:00 pm" in shipped
    assert "Delivered by: Ravi Kumar +919812345678" in shipped
    assert "Arriving: today 2:00 pm–5:00 pm" in out
    assert "Your delivery agent: Ravi Kumar +919812345678" in out


def test_the_shops_own_text_places_window_and_agent_where_it_likes(graph_api, variant_id):
    db.session.add(Contact(phone=ASHA, wa_id=ASHA_DIGITS, last_inbound_at=utcnow() - timedelta(minutes=1)))
    get_store_settings().message_texts = {
        "out_for_delivery": "{agent_name} ({agent_phone}) brings {reference} {delivery_window}."
    }
    db.session.commit()
    order = _out_for_delivery_with_window_and_agent(variant_id)
    outbox.run_due()
    text = graph_api.messages_to(ASHA_DIGITS)[-1].body["text"]["body"]
    assert text == f"Ravi Kumar (+919812345678) brings {order.reference} today 2:00 pm–5:00 pm."


def test_without_window_or_agent_their_lines_drop_out(graph_api, variant_id):
    db.session.add(Contact(phone=ASHA, wa_id=ASHA_DIGITS, last_inbound_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    order = place(variant_id, phone=ASHA)
    for status in (OrderStatus.CONFIRMED, OrderStatus.PREPARING, OrderStatus.SHIPPED, OrderStatus.OUT_FOR_DELIVERY):
        move_order_to(order, status)
    outbox.run_due()
    out = graph_api.messages_to(ASHA_DIGITS)[-1].body["text"]["body"]
    assert "Arriving" not in out and "delivery agent" not in out and "out for delivery" in out


def test_the_confirmation_states_the_promised_delivery_date(graph_api, variant_id):
    settings = get_store_settings()
    settings.time_zone, settings.delivery_days_min, settings.delivery_days_max = ZONE, 2, 4
    settings.delivery_area_days = "Kasarani=1"
    db.session.commit()
    far, near = place(variant_id, phone=ASHA, address="Flat 3, MG Road 560001"), place(variant_id, phone=ASHA)
    move_order_to(far, OrderStatus.CONFIRMED)
    move_order_to(near, OrderStatus.CONFIRMED)
    outbox.run_due()

    today = local(utcnow(), ZONE).date()
    assert (far.expected_delivery_date - today, near.expected_delivery_date - today) == (
        timedelta(days=4),
        timedelta(days=1),  # the customer() address is in Kasarani
    )
    confirmed = [m for m in graph_api.messages_to(ASHA_DIGITS) if "Confirmed" in body_parameters(m)[2]]
    summaries = sorted(body_parameters(m)[2] for m in confirmed)
    assert all(summary.startswith("Confirmed, expected ") for summary in summaries) and len(summaries) == 2


def test_a_switched_off_status_sends_nothing_but_the_order_still_moves(graph_api, variant_id):
    settings = get_store_settings()
    settings.silent_statuses = ["preparing", "out_for_delivery"]
    db.session.commit()
    order = place(variant_id, phone=ASHA)
    for status in (OrderStatus.CONFIRMED, OrderStatus.PREPARING, OrderStatus.SHIPPED, OrderStatus.OUT_FOR_DELIVERY):
        move_order_to(order, status)
    assert order.status == OrderStatus.OUT_FOR_DELIVERY
    assert [e.to_status for e in order.events if e.kind == "status"] == [
        "confirmed",
        "preparing",
        "shipped",
        "out_for_delivery",
    ]
    outbox.run_due()
    purposes = [m.purpose for m in outgoing_messages()]
    assert purposes == ["order_confirmation", "status:confirmed", "status:shipped"]


def test_confirmed_and_cancelled_always_go(variant_id):
    settings = get_store_settings()
    settings.silent_statuses = list(SWITCHABLE_STATUS_MESSAGES) + ["confirmed", "cancelled"]  # as if forced in
    assert customer_hears_of(OrderStatus.CONFIRMED, settings) and customer_hears_of(OrderStatus.CANCELLED, settings)
    assert not any(customer_hears_of(OrderStatus(key), settings) for key in SWITCHABLE_STATUS_MESSAGES)
    assert not customer_hears_of(OrderStatus.PENDING, settings)


def test_the_shops_webhook_carries_window_and_agent(graph_api, variant_id, shop_webhooks):
    settings = get_store_settings()
    settings.webhook_url, settings.webhook_secret = shop_webhooks.url, "whsec_test_secret"
    db.session.commit()
    _out_for_delivery_with_window_and_agent(variant_id)
    while outbox.run_due():
        pass
    last = shop_webhooks.received[-1].json
    delivery = last["data"]["order"]["delivery"] if "data" in last else last["order"]["delivery"]
    assert delivery["agent_name"] == "Ravi Kumar" and delivery["agent_phone"] == "+919812345678"
    assert delivery["window_start"].endswith("08:30:00+00:00")
    assert delivery["window_display"].endswith(", 2:00 pm–5:00 pm")
