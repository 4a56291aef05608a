"""The lifecycle walk: orders taken through every kind of event the code can record, and after EACH step every
page and endpoint that shows an order is opened. None may answer 5xx, and the public status page never shows
what is internal (the staff note, the assignee).

Each walk is a table: one line per step, saying what happens (through the real routes, domain functions and
the signed WhatsApp webhook) and which timeline kind and status it leaves behind, which the walk checks.

NEW KINDS OF EVENT MUST JOIN THIS WALK: a new `record_event(order, "<kind>", ...)` in checkout/, or a new
status in checkout/orders/lifecycle.py, makes test_every_event_kind_and_status_is_walked fail until a step
below records it. A new page or endpoint that shows an order joins `pages_showing_the_order`.
"""

import html
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask import url_for
from sqlalchemy import select

from checkout import outbox
from checkout.api import keys
from checkout.carriers.carriers import CarrierDraft, add_carrier, find_active
from checkout.catalog import stock
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import (
    Conversation,
    Message,
    Order,
    PaymentRequest,
    ReturnRequest,
    ServiceSession,
    Variant,
    get_store_settings,
)
from checkout.money import from_minor
from checkout.notifications import run_scheduled_work
from checkout.orders.documents import order_document
from checkout.orders.lifecycle import OrderStatus
from checkout.staff.conversation import OUTBOX_STATUSES
from checkout.whatsapp import webhooks
from checkout.whatsapp.consent import record_checkout_consent
from tests.admin_helpers import make_staff, sign_in
from tests.factories import (
    customer,
    give_consent,
    make_checkout_cart,
    make_coupon,
    make_order,
    make_product,
    make_store,
)
from tests.fakes.stripe_api import SECRET_KEY as STRIPE_SECRET_KEY
from tests.fakes.stripe_api import FakeStripe, stripe_signature
from tests.messaging import payloads
from tests.sessions.helpers import make_service

SECRET = "walk-webhook-secret"
CUSTOMER_DIGITS = "919876543210"
STRANGER_DIGITS = "254712345678"
STAFF_NOTE = "Walk note: customer owes us a favour, do not tell them"
ASSIGNEE = "Ravi Packer"
AGENT_NAME, AGENT_PHONE = "Sunil Courier", "+919812345678"
WINDOW = ("14:00", "17:00")
WINDOW_SHOWN = "2:00 pm–5:00 pm"  # in the shop's zone (Asia/Kolkata) and locale (en_IN)
FRAGMENT_TARGET = "order-desk"  # the desk swaps just its table; the other admin pages answer any HTMX request
CHECKOUT_DIR = Path(__file__).resolve().parents[2] / "checkout"


@dataclass
class Walker:
    """One order being walked, the owner's signed-in client and an API key to read it with."""

    app: object
    client: object
    reference: str
    token: str
    api_secret: str
    assignee_id: int
    coupon_id: int
    stripe: FakeStripe | None = None

    def order(self) -> Order:
        return db.session.scalar(select(Order).where(Order.reference == self.reference))

    def version(self) -> int:
        with self.app.app_context():
            return self.order().version

    def amount(self, which: str) -> str:
        """An amount as staff type it: the balance, half of it, or half of what was paid."""
        with self.app.app_context():
            order = self.order()
            minor = {
                "balance": order.balance_minor,
                "part": order.balance_minor // 2,
                "half paid": order.amount_paid_minor // 2,
            }[which]
            return str(from_minor(minor, order.currency))

    def admin_post(self, action: str, **form) -> None:
        response = self.client.post(f"/admin/orders/{self.reference}/{action}", data=form)
        assert response.status_code in (200, 302, 303), (action, response.status_code)

    def webhook(self, body: dict) -> None:
        """Meta's signed webhook, then what the worker does: process it and deliver the replies."""
        assert payloads.post_signed(self.client, self.app, body).status_code == 200
        with self.app.app_context():
            webhooks.process_pending()
            db.session.remove()
        self.deliver()

    def sandbox_chat(self, digits: str) -> str:
        """The customer's phone as the sandbox draws it: every message kind must render there."""
        response = self.client.get(url_for_sandbox_chat(self.app, digits))
        assert response.status_code == 200
        return html.unescape(response.get_data(as_text=True))

    def conversation_id(self, digits: str) -> int | None:
        with self.app.app_context():
            found = db.session.scalar(select(Conversation.id).where(Conversation.phone == "+" + digits))
            db.session.remove()
            return found

    def deliver(self) -> None:
        with self.app.app_context():
            outbox.run_due()
            db.session.remove()


def url_for_sandbox_chat(app, digits: str) -> str:
    with app.test_request_context():
        return url_for("sandbox.chat", digits=digits)


# --- the steps: each drives one kind of event through the path the product uses ------------------------------


def placed(w: Walker) -> None:
    """Nothing to do: the fixture placed the order through the real use case."""


def handshake(w: Walker) -> None:
    summary = f"Hello Test Shop! I'd like to place this order.\n\n*Order {w.reference}*\n1 × Cotton Kurta"
    w.webhook(payloads.text(summary, wa_id=CUSTOMER_DIGITS))


def mismatch(w: Walker) -> None:
    w.webhook(payloads.text(f"Order {w.reference} please", wa_id=STRANGER_DIGITS, name="Stranger"))


def note(w: Walker) -> None:
    w.admin_post("notes", note=STAFF_NOTE)


def assignment(w: Walker) -> None:
    w.admin_post("assign", assignee=str(w.assignee_id), version=w.version())


