"""A failed delivery, end to end: the courier's signed webhook says so, the customer chooses in WhatsApp (the signed
Meta webhook, replies checked by the fake Graph API), the choice moves the order, reaches staff and the courier's
API (a fake on 127.0.0.1 that fails on demand), and a parcel back at the shop puts its stock back."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from checkout import outbox
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Carrier, Conversation, Order, OutboxItem, StockMovement, Variant, get_store_settings
from checkout.orders.delivery_exceptions import days_offered
from checkout.whatsapp import webhooks
from tests.admin_helpers import make_staff, sign_in
from tests.carriers.couriers import ASHA, add_courier, generic_body, order_with_the_courier, post_signed
from tests.fakes.carrier_api import TOKEN, FakeCarrierApi
from tests.messaging import payloads
from tests.messaging.conftest import cloud_settings, graph_api, quick_reply_payloads  # noqa: F401 (a fixture)

DIGITS = ASHA[1:]
STRANGER = "254712345678"
NEW_ADDRESS = "Flat 4B, “Śrī Nivās”, 12th Cross\nनेहरू नगर, Bengaluru 560001 🏠"


@pytest.fixture
def carrier_api():
    fake = FakeCarrierApi()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def app(make_app, graph_api, carrier_api):  # noqa: F811 (the fixture imported above)
    app = make_app(**cloud_settings(graph_api.url), WHATSAPP_APP_SECRET="test-secret")
    return app


@pytest.fixture
def swift(app, carrier_api):
    with app.app_context():
        courier = add_courier("generic", name="swift")
        carrier = db.session.scalar(select(Carrier).where(Carrier.name == "swift"))
        carrier.action_url, carrier.action_token = carrier_api.url, TOKEN
        db.session.commit()
        db.session.remove()
    return courier


@pytest.fixture
def order_id(app, swift):
    """An order out for delivery with the swift courier (its first scan names the order)."""
    with app.app_context():
        found = order_with_the_courier(status="shipped")
        db.session.remove()
    return found


class Shop:
    """Drives one order through the courier's webhook and the customer's WhatsApp, as the worker would."""

    def __init__(self, app, client, swift, graph_api, order_id):  # noqa: F811
        self.app, self.client, self.swift, self.graph, self.order_id = app, client, swift, graph_api, order_id
        self.events = 0

    def courier(self, code: str, **data) -> str:
        self.events += 1
        response = post_signed(self.client, *self.swift, generic_body(code, f"evt-{self.events}", **data))
        assert response.status_code == 200
        self.work()
        return response.json["outcome"]

    def whatsapp(self, body: dict) -> None:
        assert payloads.post_signed(self.client, self.app, body).status_code == 200
        with self.app.app_context():
            webhooks.process_pending()
            db.session.remove()
        self.work()

    def taps(self, reply_id: str, *, digits: str = DIGITS, template: bool = False) -> None:
        if template:
            self.whatsapp(payloads.template_button(reply_id, title="Deliver again", wa_id=digits))
        else:
            self.whatsapp(payloads.reply_button(reply_id, title="Choice", wa_id=digits))

    def picks(self, row_id: str) -> None:
        reply = {"type": "list_reply", "list_reply": {"id": row_id, "title": "A day"}}
        self.whatsapp(payloads.inbound({"type": "interactive", "interactive": reply}, wa_id=DIGITS))

    def types(self, text: str) -> None:
        self.whatsapp(payloads.text(text, wa_id=DIGITS))

    def work(self) -> None:
        with self.app.app_context():
            outbox.run_due()
            db.session.remove()

    def order(self) -> Order:
        with self.app.app_context():
            order = db.session.get(Order, self.order_id)
            _ = order.events
            db.session.expunge_all()
            return order

    def last_to_customer(self, digits: str = DIGITS):
        return self.graph.messages_to(digits)[-1]

    def reference(self) -> str:
        return self.order().reference


@pytest.fixture
def shop(app, client, swift, graph_api, order_id):  # noqa: F811
    return Shop(app, client, swift, graph_api, order_id)


def statuses(order: Order) -> list[str]:
    return [event.to_status for event in order.events if event.kind == "status"]


def fail_the_delivery(shop: Shop) -> str:
    assert shop.courier("OFD") == "moved"
    status = {"code": "NDR", "at": "2026-12-04T18:00:00+05:30", "reason": "Door locked"}
    assert shop.courier("NDR", status=status) == "moved"
    assert shop.order().status == "delivery_failed"
    return shop.reference()


def test_deliver_again_on_a_chosen_day_then_delivered(shop, carrier_api, app):
    reference = fail_the_delivery(shop)
    asked = shop.last_to_customer()
    # The customer has not written in 24 hours: the approved template, its quick replies naming the order.
    assert asked.body["template"]["name"] == "delivery_failed"
    assert quick_reply_payloads(asked) == [f"dx-again:{reference}", f"dx-address:{reference}", f"dx-return:{reference}"]
    assert "Door locked" in str(asked.body)
    assert "the customer was asked" in shop.order().attention

    shop.taps(f"dx-again:{reference}", template=True)
    day_list = shop.last_to_customer()
    rows = day_list.body["interactive"]["action"]["sections"][0]["rows"]
    with app.app_context():
        offered = days_offered(utcnow(), get_store_settings().zone_name)
    assert [row["id"] for row in rows] == [f"dx-day:{reference}:{day.isoformat()}" for day in offered]

    shop.picks(rows[1]["id"])
    order = shop.order()
    assert order.status == "rescheduled" and order.expected_delivery_date == offered[1]
    assert "Deliver again on" in order.events[-1].note or "Deliver again on" in order.events[-2].note
    assert "we will deliver again on" in shop.last_to_customer().body["text"]["body"]
    assert carrier_api.actions == [
        {
            "action": "reschedule",
            "tracking_number": order.tracking_number,
            "order_reference": reference,
            "date": offered[1].isoformat(),
        }
    ]
    assert "Passed “deliver again” to" in shop.order().events[-1].note

    assert shop.courier("OFD") == "moved"
    assert shop.courier("DLVD") == "moved"
    order = shop.order()
    assert order.status == "delivered"
    assert statuses(order)[-5:] == [
        "out_for_delivery",
        "delivery_failed",
        "rescheduled",
        "out_for_delivery",
        "delivered",
    ]


def test_a_new_address_waits_for_staff_and_the_customer_hears_the_decision(shop, carrier_api, app, client):
    reference = fail_the_delivery(shop)
    shop.taps(f"dx-address:{reference}")
    assert "type the full new delivery address" in shop.last_to_customer().body["text"]["body"]
    shop.types(NEW_ADDRESS)
    order = shop.order()
    assert order.status == "delivery_failed" and order.requested_address == NEW_ADDRESS  # exactly as typed
    assert "approve or reject" in order.attention
    assert NEW_ADDRESS in shop.last_to_customer().body["text"]["body"]
    assert carrier_api.actions == []

    with app.app_context():
        email = make_staff("fulfilment").email
        db.session.commit()
        db.session.remove()
    sign_in(client, email)
    page = client.get(f"/admin/orders/{reference}").get_data(as_text=True)
    assert "New delivery address from the customer" in page and "Approve new address" in page
    response = client.post(
        f"/admin/orders/{reference}/address-change",
        data={"decision": "approve", "version": order.version},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "New address approved" in response.get_data(as_text=True)
    shop.work()
    order = shop.order()
    assert (order.status, order.delivery_address, order.requested_address) == ("rescheduled", NEW_ADDRESS, "")
    assert "we will deliver again" in shop.last_to_customer().body["text"]["body"]
    assert carrier_api.actions[-1]["action"] == "change_address"
    assert carrier_api.actions[-1]["address"] == NEW_ADDRESS


def test_a_rejected_address_is_said_and_the_choices_come_again(shop, app, client):
    reference = fail_the_delivery(shop)
    shop.taps(f"dx-address:{reference}")
    shop.types("somewhere")
    with app.app_context():
        email = make_staff("fulfilment").email
        db.session.commit()
        db.session.remove()
    sign_in(client, email)
    version = shop.order().version
    data = {"decision": "reject", "reason": "We do not deliver outside the city", "version": version}
    assert client.post(f"/admin/orders/{reference}/address-change", data=data).status_code == 303
    shop.work()
    order = shop.order()
    assert (order.status, order.requested_address, order.delivery_address) == (
        "delivery_failed",
        "",
        "Beth House, Kasarani, House 16",
    )
    again = shop.last_to_customer().body
    assert "We do not deliver outside the city" in again["interactive"]["body"]["text"]
    assert [b["reply"]["id"] for b in again["interactive"]["action"]["buttons"]][0] == f"dx-again:{reference}"
    # A second decision on the same address finds nothing to decide: a clear error, not a 500.
    data["version"] = order.version
    assert client.post(f"/admin/orders/{reference}/address-change", data=data).status_code == 409


def test_without_approval_the_new_address_is_used_at_once(shop, carrier_api, app):
    with app.app_context():
        get_store_settings().address_change_needs_approval = False
        db.session.commit()
        db.session.remove()
    reference = fail_the_delivery(shop)
    shop.taps(f"dx-address:{reference}")
    shop.types("  " + NEW_ADDRESS + "  ")
    order = shop.order()
    assert (order.status, order.delivery_address) == ("rescheduled", NEW_ADDRESS)
    assert carrier_api.actions[-1] == {
        "action": "change_address",
        "tracking_number": order.tracking_number,
        "order_reference": reference,
        "address": NEW_ADDRESS,
    }


def test_an_address_too_long_is_refused_and_asked_again(shop):
    reference = fail_the_delivery(shop)
    shop.taps(f"dx-address:{reference}")
    shop.types("x" * 501)
    assert "too long" in shop.last_to_customer().body["text"]["body"]
    assert shop.order().requested_address == ""
    shop.types("Door 7, Main Road")
    assert shop.order().requested_address == "Door 7, Main Road"


def test_cancel_and_return_then_the_parcel_is_back_with_its_stock(shop, carrier_api, app):
    reference = fail_the_delivery(shop)
    with app.app_context():
        variant_id = db.session.get(Order, shop.order_id).lines[0].variant_id
        before = db.session.get(Variant, variant_id).stock_on_hand
        db.session.remove()
    shop.taps(f"dx-return:{reference}")
    assert shop.order().status == "returning"
    assert "on its way back to us" in shop.last_to_customer().body["text"]["body"]
    assert carrier_api.actions[-1]["action"] == "return_to_origin"

    assert shop.courier("RTO") == "moved"
    order = shop.order()
    assert order.status == "returned"
    with app.app_context():
        assert db.session.get(Variant, variant_id).stock_on_hand == before + 1
        movement = db.session.scalars(select(StockMovement).order_by(StockMovement.id.desc())).first()
        assert (movement.delta, f"Order {reference} returned to the shop" in movement.reason) == (1, True)
        db.session.remove()
    assert "back with us" in shop.last_to_customer().body["text"]["body"]


def test_taps_that_do_not_apply_are_answered_politely(shop, app):
    reference = fail_the_delivery(shop)
    # Someone else taps the order's button: nothing changes, and they learn nothing about it.
    shop.taps(f"dx-return:{reference}", digits=STRANGER)
    assert "couldn't find that order" in shop.last_to_customer(STRANGER).body["text"]["body"]
    assert shop.order().status == "delivery_failed"
    # An order that does not exist, a day not offered, a day that is no date.
    shop.taps("dx-again:ZZZZ-9999")
    assert "couldn't find that order" in shop.last_to_customer().body["text"]["body"]
    shop.picks(f"dx-day:{reference}:2020-01-01")
    assert "no longer offered" in shop.last_to_customer().body["text"]["body"]
    shop.picks(f"dx-day:{reference}:not-a-day")
    assert "could not be read" in shop.last_to_customer().body["text"]["body"]
    assert shop.order().status == "delivery_failed"
    # The order moves on; an old button tapped later says where it stands.
    shop.taps(f"dx-return:{reference}")
    shop.taps(f"dx-again:{reference}")
    answer = shop.last_to_customer().body["text"]["body"]
    assert "is returning to the shop now" in answer and "/o/" in answer
    assert shop.order().status == "returning"


def test_the_courier_api_failing_is_retried_then_recorded(shop, carrier_api, app):
    reference = fail_the_delivery(shop)
    carrier_api.fail_next(2)
    shop.taps(f"dx-return:{reference}")
    assert carrier_api.actions == []
    for _ in range(2):
        with app.app_context():
            for item in db.session.scalars(select(OutboxItem).where(OutboxItem.kind == "carrier_action")):
                item.next_attempt_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
            db.session.remove()
        shop.work()
    assert [a["action"] for a in carrier_api.actions] == ["return_to_origin"]
    assert "Passed “return the parcel to the shop”" in shop.order().events[-1].note


def test_a_courier_refusing_the_action_is_put_to_staff(shop, carrier_api, app):
    with app.app_context():
        db.session.scalar(select(Carrier).where(Carrier.name == "swift")).action_token = "wrong"
        db.session.commit()
        db.session.remove()
    reference = fail_the_delivery(shop)
    shop.taps(f"dx-return:{reference}")
    order = shop.order()
    assert carrier_api.refused == [(401, "bad token")]
    assert "Could not pass “return the parcel to the shop”" in order.events[-1].note
    assert "Tell the courier yourself" in order.attention


def test_a_text_a_day_after_the_address_question_is_not_taken_as_the_address(shop, app):
    reference = fail_the_delivery(shop)
    shop.taps(f"dx-address:{reference}")
    with app.app_context():
        conversation = db.session.scalar(select(Conversation).where(Conversation.phone == ASHA))
        asked = {**conversation.flow_data, "address_asked_at": (utcnow() - timedelta(hours=25)).isoformat()}
        conversation.flow_data = asked
        db.session.commit()
        db.session.remove()
    shop.types("hello, any news?")
    assert shop.order().requested_address == ""
    assert shop.order().status == "delivery_failed"
