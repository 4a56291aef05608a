"""Sending through Meta's Cloud API (a fake on a local port): what goes out, and how each answer is handled."""

from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from checkout import outbox
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Contact, Variant, get_store_settings
from checkout.notifications import cancel_expired_orders, send_due_reminders
from checkout.orders.desk import record_payment
from checkout.orders.lifecycle import OrderStatus
from checkout.whatsapp.limits import PayloadInvalid, check_payload
from checkout.whatsapp.messages import OutboundMessage
from checkout.whatsapp.recovery import send_cart_recoveries
from tests.admin_helpers import make_staff
from tests.factories import customer, give_consent, make_checkout_cart, make_order, make_product
from tests.fakes.graph_api import meta_rejections
from tests.messaging.conftest import (
    ACCESS_TOKEN,
    PHONE_NUMBER_ID,
    PUBLIC_BASE_URL,
    approved_templates,
    body_parameters,
    inbound_webhook,
    move_order_to,
    outbox_items,
    outgoing_messages,
    place,
    quick_reply_payloads,
    receive_webhook,
    status_webhook,
)

ASHA, ASHA_DIGITS = "+919876543210", "919876543210"
RAVI = "+919812345678"
SHOPPER = "+919811122233"
DAY = timedelta(hours=25)
STAFF = "+447700900123"