def fulfilment_edit(w: Walker) -> None:
    w.admin_post(
        "fulfilment",
        carrier="Blue Dart",
        tracking_number="BD123",
        tracking_url="https://track.example/BD123",
        expected_delivery_date="2026-12-04",
        delivery_day="2026-12-04",
        window_from="10:00",
        window_until="13:00",
        delivery_agent_name="Early Agent",
        delivery_agent_phone="+919811122233",
        version=w.version(),
    )


def window_and_agent(w: Walker) -> None:
    """On its way: staff give the window and the agent who brings it (the out-for-delivery message says them)."""
    w.admin_post(
        "fulfilment",
        carrier="Delhivery",
        tracking_number="DL9",
        expected_delivery_date="2026-12-04",
        delivery_day="2026-12-04",
        window_from=WINDOW[0],
        window_until=WINDOW[1],
        delivery_agent_name=AGENT_NAME,
        delivery_agent_phone="98123 45678",
        version=w.version(),
    )


def staff_message(w: Walker) -> None:
    w.admin_post("messages", text="Hello from the shop, your order is in hand.")


def customer_taps(action: str) -> Callable[[Walker], None]:
    def tap(w: Walker) -> None:
        w.webhook(payloads.reply_button(f"{action}:{w.reference}", wa_id=CUSTOMER_DIGITS))

    return tap


def staff_moves_to(status: str, **extra) -> Callable[[Walker], None]:
    def move(w: Walker) -> None:
        w.admin_post("status", target=status, version=w.version(), **extra)
        w.deliver()

    return move


def payment(which: str) -> Callable[[Walker], None]:
    def pay(w: Walker) -> None:
        w.admin_post("payments", method="upi", amount=w.amount(which), reference="UPI-77", version=w.version())
        w.deliver()

    return pay


def payment_requested(w: Walker) -> None:
    """The shop takes UPI; staff press "Request payment": the customer gets the link and both pages show it."""
    with w.app.app_context():
        settings = get_store_settings()
        settings.payment_provider, settings.upi_payee_address, settings.upi_payee_name = "upi", "me@okaxis", "Shop"
        db.session.commit()
        db.session.remove()
    w.admin_post("payment-request")
    w.deliver()
    assert "upi://pay?pa=me@okaxis" in w.sandbox_chat(CUSTOMER_DIGITS)
    assert 'id="pay-link"' in w.client.get(f"/o/{w.token}").get_data(as_text=True)


def _requests_made_hours_ago(w: Walker, hours: int) -> None:
    for request in db.session.scalars(select(PaymentRequest).where(PaymentRequest.order_id == w.order().id)):
        request.created_at -= timedelta(hours=hours)


def payment_reminded(w: Walker) -> None:
    """A day on, the request is still unpaid: the sweep sends the one reminder, the same UPI link again."""
    with w.app.app_context():
        _requests_made_hours_ago(w, 25)
        db.session.commit()
        run_scheduled_work()
        db.session.remove()
    w.deliver()
    chat = w.sandbox_chat(CUSTOMER_DIGITS)
    assert "A reminder: order" in chat and chat.count("upi://pay?pa=me@okaxis") == 2


def payment_requested_by_template(w: Walker) -> None:
    """The customer never wrote to the shop: the request goes as the approved payment_request template."""
    with w.app.app_context():
        settings = get_store_settings()
        settings.payment_provider, settings.upi_payee_address, settings.upi_payee_name = "upi", "me@okaxis", "Shop"
        db.session.commit()
        db.session.remove()
    w.admin_post("payment-request")
    w.deliver()
    assert "is waiting for your payment of" in w.sandbox_chat(CUSTOMER_DIGITS)


def unpaid_past_the_limit(w: Walker) -> None:
    """Two days on, still unpaid: the shop's unpaid limit flags the order for staff."""
    with w.app.app_context():
        settings = get_store_settings()
        settings.unpaid_limit_hours, settings.payment_reminder_after_hours = 48, 0
        _requests_made_hours_ago(w, 49)
        db.session.commit()
        run_scheduled_work()
        assert "Not paid within 48 hours" in w.order().attention
        db.session.remove()


def stripe_payment_requested(w: Walker) -> None:
    """The shop moves to Stripe; staff ask again: a call-to-action button with the Checkout link reaches the chat."""
    with w.app.app_context():
        get_store_settings().payment_provider = "stripe"
        db.session.commit()
        db.session.remove()
    w.admin_post("payment-request")
    w.deliver()
    with w.app.app_context():
        sent = db.session.scalars(select(Message).where(Message.kind == "interactive").order_by(Message.id.desc()))
        assert any((m.payload.get("interactive") or {}).get("type") == "cta_url" for m in sent)
        db.session.remove()
    assert 'id="pay-link"' in w.client.get(f"/o/{w.token}").get_data(as_text=True)


def stripe_pays_half(w: Walker) -> None:
    """Stripe's signed webhook: the customer paid half the balance through Checkout (staff are asked to look)."""
    with w.app.app_context():
        order = w.order()
        amount, currency = order.balance_minor // 2 or 100, order.currency.lower()
        db.session.remove()
    intent = f"pi_walk_{amount}"
    w.stripe.add_payment_intent(intent, amount, currency)
    session = {"id": "cs_test_walk", "object": "checkout.session", "payment_status": "paid", "payment_intent": intent}
    # As our request makes it: the order in the metadata, the payment request's own reference as client_reference_id.
    session.update(amount_total=amount, currency=currency, metadata={"order_reference": w.reference})
    session.update(client_reference_id=f"{w.reference.replace('-', '')}P1")
    event = {"id": f"evt_walk_{amount}", "type": "checkout.session.completed", "data": {"object": session}}
    raw = json.dumps(event).encode()
    headers = {"Stripe-Signature": stripe_signature(raw, SECRET, int(time.time()))}
    assert w.client.post("/webhooks/payments/stripe", data=raw, headers=headers).status_code == 200
    w.deliver()


