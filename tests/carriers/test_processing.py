"""What a courier's event does to an order: through the one state machine, once, never backwards; what cannot
apply is kept and put to staff. The customer hears of a move through the outbox (the fake Graph API here)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from checkout import outbox
from checkout.carriers import events
from checkout.database import transaction, utcnow
from checkout.extensions import db
from checkout.models import CarrierEvent, Order, OrderEvent
from checkout.notifications import run_scheduled_work
from checkout.orders.lifecycle import transition
from tests.carriers.couriers import (
    ASHA,
    add_courier,
    delhivery_body,
    generic_body,
    order_with_the_courier,
    post_signed,
    post_token,
    shiprocket_body,
)
from tests.messaging.conftest import body_parameters, cloud_settings, graph_api  # noqa: F401 (a fixture)


@pytest.fixture
def app(make_app, graph_api):  # noqa: F811 (the fixture imported above)
    return make_app(**cloud_settings(graph_api.url))


@pytest.fixture
def swift(app):
    with app.app_context():
        courier = add_courier("generic", name="swift")
        db.session.remove()
    return courier


def prepare(app, status="preparing", **kw) -> int:
    with app.app_context():
        order_id = order_with_the_courier(status=status, **kw)
        outbox.run_due()
        db.session.remove()
    return order_id


def the_order(app, order_id) -> Order:
    with app.app_context():
        order = db.session.get(Order, order_id)
        _ = order.events
        db.session.expunge_all()
        return order


def events_of(app) -> list[CarrierEvent]:
    with app.app_context():
        rows = list(db.session.scalars(select(CarrierEvent).order_by(CarrierEvent.id)))
        db.session.expunge_all()
        return rows


def courier_says(client, swift, code, event_id, **data):
    response = post_signed(client, *swift, generic_body(code, event_id, **data))
    assert response.status_code == 200
    return response.json


def test_picked_up_moves_the_order_to_shipped_and_the_customer_hears_through_the_outbox(
    client,
    app,
    swift,
    graph_api,  # noqa: F811
):
    order_id = prepare(app)
    before = len(graph_api.messages_to(ASHA[1:]))

    assert courier_says(client, swift, "PICKED", "evt-1") == {"status": "received", "outcome": "moved"}

    order = the_order(app, order_id)
    assert order.status == "shipped"
    move = order.events[-1]
    assert (move.kind, move.actor, move.from_status, move.to_status) == ("status", "swift", "preparing", "shipped")
    with app.app_context():
        assert outbox.run_due() == {"sent": 1}
    [shipped] = graph_api.messages_to(ASHA[1:])[before:]
    assert "Shipped with Delhivery, tracking number 1490110123456" in body_parameters(shipped)
    [event] = events_of(app)
    assert (event.outcome, event.order_id, event.mapped_event, event.carrier_status) == (
        "moved",
        order_id,
        "picked_up",
        "PICKED",
    )
    assert event.processed_at is not None and event.error == ""


def test_out_for_delivery_keeps_the_agent_and_window_on_the_timeline(client, app, swift):
    order_id = prepare(app, status="shipped")
    agent = {"name": "Ravi Kumar", "phone": "+919800000001"}
    courier_says(client, swift, "OFD", "evt-2", agent=agent, slot="today 14:00–17:00")
    order = the_order(app, order_id)
    assert order.status == "out_for_delivery"
    assert (
        order.events[-1].note == "Courier: Out for delivery; agent Ravi Kumar +919800000001; window today 14:00–17:00"
    )
    # …and on the order itself, where the status page, the messages and the API read them.
    assert (order.delivery_agent_name, order.delivery_agent_phone) == ("Ravi Kumar", "+919800000001")
    assert order.delivery_window_end - order.delivery_window_start == timedelta(hours=3)


def test_an_agent_number_that_is_no_phone_number_still_lets_the_name_and_window_through(client, app, swift):
    order_id = prepare(app, status="shipped")
    courier_says(client, swift, "OFD", "evt-3", agent={"name": "Ravi", "phone": "call the depot"}, slot="14:00-17:00")
    order = the_order(app, order_id)
    assert order.status == "out_for_delivery"
    assert (order.delivery_agent_name, order.delivery_agent_phone) == ("Ravi", "")
    assert order.delivery_window_start is not None


def test_a_resent_event_is_acknowledged_and_changes_nothing(client, app, swift):
    order_id = prepare(app)
    assert courier_says(client, swift, "PICKED", "evt-3")["outcome"] == "moved"
    assert courier_says(client, swift, "PICKED", "evt-3") == {"status": "duplicate"}
    assert len(events_of(app)) == 1
    assert [e.kind for e in the_order(app, order_id).events].count("status") == 3  # confirmed, preparing, shipped


def test_a_late_event_never_moves_the_order_back(client, app, swift):
    order_id = prepare(app, status="out_for_delivery")
    assert courier_says(client, swift, "PICKED", "evt-4")["outcome"] == "already"
    order = the_order(app, order_id)
    assert order.status == "out_for_delivery" and order.attention == ""
    assert events_of(app)[-1].outcome == "already"


def test_delivered_before_out_for_delivery_is_kept_and_put_to_staff_when_the_machine_has_no_such_step(
    client, app, swift
):
    order_id = prepare(app, status="shipped")
    assert courier_says(client, swift, "DLVD", "evt-5")["outcome"] == "out_of_order"
    order = the_order(app, order_id)
    assert order.status == "shipped"
    assert order.events[-1].kind == "courier" and "Delivered" in order.events[-1].note
    assert "while the order is shipped" in order.attention
    # The scan that was missing arrives, then the delivery again (a new event id): both apply, in order.
    assert courier_says(client, swift, "OFD", "evt-6")["outcome"] == "moved"
    assert courier_says(client, swift, "DLVD", "evt-7")["outcome"] == "moved"
    assert the_order(app, order_id).status == "delivered"


def test_an_event_for_an_order_not_yet_prepared_is_kept_and_flagged(client, app, swift):
    order_id = prepare(app, status="confirmed")
    assert courier_says(client, swift, "PICKED", "evt-8")["outcome"] == "out_of_order"
    assert the_order(app, order_id).status == "confirmed"


def test_an_unknown_tracking_number_is_kept_never_a_500(client, app, swift):
    prepare(app)
    assert courier_says(client, swift, "PICKED", "evt-9", awb="NOT-OURS")["outcome"] == "unknown_tracking"
    [event] = events_of(app)
    assert (event.tracking_number, event.order_id, event.outcome) == ("NOT-OURS", None, "unknown_tracking")
    assert event.processed_at is not None


def test_a_status_not_in_the_couriers_table_is_kept_with_its_order(client, app, swift):
    order_id = prepare(app)
    assert courier_says(client, swift, "WEIGHED", "evt-10")["outcome"] == "unmapped_status"
    [event] = events_of(app)
    assert (event.mapped_event, event.order_id) == ("", order_id)
    assert the_order(app, order_id).status == "preparing"


def test_a_failed_delivery_moves_the_order_and_keeps_the_reason(client, app, swift):
    order_id = prepare(app, status="out_for_delivery")
    status = {"code": "NDR", "at": "2026-12-04T18:00:00+05:30", "reason": "Customer not at home"}
    assert courier_says(client, swift, "NDR", "evt-11", status=status)["outcome"] == "moved"
    order = the_order(app, order_id)
    assert order.status == "delivery_failed"
    assert (order.events[-1].kind, order.events[-1].to_status) == ("status", "delivery_failed")
    assert "Delivery failed — Customer not at home" in order.events[-1].note
    assert "Customer not at home" in order.attention
    # The same scan resent with another id changes nothing: the order is there already.
    assert courier_says(client, swift, "NDR", "evt-11b", status=status)["outcome"] == "already"


def test_a_return_to_the_shop_passes_through_returning_and_puts_the_stock_back(client, app, swift):
    order_id = prepare(app, status="out_for_delivery")
    courier_says(client, swift, "NDR", "evt-12a")
    assert courier_says(client, swift, "RTO", "evt-12")["outcome"] == "moved"
    order = the_order(app, order_id)
    assert order.status == "returned"
    assert [e.to_status for e in order.events if e.kind == "status"][-2:] == ["returning", "returned"]
    # Nothing moves it back: a late out-for-delivery scan is only noted as reached already.
    assert courier_says(client, swift, "OFD", "evt-12c")["outcome"] == "already"
    assert the_order(app, order_id).status == "returned"


def test_a_return_before_any_failed_attempt_is_put_to_staff(client, app, swift):
    order_id = prepare(app, status="shipped")
    assert courier_says(client, swift, "RTO", "evt-13")["outcome"] == "out_of_order"
    order = the_order(app, order_id)
    assert order.status == "shipped" and order.events[-1].kind == "courier"
    assert "Returned to the shop" in order.attention


def test_an_event_for_a_cancelled_order_is_put_to_staff(client, app, swift):
    with app.app_context():
        order_id = order_with_the_courier(status="confirmed")
        with transaction():
            transition(db.session.get(Order, order_id), "cancelled", actor="Test Staff", note="Changed mind")
        db.session.remove()
    assert courier_says(client, swift, "PICKED", "evt-13")["outcome"] == "cancelled_order"
    order = the_order(app, order_id)
    assert order.status == "cancelled" and "cancelled order" in order.attention


def test_in_transit_is_remembered_without_touching_the_order(client, app, swift):
    order_id = prepare(app, status="shipped")
    events_before = len(the_order(app, order_id).events)
    assert courier_says(client, swift, "MOVING", "evt-14")["outcome"] == "noted"
    assert len(the_order(app, order_id).events) == events_before


def test_the_order_is_found_by_its_reference_when_the_tracking_number_is_not_on_it(client, app):
    with app.app_context():
        order_id = order_with_the_courier(tracking_number="", status="preparing")
        reference = db.session.get(Order, order_id).reference
        name, secret = add_courier("delhivery")
        db.session.remove()
    body = delhivery_body("In Transit", "UD", awb="NEW-AWB")
    body["Shipment"]["ReferenceNo"] = reference
    response = post_token(client, name, secret, body, header="Authorization")
    assert response.json["outcome"] == "moved" and the_order(app, order_id).status == "shipped"


def test_a_failure_while_processing_is_kept_on_the_row_to_be_tried_again(client, app, swift, monkeypatch):
    order_id = prepare(app)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(events, "transition", broken)
    assert courier_says(client, swift, "PICKED", "evt-15")["outcome"] == "failed"
    [event] = events_of(app)
    assert event.processed_at is None and "the database went away" in event.error
    assert the_order(app, order_id).status == "preparing"
    monkeypatch.undo()
    with app.app_context():
        assert events.retry_unprocessed_events() == 0  # too fresh: the request that stored it may still be at it
        db.session.get(CarrierEvent, event.id).received_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        run_scheduled_work()
    assert the_order(app, order_id).status == "shipped"
    assert events_of(app)[0].outcome == "moved"


def test_every_preset_moves_an_order_end_to_end(client, app):
    with app.app_context():
        shiprocket_order = order_with_the_courier(tracking_number="SR-1")
        delhivery_order = order_with_the_courier(tracking_number="DL-1")
        shiprocket = add_courier("shiprocket")
        delhivery = add_courier("delhivery")
        db.session.remove()
    for status in ("PICKED UP", "OUT FOR DELIVERY", "DELIVERED"):
        assert post_token(client, *shiprocket, shiprocket_body(status, awb="SR-1")).json["outcome"] == "moved"
    for status, kind in (("In Transit", "UD"), ("Dispatched", "UD"), ("Delivered", "DL")):
        body = delhivery_body(status, kind, awb="DL-1")
        assert post_token(client, *delhivery, body, header="Authorization").json["outcome"] == "moved"
    assert the_order(app, shiprocket_order).status == the_order(app, delhivery_order).status == "delivered"
    with app.app_context():
        assert db.session.scalar(select(func.count(OrderEvent.id)).where(OrderEvent.kind == "courier")) == 0