def _open_window(phone: str) -> None:
    """The customer wrote to us a minute ago: free-form messages may be sent for 24 hours."""
    db.session.add(Contact(phone=phone, wa_id=phone.lstrip("+"), last_inbound_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()


# ---------------------------------------------------------------------------------------------------------------
# What goes out
# ---------------------------------------------------------------------------------------------------------------


def test_placing_an_order_sends_the_confirmation_template_with_decision_payloads(graph_api, variant_id):
    order = place(variant_id, name="Asha Kumar", phone=ASHA)
    [item] = outbox_items()
    assert (item.kind, item.status, item.idempotency_key) == ("whatsapp", "pending", f"confirm-request:{order.id}")
    assert graph_api.messages == []  # written to the outbox only; nothing is sent inside the order's transaction

    assert outbox.run_due() == {"sent": 1}

    [received] = graph_api.messages
    assert received.to == ASHA_DIGITS
    assert received.body["messaging_product"] == "whatsapp"
    assert received.tracking == f"confirm-request:{order.id}"
    template = received.body["template"]
    assert (template["name"], template["language"]) == ("order_confirmation", {"code": "en"})
    assert body_parameters(received) == ["Asha Kumar", order.reference, "Test Shop", "₹949.00"]
    assert quick_reply_payloads(received) == [f"confirm:{order.reference}", f"cancel:{order.reference}"]
    [message] = outgoing_messages()
    assert (message.status, message.wamid, message.purpose) == ("sent", received.wamid, "order_confirmation")
    assert message.sent_at is not None
    [item] = outbox_items()
    assert (item.status, item.attempts, item.in_doubt) == ("done", 1, False)


def test_each_status_change_sends_its_update_in_order(graph_api, variant_id):
    order = place(variant_id, phone=ASHA)
    outbox.run_due()
    move_order_to(order, OrderStatus.CONFIRMED)
    move_order_to(order, OrderStatus.PREPARING)
    order.carrier, order.tracking_number = "Blue Dart", "BD123456789IN"
    move_order_to(order, OrderStatus.SHIPPED)
    move_order_to(order, OrderStatus.OUT_FOR_DELIVERY)
    move_order_to(order, OrderStatus.DELIVERED)

    assert outbox.run_due() == {"sent": 5}

    updates = graph_api.messages_to(ASHA_DIGITS)[1:]
    assert [m.body["template"]["name"] for m in updates] == ["order_update"] * 5
    summaries = [body_parameters(m)[2] for m in updates]
    assert summaries == [
        "Confirmed",
        "Being prepared",
        "Shipped with Blue Dart, tracking number BD123456789IN",
        "Out for delivery",
        "Delivered; ₹949.00 still to pay; something wrong? reply “problem”",  # no payment recorded; returns open
    ]
    assert all(body_parameters(m)[:2] == [order.reference, "Test Shop"] for m in updates)
    assert all(body_parameters(m)[3].startswith(PUBLIC_BASE_URL) for m in updates)
    sent = outgoing_messages()
    assert [m.purpose for m in sent] == [
        "order_confirmation",
        "status:confirmed",
        "status:preparing",
        "status:shipped",
        "status:out_for_delivery",
        "status:delivered",
    ]
    assert [m.wamid for m in sent[1:]] == [m.wamid for m in updates]
    assert {m.status for m in sent} == {"sent"}


def test_a_cancellation_tells_the_customer_the_reason(graph_api, variant_id):
    order = place(variant_id, phone=ASHA, fulfilment="pickup", address="")
    move_order_to(order, OrderStatus.CANCELLED, note="Out of stock in your size")

    assert outbox.run_due() == {"sent": 2}

    cancelled = graph_api.messages_to(ASHA_DIGITS)[-1]
    assert body_parameters(cancelled)[2] == "Cancelled (Out of stock in your size)"


def test_inside_the_customer_window_messages_are_free_form(graph_api, variant_id):
    _open_window(ASHA)
    order = place(variant_id, phone=ASHA)
    move_order_to(order, OrderStatus.CONFIRMED)

    assert outbox.run_due() == {"sent": 2}

    confirmation, confirmed = graph_api.messages_to(ASHA_DIGITS)
    assert confirmation.type == "interactive"
    buttons = confirmation.body["interactive"]["action"]["buttons"]
    assert [b["reply"]["id"] for b in buttons] == [f"confirm:{order.reference}", f"cancel:{order.reference}"]
    assert confirmed.type == "text"
    assert order.reference in confirmed.body["text"]["body"]


# ---------------------------------------------------------------------------------------------------------------
# How Meta's answers are handled
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "code", "in_doubt"),
    [
        ("server_error", 131000, False),
        ("throttled", 130429, False),
        ("pair_rate_limit", 131056, False),
        ("timeout", None, True),
    ],
)
def test_a_passing_failure_is_retried_later_and_then_goes_out_once(graph_api, variant_id, failure, code, in_doubt):
    place(variant_id, phone=ASHA)
    graph_api.fail_next(failure)
    before = utcnow()

    assert outbox.run_due() == {"retry": 1}

    [item] = outbox_items()
    assert (item.status, item.attempts, item.in_doubt) == ("pending", 1, in_doubt)
    assert item.next_attempt_at >= before + timedelta(seconds=outbox.BACKOFF_BASE_SECONDS * 0.8)
    assert item.claimed_until is None
    assert item.last_error
    [message] = outgoing_messages()
    assert (message.status, message.error_code) == ("queued", code)
    assert outbox.run_due() == {}  # not due yet
    assert graph_api.messages == []

    item.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.add(item)
    db.session.commit()
    assert outbox.run_due() == {"sent": 1}

    [received] = graph_api.messages
    [item] = outbox_items()
    assert (item.status, item.attempts) == ("done", 2)
    [message] = outgoing_messages()
    assert (message.status, message.wamid) == ("sent", received.wamid)


@pytest.mark.parametrize(("failure", "code"), [("undeliverable", 131026), ("template_missing", 132001)])
def test_a_permanent_failure_gives_up_at_once_and_flags_the_order(graph_api, variant_id, failure, code):
    order = place(variant_id, phone=ASHA)
    graph_api.fail_next(failure)

    assert outbox.run_due() == {"failed": 1}

    [item] = outbox_items()
    assert (item.status, item.attempts) == ("failed", 1)
    [message] = outgoing_messages()
    assert (message.status, message.error_code) == ("failed", code)
    db.session.refresh(order)
    assert "order confirmation message failed" in order.attention
    assert str(code) in order.attention
    assert graph_api.messages == []
    assert len(graph_api.requests) == 1