def courier_reports(
    status: str, kind: str, nsl: str = "X-DDD3FD", at: str = "2026-12-04T10:02:42"
) -> Callable[[Walker], None]:
    """Delhivery's scan push (its preset) for the order's tracking number, with the courier's token."""

    def report(w: Walker) -> None:
        with w.app.app_context():
            courier = find_active("delhivery")
            token = courier.secret if courier else add_carrier(CarrierDraft(name="delhivery", preset="delhivery"))[1]
            db.session.remove()
        scan = {"Status": status, "StatusType": kind, "StatusDateTime": at, "Instructions": status}
        body = {"Shipment": {"AWB": "DL9", "ReferenceNo": w.reference, "NSLCode": nsl, "Status": scan}}
        headers = {"Authorization": token}
        response = w.client.post("/webhooks/carriers/delhivery", data=json.dumps(body), headers=headers)
        assert response.status_code == 200, response.status_code
        w.deliver()

    return report


def followed_up(w: Walker) -> None:
    """The shop follows up 3 days after delivery: the sweep sends the one "how was it?" list, and only one."""
    with w.app.app_context():
        get_store_settings().follow_up_after_days = 3
        delivered = next(e for e in w.order().events if e.to_status == "delivered")
        delivered.created_at -= timedelta(days=3, hours=1)
        db.session.commit()
        run_scheduled_work()
        run_scheduled_work()
        db.session.remove()
    w.deliver()
    chat = w.sandbox_chat(CUSTOMER_DIGITS)
    assert chat.count("How was it? Pick a rating") == 1


def rated_from_the_follow_up(w: Walker) -> None:
    w.webhook(payloads.list_reply(f"rate:{w.reference}:4", "⭐⭐⭐⭐ 4", wa_id=CUSTOMER_DIGITS))
    assert f"Thank you for rating order {w.reference} 4/5" in w.sandbox_chat(CUSTOMER_DIGITS)


def rating_comment(w: Walker) -> None:
    w.webhook(payloads.text("The kurta fits well, thank you", wa_id=CUSTOMER_DIGITS))
    assert "passed your words on to" in w.sandbox_chat(CUSTOMER_DIGITS)


def customer_asks_where_the_order_is(w: Walker) -> None:
    """Staff hand the chat back to the bot, which answers with the courier's latest event."""
    response = w.client.post(f"/admin/inbox/{w.conversation_id(CUSTOMER_DIGITS)}/hand-back")
    assert response.status_code in (200, 302, 303), response.status_code
    w.webhook(payloads.text("where is my order?", wa_id=CUSTOMER_DIGITS))
    assert "Courier: Out for delivery · Delhivery" in w.sandbox_chat(CUSTOMER_DIGITS)


def customer_picks_a_day(w: Walker) -> None:
    """After "Deliver again": the list of the next three days came; the customer picks the first."""
    with w.app.app_context():
        row = db.session.scalars(
            select(Message).where(Message.direction == "out", Message.kind == "interactive").order_by(Message.id.desc())
        ).first()
        [first, *_] = row.payload["interactive"]["action"]["sections"][0]["rows"]
        db.session.remove()
    reply = {"type": "list_reply", "list_reply": {"id": first["id"], "title": first["title"]}}
    w.webhook(payloads.inbound({"type": "interactive", "interactive": reply}, wa_id=CUSTOMER_DIGITS))


def customer_types_an_address(text: str) -> Callable[[Walker], None]:
    def types(w: Walker) -> None:
        w.webhook(payloads.text(text, wa_id=CUSTOMER_DIGITS))

    return types


def staff_decide_the_address(decision: str) -> Callable[[Walker], None]:
    def decide(w: Walker) -> None:
        w.admin_post("address-change", decision=decision, reason="Outside our area", version=w.version())
        w.deliver()

    return decide


def refund(w: Walker) -> None:
    """Half of what is held, from the newest payments first (by hand for UPI, through Stripe for the card)."""
    w.admin_post("refunds", amount=w.amount("half paid"), reason="Goodwill", version=w.version())
    w.deliver()


def stripe_refund(w: Walker) -> None:
    """Staff refund part of the card payment: Stripe gives it back, its refund id is recorded, the customer told."""
    with w.app.app_context():
        card = next(p for p in w.order().payments if p.method == "stripe")
        payment_id, amount = card.id, str(from_minor(card.amount_minor // 2, w.order().currency))
        db.session.remove()
    w.admin_post("refunds", payment=str(payment_id), amount=amount, reason="One item missing", version=w.version())
    w.deliver()
    [made] = w.stripe.refunds.values()
    assert "within 5–10 business days" in w.sandbox_chat(CUSTOMER_DIGITS)
    with w.app.app_context():
        assert w.order().payments[-1].reference == made["id"]
        db.session.remove()


def failed_message(w: Walker) -> None:
    """Meta reports that the last message to the customer failed (a permanent, per-message error)."""
    with w.app.app_context():
        last = db.session.scalars(
            select(Message)
            .where(Message.direction == "out", Message.phone == "+" + CUSTOMER_DIGITS, Message.wamid.is_not(None))
            .order_by(Message.id.desc())
        ).first()
        wamid = last.wamid
        db.session.remove()
    error = {"code": 131026, "title": "Message undeliverable"}
    w.webhook(payloads.status(wamid, "failed", CUSTOMER_DIGITS, error=error))


def consent_given(w: Walker) -> None:
    """The customer ticked "Send me order updates and reminders on WhatsApp" at checkout."""
    with w.app.app_context():
        record_checkout_consent(w.order(), source="website", wording=get_store_settings().consent_wording)
        db.session.remove()


def reminded(w: Walker) -> None:
    """An hour on, the order was never sent from WhatsApp: the sweep sends the one reminder."""
    with w.app.app_context():
        w.order().created_at = utcnow() - timedelta(hours=2)
        db.session.commit()
        run_scheduled_work()
        db.session.remove()
    w.deliver()
    assert "Open your order here" in w.sandbox_chat(CUSTOMER_DIGITS)


def cart_recovered(w: Walker) -> None:
    """Another shopper (who agreed to reminders) left a cart at checkout a day ago: one marketing message."""
    with w.app.app_context():
        phone = "+" + STRANGER_DIGITS
        give_consent(phone)
        variant = db.session.get(Variant, w.order().lines[0].variant_id)
        make_checkout_cart([(variant, 1)], phone=phone, started_ago=timedelta(hours=25))
        run_scheduled_work()
        db.session.remove()
    w.deliver()
    assert "Your cart is saved here" in w.sandbox_chat(STRANGER_DIGITS)


def stop(w: Walker) -> None:
    w.webhook(payloads.text("STOP", wa_id=CUSTOMER_DIGITS))
    assert "no more reminders" in w.sandbox_chat(CUSTOMER_DIGITS)


def stranger_starts_ordering_in_the_chat(w: Walker) -> None:
    """Someone with no order writes "hi": the bot answers with the shop's products (an interactive list)."""
    w.webhook(payloads.text("hi, I want to order", wa_id=STRANGER_DIGITS, name="Stranger"))
    assert "Pick" in w.sandbox_chat(STRANGER_DIGITS)


def stranger_sends_a_catalog_cart(w: Walker) -> None:
    """A cart sent from a WhatsApp catalog, one known SKU and one the shop does not have."""
    with w.app.app_context():
        sku = w.order().lines[0].sku
        db.session.remove()
    items = [
        {"product_retailer_id": sku, "quantity": 2, "item_price": 799, "currency": "INR"},
        {"product_retailer_id": "NO-SUCH-SKU", "quantity": 1, "item_price": 1, "currency": "INR"},
    ]
    order = {"catalog_id": "CAT1", "product_items": items, "text": "for my sister"}
    w.webhook(payloads.inbound({"type": "order", "order": order}, wa_id=STRANGER_DIGITS, name="Stranger"))
    assert "NO-SUCH-SKU" in w.sandbox_chat(STRANGER_DIGITS)  # the unknown item is named to the customer


def customer_sends_a_picture_and_a_location(w: Walker) -> None:
    picture = {"id": "MEDIA-WALK-1", "mime_type": "image/jpeg", "sha256": "unknown", "caption": "the parcel"}
    w.webhook(payloads.inbound({"type": "image", "image": picture}, wa_id=CUSTOMER_DIGITS))
    place = {"latitude": 19.06, "longitude": 72.83, "name": "Home", "address": "Hill Rd, Mumbai"}
    w.webhook(payloads.inbound({"type": "location", "location": place}, wa_id=CUSTOMER_DIGITS))


def customer_asks_for_a_person(w: Walker) -> None:
    w.webhook(payloads.text("talk to a person please", wa_id=CUSTOMER_DIGITS))
    with w.app.app_context():
        assert db.session.get(Conversation, w.conversation_id(CUSTOMER_DIGITS)).waiting_since is not None
        db.session.remove()


def staff_reply_in_the_inbox(w: Walker) -> None:
    response = w.client.post(
        f"/admin/inbox/{w.conversation_id(CUSTOMER_DIGITS)}/reply", data={"text": "We are on it.", "send_key": "walk-1"}
    )
    assert response.status_code in (200, 302, 303), response.status_code
    w.deliver()
    assert "We are on it." in w.sandbox_chat(CUSTOMER_DIGITS)


def session_runs_out(w: Walker) -> None:
    """The paid session's time is up (its timestamps moved an hour back): the sweep ends it and asks to renew."""
    with w.app.app_context():
        session = db.session.scalar(select(ServiceSession).where(ServiceSession.order_id == w.order().id))
        session.started_at -= timedelta(hours=1)
        session.ends_at -= timedelta(hours=1)
        db.session.commit()
        run_scheduled_work()
        db.session.remove()
    w.deliver()
    assert "has ended. To continue, renew it" in w.sandbox_chat(CUSTOMER_DIGITS)


def staff_reply_refused_after_the_session(w: Walker) -> None:
    response = w.client.post(
        f"/admin/inbox/{w.conversation_id(CUSTOMER_DIGITS)}/reply",
        data={"text": "Anything else?", "send_key": "walk-2"},
    )
    assert response.status_code == 422 and "Session ended — waiting for renewal" in response.get_data(as_text=True)


def _the_return_id(w: Walker) -> int:
    with w.app.app_context():
        found = db.session.scalar(select(ReturnRequest.id).where(ReturnRequest.order_id == w.order().id))
        db.session.remove()
        return found


def _last_list_row(w: Walker, ending: str) -> str:
    with w.app.app_context():
        sent = db.session.scalars(
            select(Message).where(Message.direction == "out", Message.purpose == "return:reasons").order_by(Message.id)
        ).all()
        sections = sent[-1].payload["interactive"]["action"]["sections"]
        db.session.remove()
    return next(row["id"] for section in sections for row in section["rows"] if row["id"].endswith(ending))


def customer_asks_for_a_return(w: Walker) -> None:
    """ "problem": the reason list, "damaged", a photo, a few words: the request is with staff."""
    w.webhook(payloads.text("problem", wa_id=CUSTOMER_DIGITS))
    damaged = _last_list_row(w, ":damaged")
    list_reply = {"type": "list_reply", "list_reply": {"id": damaged, "title": "Damaged"}}
    w.webhook(payloads.inbound({"type": "interactive", "interactive": list_reply}, wa_id=CUSTOMER_DIGITS))
    picture = {"id": "MEDIA-WALK-RETURN", "mime_type": "image/jpeg", "sha256": "unknown"}
    w.webhook(payloads.inbound({"type": "image", "image": picture}, wa_id=CUSTOMER_DIGITS))
    w.webhook(payloads.text("The sleeve is torn", wa_id=CUSTOMER_DIGITS))
    assert "is with our team" in w.sandbox_chat(CUSTOMER_DIGITS)


def return_step(action: str, becomes: str, **form) -> Callable[[Walker], None]:
    """Staff take the return one step on from the order page; it becomes `becomes`."""

    def step(w: Walker) -> None:
        fields = {**form, "version": w.version()} if action == "refund" else form
        w.admin_post(f"returns/{_the_return_id(w)}/{action}", **fields)
        w.deliver()
        with w.app.app_context():
            assert db.session.get(ReturnRequest, _the_return_id(w)).status == becomes
            db.session.remove()

    return step


@dataclass(frozen=True)
class Step:
    name: str
    act: Callable[[Walker], None]
    kind: str | None  # the timeline kind the step writes (None: it writes none, e.g. a failed message)
    status: OrderStatus  # where the order stands after it


S = OrderStatus
WALKS: dict[str, tuple[str, str, list[Step]]] = {
    # name: (fulfilment, payment method, steps)
    "delivery": (
        "delivery",
        "transfer",
        [
            Step("placed", placed, "created", S.PENDING),
            Step("handshake", handshake, "whatsapp", S.PENDING),
            Step("mismatch", mismatch, "whatsapp", S.PENDING),
            Step("note", note, "note", S.PENDING),
            Step("assignment", assignment, "assigned", S.PENDING),
            Step("fulfilment edit", fulfilment_edit, "fulfilment", S.PENDING),
            Step("staff message", staff_message, "whatsapp", S.PENDING),
            Step("a stranger starts ordering in the chat", stranger_starts_ordering_in_the_chat, None, S.PENDING),
            Step("a stranger sends a catalog cart", stranger_sends_a_catalog_cart, None, S.PENDING),
            Step("a picture and a location", customer_sends_a_picture_and_a_location, None, S.PENDING),
            Step("the customer asks for a person", customer_asks_for_a_person, None, S.PENDING),
            Step("staff reply in the inbox", staff_reply_in_the_inbox, None, S.PENDING),
            Step("confirmed by the customer", customer_taps("confirm"), "status", S.CONFIRMED),
            Step("payment requested", payment_requested, "payment_request", S.CONFIRMED),
            Step("payment reminder", payment_reminded, "payment_reminder", S.CONFIRMED),
            Step("payment requested through Stripe", stripe_payment_requested, "payment_request", S.CONFIRMED),
            Step("partial payment", payment("part"), "payment", S.CONFIRMED),
            Step("half the balance paid through Stripe", stripe_pays_half, "attention", S.CONFIRMED),
            Step("preparing", staff_moves_to("preparing"), "status", S.PREPARING),
            Step("shipped", staff_moves_to("shipped", carrier="Delhivery", tracking_number="DL9"), "status", S.SHIPPED),
            Step("window and agent", window_and_agent, "fulfilment", S.SHIPPED),
            Step("failed message", failed_message, None, S.SHIPPED),
            Step("the courier: out for delivery", courier_reports("Dispatched", "UD"), "status", S.OUT_FOR_DELIVERY),
            Step("where is my order", customer_asks_where_the_order_is, None, S.OUT_FOR_DELIVERY),
            Step(
                "the courier: delivery failed",
                courier_reports("Pending", "UD", nsl="EOD-11"),
                "status",
                S.DELIVERY_FAILED,
            ),
            Step("the customer taps deliver again", customer_taps("dx-again"), "whatsapp", S.DELIVERY_FAILED),
            Step("the customer picks a day", customer_picks_a_day, "status", S.RESCHEDULED),
            Step(
                "the courier: out for delivery again",
                courier_reports("Dispatched", "UD", at="2026-12-05T09:00:00"),
                "status",
                S.OUT_FOR_DELIVERY,
            ),
            Step("full payment", payment("balance"), "payment", S.OUT_FOR_DELIVERY),
            Step("delivered", staff_moves_to("delivered"), "status", S.DELIVERED),
            Step("a late courier scan changes nothing", courier_reports("In Transit", "UD"), None, S.DELIVERED),
            Step("the follow-up after delivery", followed_up, "follow_up", S.DELIVERED),
            Step("rated from the follow-up's list", rated_from_the_follow_up, "rating", S.DELIVERED),
            Step("a comment with the rating", rating_comment, "rating", S.DELIVERED),
            Step("part of the card payment refunded through Stripe", stripe_refund, "refund", S.DELIVERED),
            Step("refund", refund, "refund", S.DELIVERED),
            Step("the customer asks for a return in the chat", customer_asks_for_a_return, "return", S.DELIVERED),
            Step(
                "staff approve the return",
                return_step("approve", "approved", instructions="Courier on Friday"),
                "return",
                S.DELIVERED,
            ),
            Step("the return is received back into stock", return_step("received", "received"), "return", S.DELIVERED),
            Step(
                "the return is refunded",
                return_step("refund", "refunded", amount="1", reason="Return"),
                "return",
                S.DELIVERED,
            ),
        ],
    ),
    "failed delivery, a new address, then returned": (
        "delivery",
        "transfer",
        [
            Step("placed", placed, "created", S.PENDING),
            Step("confirmed", staff_moves_to("confirmed"), "status", S.CONFIRMED),
            Step("partial payment", payment("part"), "payment", S.CONFIRMED),
            Step("preparing", staff_moves_to("preparing"), "status", S.PREPARING),
            Step("shipped", staff_moves_to("shipped", carrier="Delhivery", tracking_number="DL9"), "status", S.SHIPPED),
            Step(
                "staff: delivery failed",
                staff_moves_to("delivery_failed", note="Nobody home"),
                "status",
                S.DELIVERY_FAILED,
            ),
            Step("the customer taps change address", customer_taps("dx-address"), "whatsapp", S.DELIVERY_FAILED),
            Step("types one", customer_types_an_address("Far away, 99"), "whatsapp", S.DELIVERY_FAILED),
            Step("staff reject it", staff_decide_the_address("reject"), "fulfilment", S.DELIVERY_FAILED),
            Step("taps change address again", customer_taps("dx-address"), "whatsapp", S.DELIVERY_FAILED),
            Step("types another", customer_types_an_address("Flat 2, नेहरू नगर\n560001"), "whatsapp", S.DELIVERY_FAILED),
            Step("staff approve it", staff_decide_the_address("approve"), "status", S.RESCHEDULED),
            Step("failed again", staff_moves_to("delivery_failed", note="Closed"), "status", S.DELIVERY_FAILED),
            Step("the customer taps cancel and return", customer_taps("dx-return"), "status", S.RETURNING),
            Step("a delivered scan out of order", courier_reports("Delivered", "DL"), "courier", S.RETURNING),
            Step("the courier: back at the shop", courier_reports("RTO", "DL"), "status", S.RETURNED),
            Step("refund", refund, "refund", S.RETURNED),
        ],
    ),
    "pickup, cash collected": (
        "pickup",
        "cod",
        [
            Step("placed", placed, "created", S.PENDING),
            Step("confirmed", staff_moves_to("confirmed"), "status", S.CONFIRMED),
            Step("preparing", staff_moves_to("preparing"), "status", S.PREPARING),
            Step("ready for pickup", staff_moves_to("ready_for_pickup"), "status", S.READY_FOR_PICKUP),
            # The cash is recorded first, so the one "delivered" message already says the order is paid.
            Step("delivered, cash collected", staff_moves_to("delivered"), "status", S.DELIVERED),
        ],
    ),
    "cancelled by the customer": (
        "delivery",
        "transfer",
        [
            Step("placed", placed, "created", S.PENDING),
            Step("partial payment", payment("part"), "payment", S.PENDING),
            Step("cancelled by the customer", customer_taps("cancel"), "status", S.CANCELLED),
            Step("refund", refund, "refund", S.CANCELLED),
            Step("a Stripe payment after cancelling", stripe_pays_half, "attention", S.CANCELLED),
        ],
    ),
    "reminded with consent, then STOP": (
        "delivery",
        "cod",
        [
            Step("placed", placed, "created", S.PENDING),
            Step("consent given at checkout", consent_given, None, S.PENDING),
            Step("the one reminder", reminded, "whatsapp", S.PENDING),
            Step("another shopper's cart recovered", cart_recovered, None, S.PENDING),
            Step("the customer writes STOP", stop, None, S.PENDING),
            Step("cancelled for no answer", staff_moves_to("cancelled", note="No answer"), "status", S.CANCELLED),
        ],
    ),
    # The order holds a service (a consultation in the chat) beside the kurta: paying it opens a session.
    "a paid service session": (
        "pickup",
        "transfer",
        [
            Step("placed", placed, "created", S.PENDING),
            Step("handshake", handshake, "whatsapp", S.PENDING),
            Step("paid: the session waits for a person", payment("balance"), "session", S.PENDING),
            Step("the first staff reply starts it", staff_reply_in_the_inbox, "session", S.PENDING),
            Step("its time runs out: asked to renew", session_runs_out, "session", S.PENDING),
            Step("a staff reply is refused", staff_reply_refused_after_the_session, None, S.PENDING),
        ],
    ),
    "cancelled by staff": (
        "delivery",
        "cod",
        [
            Step("placed", placed, "created", S.PENDING),
            Step("confirmed", staff_moves_to("confirmed"), "status", S.CONFIRMED),
            Step("cancelled with a reason", staff_moves_to("cancelled", note="Out of stock"), "status", S.CANCELLED),
        ],
    ),
    "cancelled by staff after a payment, money refunded": (
        "delivery",
        "transfer",
        [
            Step("placed", placed, "created", S.PENDING),
            Step("confirmed", staff_moves_to("confirmed"), "status", S.CONFIRMED),
            Step("payment requested by template", payment_requested_by_template, "payment_request", S.CONFIRMED),
            Step("unpaid past the shop's limit", unpaid_past_the_limit, "attention", S.CONFIRMED),
            Step("partial payment", payment("part"), "payment", S.CONFIRMED),
            Step(
                "cancelled, paid money refunded now",
                staff_moves_to("cancelled", note="Out of stock", refund="refund"),
                "status",
                S.CANCELLED,
            ),
        ],
    ),
}


# --- what is opened after each step -----------------------------------------------------------------------


def pages_showing_the_order(w: Walker, status: str) -> dict[str, str]:
    """Every page and endpoint that shows this order, as (name → path)."""
    with w.app.test_request_context():
        pages = {
            "status page": url_for("storefront.order_status", token=w.token),
            "handoff page": url_for("storefront.handoff_page", token=w.token),
            "QR code": url_for("storefront.handoff_qr", token=w.token),
            "admin order detail": url_for("admin.order_detail", reference=w.reference),
            "order desk": url_for("admin.orders"),
            "order desk, this order's tab": url_for("admin.orders", status=status, q=w.reference),
            "conversation card": url_for("admin.order_conversation", reference=w.reference),
            "sandbox chat": url_for("sandbox.chat", digits=CUSTOMER_DIGITS),
            "sandbox chat of the stranger": url_for("sandbox.chat", digits=STRANGER_DIGITS),
            "public status API": url_for("api.order_status", token=w.token),
            "order API": url_for("api.get_order", reference=w.reference),
            "CSV export": url_for("admin.orders_export"),
            "discount code's usage list": url_for("admin.coupon_usage", coupon_id=w.coupon_id),
            "discount codes": url_for("admin.coupons"),
            "discount codes CSV": url_for("admin.coupons_export"),
            "inbox": url_for("admin.inbox_list"),
            "inbox, waiting for a person": url_for("admin.inbox_list", show="waiting"),
            "inbox, open orders": url_for("admin.inbox_list", show="open_order"),
            "inbox, searched": url_for("admin.inbox_list", q="Kurta"),
            "inbox badge": url_for("admin.inbox_unread_count"),
            "couriers' recent events": url_for("admin.settings_couriers"),
            "returns": url_for("admin.returns_list"),
            "returns, requested": url_for("admin.returns_list", status="requested"),
        }
        for digits in (CUSTOMER_DIGITS, STRANGER_DIGITS):
            conversation_id = w.conversation_id(digits)
            if conversation_id is not None:
                pages[f"inbox conversation {digits}"] = url_for(
                    "admin.inbox_conversation", conversation_id=conversation_id
                )
        for outbox_status in OUTBOX_STATUSES:
            pages[f"outbox, {outbox_status}"] = url_for("admin.outbox", status=outbox_status)
    return pages


def open_every_page(w: Walker, step: Step) -> None:
    headers = {"Authorization": f"Bearer {w.api_secret}"}
    for name, path in pages_showing_the_order(w, step.status.value).items():
        response = w.client.get(path, headers=headers)
        assert response.status_code < 500, f"after {step.name!r}: {name} ({path}) answered {response.status_code}"
        if path.startswith("/admin/"):  # the admin's HTMX swaps render other blocks of the same templates
            response = w.client.get(path, headers={**headers, "HX-Request": "true", "HX-Target": FRAGMENT_TARGET})
            assert response.status_code < 500, f"after {step.name!r}: {name} as a fragment answered 5xx"
    status_page = w.client.get(pages_showing_the_order(w, step.status.value)["status page"])
    assert status_page.status_code == 200, f"after {step.name!r}: the status page answered {status_page.status_code}"
    page = status_page.get_data(as_text=True)
    assert STAFF_NOTE not in page and ASSIGNEE not in page, f"after {step.name!r}: the status page shows staff data"
    assert "Discount (WALK10)" in page, f"after {step.name!r}: the status page lost the order's discount"
    public_api = w.client.get(pages_showing_the_order(w, step.status.value)["public status API"])
    assert public_api.status_code == 200 and STAFF_NOTE not in public_api.get_data(as_text=True)
    with w.app.app_context():
        document = order_document(w.order(), get_store_settings())  # the shop webhook's payload, built as it is sent
        json.dumps(document)
        on_the_way = w.order().status in (S.SHIPPED, S.OUT_FOR_DELIVERY) and w.order().delivery_agent_name == AGENT_NAME
        db.session.remove()
    if on_the_way:
        delivery_details_shown_everywhere(w, step, page, document)


def delivery_details_shown_everywhere(w: Walker, step: Step, status_page: str, document: dict) -> None:
    """While the parcel is on its way, every reader of the order has its window and agent."""
    pages = pages_showing_the_order(w, step.status.value)
    headers = {"Authorization": f"Bearer {w.api_secret}"}
    api = w.client.get(pages["order API"], headers=headers).get_json()["delivery"]
    public = w.client.get(pages["public status API"]).get_json()["delivery"]
    csv_export = w.client.get(pages["CSV export"]).get_data(as_text=True)
    admin = html.unescape(w.client.get(pages["admin order detail"]).get_data(as_text=True))
    where = f"after {step.name!r}"
    assert AGENT_NAME in status_page and WINDOW_SHOWN in status_page, f"{where}: the status page"
    for name, delivery in (("order API", api), ("public status", public), ("webhook", document["delivery"])):
        assert (delivery["agent_name"], delivery["agent_phone"]) == (AGENT_NAME, AGENT_PHONE), f"{where}: {name}"
        assert delivery["window_display"] == f"4 Dec 2026, {WINDOW_SHOWN}", f"{where}: {name}"
    assert AGENT_NAME in csv_export and "2026-12-04 14:00" in csv_export, f"{where}: the CSV export"
    assert f'value="{AGENT_NAME}"' in admin and f'value="{WINDOW[0]}"' in admin, f"{where}: the admin order page"
    if step.status is S.OUT_FOR_DELIVERY:
        chat = w.sandbox_chat(CUSTOMER_DIGITS)
        assert AGENT_NAME in chat and WINDOW_SHOWN in chat, f"{where}: the out-for-delivery message"


def check_the_step_happened(w: Walker, step: Step) -> None:
    with w.app.app_context():
        order = w.order()
        assert order.status == step.status, f"after {step.name!r} the order is {order.status}"
        if step.kind is not None:
            assert order.events[-1].kind == step.kind, f"{step.name!r} wrote {order.events[-1].kind!r}"
        out_of_step = stock.variants_out_of_step_with_ledger()
        assert out_of_step == {}, f"after {step.name!r} on hand ≠ ledger sum (id: (on hand, ledger)): {out_of_step}"
        db.session.remove()


# --- the walks --------------------------------------------------------------------------------------------


@pytest.fixture
def fake_stripe():
    fake = FakeStripe(webhook_secret=SECRET)
    yield fake
    fake.close()


@pytest.fixture
def app(make_app, fake_stripe):
    return make_app(
        WHATSAPP_PROVIDER="sandbox",
        WHATSAPP_APP_SECRET=SECRET,
        STRIPE_WEBHOOK_SECRET=SECRET,
        STRIPE_SECRET_KEY=STRIPE_SECRET_KEY,
        STRIPE_API_BASE=fake_stripe.url,
        STRIPE_TIMEOUT=2,
        STRIPE_MAX_NETWORK_RETRIES=0,
    )


WALKS_WITH_A_SERVICE = {"a paid service session"}


def start_walk(app, fulfilment: str, payment_method: str, stripe: FakeStripe, with_service: bool = False) -> Walker:
    with app.app_context():
        make_store(name="Test Shop", payment_methods=["cod", "transfer"])
        variant = make_product("Cotton Kurta", price_minor=79900, stock=5).variants[0]
        address = "" if fulfilment == "pickup" else "Beth House, Kasarani, House 16"
        details = customer(
            phone="+" + CUSTOMER_DIGITS, fulfilment=fulfilment, address=address, payment_method=payment_method
        )
        # Every walk's order used a discount code: each page that shows its money shows the discount too.
        coupon = make_coupon("WALK10", kind="percent", value=10)
        lines = [(variant, 1)] + ([(make_service(price_minor=10000).variants[0], 1)] if with_service else [])
        order = make_order(lines, details=details, coupon_code="walk10")
        assert order.discount_minor == (8990 if with_service else 7990)
        owner = make_staff("owner")
        assignee = make_staff("fulfilment", name=ASSIGNEE)
        _, api_secret = keys.create_key("Walk", "secret")
        db.session.commit()  # else the key is gone with the session, and the order API only ever answered 401
        walker = Walker(
            app, app.test_client(), order.reference, order.status_token, api_secret, assignee.id, coupon.id, stripe
        )
        owner_email = owner.email
        db.session.remove()
    sign_in(walker.client, owner_email)
    walker.deliver()
    return walker


@pytest.mark.parametrize("walk", list(WALKS))
def test_every_page_survives_every_step_of_the_walk(app, fake_stripe, walk):
    fulfilment, payment_method, steps = WALKS[walk]
    walker = start_walk(app, fulfilment, payment_method, fake_stripe, with_service=walk in WALKS_WITH_A_SERVICE)
    for step in steps:
        step.act(walker)
        check_the_step_happened(walker, step)
        open_every_page(walker, step)


def kinds_the_code_records() -> set[str]:
    """Every timeline kind written in checkout/: the literal kinds passed to record_event, plus payment kinds."""
    kinds = set()
    for path in CHECKOUT_DIR.rglob("*.py"):
        source = path.read_text()
        kinds |= set(re.findall(r"record_event\(\s*[\w.]+,\s*\"(\w+)\"", source))
        kinds |= set(re.findall(r"_add_payment\(\s*[\w.]+,\s*\"(\w+)\"", source))  # desk's record_event(kind)
        kinds |= set(re.findall(r"OrderEvent\([^)]*kind=\"(\w+)\"", source))
    return kinds


def test_every_event_kind_and_status_is_walked():
    walked_kinds = {step.kind for _, _, steps in WALKS.values() for step in steps if step.kind}
    walked_statuses = {step.status for _, _, steps in WALKS.values() for step in steps}
    recorded = kinds_the_code_records()
    assert {"created", "status", "note", "assigned", "fulfilment", "whatsapp", "payment", "refund"} <= recorded
    assert recorded <= walked_kinds, f"add a step to WALKS for: {sorted(recorded - walked_kinds)}"
    assert set(OrderStatus) <= walked_statuses, f"walk these statuses: {sorted(set(OrderStatus) - walked_statuses)}"