def test_a_free_form_message_outside_the_window_falls_back_to_the_template(graph_api, variant_id):
    _open_window(ASHA)  # we believe the window is open; Meta says it closed
    order = place(variant_id, phone=ASHA)
    graph_api.fail_next("outside_window", when=lambda body: body["type"] == "interactive")

    assert outbox.run_due() == {"failed": 1, "sent": 1}

    [fallback] = graph_api.messages
    assert fallback.body["template"]["name"] == "order_confirmation"
    assert quick_reply_payloads(fallback) == [f"confirm:{order.reference}", f"cancel:{order.reference}"]
    first, second = outgoing_messages()
    assert (first.kind, first.status, first.error_code) == ("interactive", "failed", 131047)
    assert (second.kind, second.status, second.wamid) == ("template", "sent", fallback.wamid)
    assert [i.idempotency_key for i in outbox_items()] == [
        f"confirm-request:{order.id}",
        f"template-fallback:{first.id}",
    ]
    db.session.refresh(order)
    assert order.attention == ""


def test_a_payload_over_meta_limits_fails_locally_and_never_reaches_meta(graph_api, variant_id):
    order = place(variant_id, phone=ASHA)
    outbox.run_due()
    too_long = OutboundMessage(
        "order_confirmation",
        {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Confirm?"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "confirm:X", "title": "C" * 21}}]},
            },
        },
        "Confirm?",
    )
    outbox.enqueue_whatsapp(too_long, phone=ASHA, key="hand-built", order=order)
    db.session.commit()
    requests_before = len(graph_api.requests)

    assert outbox.run_due() == {"failed": 1}

    assert len(graph_api.requests) == requests_before
    item = outbox_items()[-1]
    assert (item.status, item.attempts) == ("failed", 1)
    assert "button 1 title is 21 characters" in item.last_error
    message = outgoing_messages()[-1]
    assert (message.status, message.error_code) == ("failed", None)
    db.session.refresh(order)
    assert "failed" in order.attention


def test_while_meta_cannot_be_reached_nothing_is_in_doubt(graph_api, variant_id):
    place(variant_id, phone=ASHA)
    graph_api.down()

    assert outbox.run_due() == {"retry": 1}

    [item] = outbox_items()
    assert (item.status, item.in_doubt) == ("pending", False)
    assert "Could not reach WhatsApp" in item.last_error


def test_a_connection_dropped_after_the_request_went_out_is_in_doubt(graph_api, variant_id):
    place(variant_id, phone=ASHA)
    graph_api.fail_next("disconnect", accepted=True)  # Meta took it; the answer was lost on the way back

    assert outbox.run_due() == {"retry": 1}

    [item] = outbox_items()
    assert item.in_doubt


def test_a_closed_window_reported_later_by_a_status_webhook_falls_back_to_the_template(cloud, graph_api, variant_id):
    _open_window(ASHA)
    order = place(variant_id, phone=ASHA)
    assert outbox.run_due() == {"sent": 1}
    [interactive] = graph_api.messages

    receive_webhook(cloud, status_webhook(interactive, "failed", error_code=131047))
    assert outbox.run_due() == {"sent": 1}

    fallback = graph_api.messages[-1]
    assert fallback.body["template"]["name"] == "order_confirmation"
    assert quick_reply_payloads(fallback) == [f"confirm:{order.reference}", f"cancel:{order.reference}"]
    first, second = outgoing_messages()
    assert (first.status, first.error_code, second.status) == ("failed", 131047, "sent")


def test_every_kind_of_message_the_shop_sends_is_one_meta_accepts(cloud, graph_api, variant_id):
    """The fake checks Meta's limits and the approved templates; the guard in conftest fails on any refusal."""
    settings = get_store_settings()
    settings.name = "Sunrise Handloom & Textiles — Kasarani Branch, Nairobi"
    settings.staff_alert_numbers = [STAFF]
    db.session.commit()
    many_lines = [
        (db.session.get(Variant, make_product(f"Hand-woven cotton saree no. {n}").variants[0].id), 2) for n in range(7)
    ]
    long_name = "Nomvula Wanjiru-Kamau Ó Súilleabháin 🌻 " + "x" * 38
    order = make_order(many_lines, details=customer(name=long_name, phone=ASHA))
    expiring = place(variant_id, name="Ravi Shah", phone=RAVI)

    give_consent(ASHA, order=order)
    order.created_at = utcnow() - timedelta(hours=7)  # not sent from WhatsApp: the one reminder goes out
    db.session.commit()
    assert send_due_reminders() == 1
    give_consent(SHOPPER)
    make_checkout_cart([(db.session.get(Variant, variant_id), 1)], phone=SHOPPER, name=long_name, started_ago=DAY)
    assert send_cart_recoveries() == 1
    for reservation in expiring.reservations:
        reservation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert cancel_expired_orders() == 1
    record_payment(
        order, method="upi", amount_minor=5000, reference="UPI-123", staff=make_staff("owner"), expected_version=None
    )
    db.session.commit()
    assert "failed" not in outbox.run_due()

    receive_webhook(cloud, inbound_webhook(ASHA_DIGITS, {"type": "text", "text": {"body": "Where is my order?"}}))
    receive_webhook(cloud, inbound_webhook(SHOPPER.lstrip("+"), {"type": "text", "text": {"body": "STOP"}}))
    tap = {"type": "button", "button": {"payload": f"confirm:{order.reference}", "text": "Confirm order"}}
    receive_webhook(cloud, inbound_webhook(ASHA_DIGITS, tap))
    db.session.refresh(order)
    assert order.status == "confirmed"
    move_order_to(order, OrderStatus.PREPARING)
    assert "failed" not in outbox.run_due()

    purposes = {m.purpose for m in outgoing_messages()}
    assert {
        "order_confirmation",
        "staff_alert",
        "order_confirmation_reminder",
        "cart_recovery",
        "reply:opt_out",
        "status:payment_received",
        "status:cancelled",
        "reply:status",
        "status:confirmed",
        "status:preparing",
    } <= purposes
    assert {m.status for m in outgoing_messages()} == {"sent"}
    assert {m.type for m in graph_api.messages} == {"template", "text"}
    assert graph_api.violations == []


# ---------------------------------------------------------------------------------------------------------------
# The fake itself: it must refuse what Meta refuses, or the tests above prove nothing
# ---------------------------------------------------------------------------------------------------------------


def _buttons(*buttons, body="Pick one", **extra):
    interactive = {"type": "button", "body": {"text": body}, "action": {"buttons": list(buttons)}, **extra}
    return {"type": "interactive", "interactive": interactive}


def _button(title="Yes", reply_id="yes"):
    return {"type": "reply", "reply": {"id": reply_id, "title": title}}


def _rows(count, title="Row", description=None, row_id=None, prefix="row"):
    rows = []
    for number in range(count):
        row = {"id": row_id or f"{prefix}-{number}", "title": title}
        if description is not None:
            row["description"] = description
        rows.append(row)
    return rows


def _list(*sections, button="Choose"):
    interactive = {
        "type": "list",
        "body": {"text": "Our menu"},
        "action": {"button": button, "sections": list(sections)},
    }
    return {"type": "interactive", "interactive": interactive}


def _template(*parameters, name="order_update"):
    components = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}]
    return {"type": "template", "template": {"name": name, "language": {"code": "en"}, "components": components}}


LIMIT_CASES = {
    "text at 4096": ({"type": "text", "text": {"body": "x" * 4096}}, True),
    "text at 4097": ({"type": "text", "text": {"body": "x" * 4097}}, False),
    "empty text": ({"type": "text", "text": {"body": ""}}, False),
    "interactive body at 1024": (_buttons(_button(), body="x" * 1024), True),
    "interactive body at 1025": (_buttons(_button(), body="x" * 1025), False),
    "three buttons": (_buttons(_button("A", "a"), _button("B", "b"), _button("C", "c")), True),
    "four buttons": (_buttons(*[_button(t, t) for t in "ABCD"]), False),
    "no buttons": (_buttons(), False),
    "button title at 20": (_buttons(_button("t" * 20)), True),
    "button title at 21": (_buttons(_button("t" * 21)), False),
    "button id at 256": (_buttons(_button(reply_id="i" * 256)), True),
    "button id at 257": (_buttons(_button(reply_id="i" * 257)), False),
    "duplicate button ids": (_buttons(_button("A", "same"), _button("B", "same")), False),
    "header at 60": (_buttons(_button(), header={"type": "text", "text": "h" * 60}), True),
    "header at 61": (_buttons(_button(), header={"type": "text", "text": "h" * 61}), False),
    "footer at 61": (_buttons(_button(), footer={"text": "f" * 61}), False),
    "ten rows in two sections": (
        _list({"title": "A", "rows": _rows(5)}, {"title": "B", "rows": _rows(5, prefix="other")}),
        True,
    ),
    "eleven rows": (_list({"title": "A", "rows": _rows(6)}, {"title": "B", "rows": _rows(5, prefix="other")}), False),
    "row title at 24": (_list({"rows": _rows(1, title="r" * 24)}), True),
    "row title at 25": (_list({"rows": _rows(1, title="r" * 25)}), False),
    "row description at 72": (_list({"rows": _rows(1, description="d" * 72)}), True),
    "row description at 73": (_list({"rows": _rows(1, description="d" * 73)}), False),
    "row id at 200": (_list({"rows": _rows(1, row_id="i" * 200)}), True),
    "row id at 201": (_list({"rows": _rows(1, row_id="i" * 201)}), False),
    "list button at 21": (_list({"rows": _rows(1)}, button="b" * 21), False),
    "section title at 24": (_list({"title": "s" * 24, "rows": _rows(1)}, {"title": "B", "rows": _rows(1)}), True),
    "section title at 25": (_list({"title": "s" * 25, "rows": _rows(1)}, {"title": "B", "rows": _rows(1)}), False),
    "template parameters plain": (_template("ABCD-2345", "Shop", "Shipped", "https://x.example/o/1"), True),
    "template parameter with four spaces": (_template("ABCD-2345", "Shop    Name", "Shipped", "u"), True),
    "template parameter with five spaces": (_template("ABCD-2345", "Shop     Name", "Shipped", "u"), False),
    "template parameter with a newline": (_template("ABCD-2345", "Shop", "Shipped\nsoon", "u"), False),
    "template parameter with a tab": (_template("ABCD-2345", "Shop", "Shipped\tsoon", "u"), False),
    **{
        f"template parameter with {name}": (_template("ABCD-2345", f"Asha{char}Kumar", "Shipped", "u"), False)
        for name, char in {
            "a carriage return": "\r",
            "a vertical tab": "\v",
            "a form feed": "\f",
            "a line separator": "\u2028",
            "a paragraph separator": "\u2029",
            "a right-to-left override": "\u202e",
            "a left-to-right isolate": "\u2066",
            "a right-to-left mark": "\u200f",
            "an Arabic letter mark": "\u061c",
        }.items()
    },
    "template body at 1024 with its parameters": (_template("A", "S", "w" * (1024 - 56), "u"), True),
    "template body at 1025 with its parameters": (_template("A", "S", "w" * (1025 - 56), "u"), False),
}


@pytest.mark.parametrize("case", LIMIT_CASES)
def test_the_fake_and_our_own_limit_checks_agree(case):
    payload, sendable = LIMIT_CASES[case]
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": ASHA_DIGITS, **payload}
    fake_accepts = meta_rejections(body, {t.name: t for t in approved_templates()}) == []
    try:
        check_payload(payload)
        we_accept = True
    except PayloadInvalid:
        we_accept = False
    assert (fake_accepts, we_accept) == (sendable, sendable)


def _post(graph_api, body, token=ACCESS_TOKEN, phone_number_id=PHONE_NUMBER_ID):
    return requests.post(
        f"{graph_api.url}/v26.0/{phone_number_id}/messages",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )


@pytest.mark.parametrize(
    ("body", "token", "status", "code"),
    [
        ({"to": "+919876543210", "type": "text", "text": {"body": "hi"}}, ACCESS_TOKEN, 400, 100),
        ({"to": "00919876543210", "type": "text", "text": {"body": "hi"}}, ACCESS_TOKEN, 400, 100),
        ({"to": ASHA_DIGITS, **_buttons(_button("t" * 21))}, ACCESS_TOKEN, 400, 131009),
        ({"to": ASHA_DIGITS, **_template("only one")}, ACCESS_TOKEN, 400, 132000),
        ({"to": ASHA_DIGITS, **_template("a", "b", "c", "d", name="not_approved")}, ACCESS_TOKEN, 400, 132001),
        ({"to": ASHA_DIGITS, "type": "text", "text": {"body": "hi"}}, "wrong-token", 401, 190),
    ],
    ids=["plus sign", "00 prefix", "long button title", "parameter count", "unknown template", "wrong token"],
)
def test_the_fake_refuses_what_meta_refuses_in_meta_error_shape(graph_api, body, token, status, code):
    graph_api.violations_expected = True

    response = _post(graph_api, {"messaging_product": "whatsapp", **body}, token=token)

    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert {"message", "type", "fbtrace_id"} <= set(error)
    assert error["error_data"]["details"]
    assert len(graph_api.violations) == 1
    assert graph_api.messages == []


def test_the_fake_accepts_a_good_message_and_answers_like_meta(graph_api):
    response = _post(graph_api, {"messaging_product": "whatsapp", "to": ASHA_DIGITS, "text": {"body": "hi"}})

    assert response.status_code == 200
    data = response.json()
    assert data["contacts"] == [{"input": ASHA_DIGITS, "wa_id": ASHA_DIGITS}]
    assert data["messages"][0]["id"] == graph_api.messages[0].wamid
    assert graph_api.messages[0].wamid.startswith("wamid.")


def test_the_fake_refuses_connections_while_down_and_serves_again_when_up(graph_api):
    graph_api.down()
    with pytest.raises(requests.ConnectionError):
        _post(graph_api, {"messaging_product": "whatsapp", "to": ASHA_DIGITS, "text": {"body": "hi"}})
    graph_api.up()
    response = _post(graph_api, {"messaging_product": "whatsapp", "to": ASHA_DIGITS, "text": {"body": "hi"}})
    assert response.status_code == 200


# ---------------------------------------------------------------------------------------------------------------
# Names and words that used to break templates (issue 11, items 18 and 19)
# ---------------------------------------------------------------------------------------------------------------


def test_a_name_with_odd_line_breaks_and_bidi_controls_reaches_meta_as_one_clean_line(graph_api, variant_id):
    name = "\u202eAsha\r\nKumar\u2028 of\u2029the\vhill\fside" + " " * 7 + "shop\u2066\u200f\u061c"

    order = place(variant_id, name=name, phone=ASHA)
    assert outbox.run_due() == {"sent": 1}

    assert order.customer_name.startswith("Asha") and "\u202e" not in order.customer_name
    [received] = graph_api.messages
    first = body_parameters(received)[0]
    assert first == "Asha · Kumar · of · the · hill · side    shop"
    assert graph_api.violations == []


def test_a_long_cancel_reason_is_shortened_to_fit_the_template_instead_of_failing(graph_api, variant_id):
    order = place(variant_id, phone=ASHA)
    outbox.run_due()

    move_order_to(order, OrderStatus.CANCELLED, note="The courier could not reach you. " * 40)
    assert outbox.run_due() == {"sent": 1}

    update = graph_api.messages[-1]
    rendered = next(t.body for t in approved_templates() if t.name == "order_update")
    values = body_parameters(update)
    assert values[2].endswith("…")
    hydrated = rendered.replace("{{1}}", values[0]).replace("{{2}}", values[1])
    assert len(hydrated.replace("{{3}}", values[2]).replace("{{4}}", values[3])) <= 1024


def test_a_whatsapp_profile_name_is_kept_without_bidi_controls(cloud, graph_api, variant_id):
    name = "\u202eAsha\u2066 Kumar\u200f\u061c"

    receive_webhook(cloud, inbound_webhook(ASHA_DIGITS, {"type": "text", "text": {"body": "Hello"}}, name=name))

    contact = db.session.scalar(select(Contact).where(Contact.phone == ASHA))
    assert contact.name == "Asha Kumar"
