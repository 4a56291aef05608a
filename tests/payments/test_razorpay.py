"""Razorpay Payment Links end to end against a local fake of Razorpay: request → the customer pays → signed webhook →
paid → one receipt; and refunds through the same API.

The fake (tests/fakes/razorpay_api.py) is real HTTP on 127.0.0.1, checks Basic auth and signs its events as Razorpay
documents; the webhook goes through the Flask app as Razorpay's POST would, and the database is real.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select

from checkout import outbox
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Contact, Message, Order, PaymentEvent, PaymentRequest
from checkout.orders.desk import change_status
from checkout.payments import requests
from checkout.payments.providers import ProviderUnavailable, provider_named
from checkout.payments.razorpay_links import RazorpayProvider
from tests.admin_helpers import make_staff, sign_in
from tests.factories import customer, make_order, make_product, make_store
from tests.fakes.razorpay_api import KEY_ID, KEY_SECRET, WEBHOOK_SECRET, FakeRazorpay

ASHA = "+919876543210"
TOTAL = 584_400  # ₹5,794 + ₹50 delivery, in paise
WEBHOOK = "/webhooks/payments/razorpay"


@pytest.fixture
def fake_razorpay():
    fake = FakeRazorpay(timeout_seconds=4)
    yield fake
    fake.close()


@pytest.fixture
def app(make_app, fake_razorpay):
    app = make_app(
        RAZORPAY_KEY_ID=KEY_ID,
        RAZORPAY_KEY_SECRET=KEY_SECRET,
        RAZORPAY_WEBHOOK_SECRET=WEBHOOK_SECRET,
        RAZORPAY_API_BASE=fake_razorpay.url,
        RAZORPAY_TIMEOUT=1.5,  # room for a loaded CI machine; the fakes hold a "timeout" longer
        PUBLIC_BASE_URL="https://shop.example",
    )
    client = app.test_client()
    fake_razorpay.webhook = lambda raw, headers: client.post(WEBHOOK, data=raw, headers=headers).status_code
    return app


@pytest.fixture
def order_id(app):
    """Asha's ₹5,844 order in a shop that asks through Razorpay; she wrote to the shop a minute ago (the window)."""
    with app.app_context():
        make_store(delivery_fee_minor=5000, payment_provider="razorpay")
        db.session.add(Contact(phone=ASHA, wa_id=ASHA[1:], last_inbound_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
        variant = make_product("Silk Saree", price_minor=579_400, stock=5).variants[0]
        order = make_order([(variant, 1)], details=customer(phone=ASHA, payment_method="transfer"))
        assert order.total_minor == TOTAL
        outbox.run_due()
        return order.id


def ask_to_pay(app, order_id) -> PaymentRequest:
    """Staff press "Request payment": the shop's provider (Razorpay) is asked for a link."""
    with app.app_context():
        request = db.session.get(PaymentRequest, requests.request_payment(db.session.get(Order, order_id)).id)
        db.session.expunge(request)
        return request


def load(app, order_id) -> Order:
    with app.app_context():
        order = db.session.get(Order, order_id)
        order.payments, order.events  # noqa: B018 (loaded before the session closes)
        db.session.expunge_all()
        return order


def messages(app, purpose: str) -> list[Message]:
    with app.app_context():
        outbox.run_due()
        query = select(Message).where(Message.phone == ASHA, Message.purpose == purpose).order_by(Message.id)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def stored_events(app) -> list[PaymentEvent]:
    with app.app_context():
        rows = list(db.session.scalars(select(PaymentEvent).order_by(PaymentEvent.id)))
        db.session.expunge_all()
        return rows


def provider(app) -> RazorpayProvider:
    with app.app_context():
        return provider_named("razorpay")


def test_a_customer_who_pays_the_link_has_the_order_paid_and_gets_one_receipt(app, fake_razorpay, order_id):
    request = ask_to_pay(app, order_id)
    order = load(app, order_id)
    link = fake_razorpay.links[request.provider_reference]
    assert request.status == "requested" and request.url == link["short_url"] and request.url.startswith("https://")
    assert (link["amount"], link["currency"], link["accept_partial"]) == (TOTAL, "INR", False)
    assert link["reference_id"] == f"{order.reference.replace('-', '')}P1"  # the request's, not the order's
    assert link["notes"] == {"order_reference": order.reference}
    assert link["notify"] == {"sms": False, "email": False} and link["reminder_enable"] is False
    assert link["callback_url"] == f"https://shop.example/o/{order.status_token}" and link["callback_method"] == "get"
    assert link["customer"] == {}  # Razorpay no longer fills it in on its page, and it sends nothing itself
    assert link["description"] == f"Order {order.reference}"
    [asked] = messages(app, "payment_request")
    assert link["short_url"] in asked.body_text

    event = fake_razorpay.pay(link["id"])
    assert fake_razorpay.deliver(event) == 200

    order = load(app, order_id)
    assert order.payment_status == "paid" and order.amount_paid_minor == TOTAL and order.attention == ""
    [payment] = order.payments
    assert (payment.method, payment.amount_minor, payment.recorded_by_id) == ("razorpay", TOTAL, None)
    assert payment.reference == fake_razorpay.links[link["id"]]["payments"][0]["payment_id"]
    assert [(e.event_id, e.outcome, e.order_id) for e in stored_events(app)] == [(event.event_id, "paid", order_id)]
    with app.app_context():
        assert db.session.get(PaymentRequest, request.id).status == "paid"
    [receipt] = messages(app, "receipt")
    document = receipt.payload["document"]
    assert document["filename"] == f"Receipt-{order.reference}-1.pdf" and document["id"]  # the PDF, uploaded
    assert receipt.status != "failed"
    assert "₹5,844.00" in document["caption"]
    assert messages(app, "status:payment_received") == []  # the receipt is the one message

    assert fake_razorpay.deliver(event) == 200  # Razorpay sends it again
    assert len(messages(app, "receipt")) == 1 and len(load(app, order_id).payments) == 1


def test_a_replayed_webhook_is_acknowledged_and_changes_nothing(app, fake_razorpay, order_id):
    request = ask_to_pay(app, order_id)
    event = fake_razorpay.pay(request.provider_reference)
    assert [fake_razorpay.deliver(event) for _ in range(3)] == [200, 200, 200]
    assert len(load(app, order_id).payments) == 1
    assert len(stored_events(app)) == 1
    assert len(messages(app, "receipt")) == 1


def test_the_same_signed_body_under_another_event_id_records_nothing_more(app, fake_razorpay, order_id):
    """The event id header is not signed: a copied body sent under a new id is stored, and found to be a payment
    already recorded."""
    request = ask_to_pay(app, order_id)
    event = fake_razorpay.pay(request.provider_reference)
    fake_razorpay.deliver(event)
    headers = {**event.headers, "x-razorpay-event-id": "ForgedEventId1"}
    assert app.test_client().post(WEBHOOK, data=event.raw_body, headers=headers).status_code == 200
    assert [e.outcome for e in stored_events(app)] == ["paid", "duplicate"]
    assert load(app, order_id).amount_paid_minor == TOTAL
    assert len(messages(app, "receipt")) == 1


def _tamper(event):
    return event.raw_body.replace(b'"amount": 584400', b'"amount": 999900', 1), event.headers


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda event: (event.raw_body, {"x-razorpay-event-id": event.event_id}), id="no signature"),
        pytest.param(_tamper, id="body changed"),
        pytest.param(lambda e: (e.raw_body, {**e.headers, "X-Razorpay-Signature": "0" * 64}), id="zeros"),
        pytest.param(lambda e: (e.raw_body, {**e.headers, "X-Razorpay-Signature": "é" * 64}), id="not ascii"),
        pytest.param(lambda e: (b"\xff" + e.raw_body, e.headers), id="not utf-8"),
    ],
)
def test_an_unsigned_or_altered_event_is_refused_and_nothing_is_stored(app, fake_razorpay, order_id, forge):
    request = ask_to_pay(app, order_id)
    raw, headers = forge(fake_razorpay.pay(request.provider_reference))
    assert raw != b"" and headers is not None
    response = app.test_client().post(WEBHOOK, data=raw, headers=headers)
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_signature"
    assert stored_events(app) == [] and load(app, order_id).payment_status == "unpaid"


def test_an_event_signed_with_another_secret_is_refused_and_nothing_is_stored(app, fake_razorpay, order_id):
    request = ask_to_pay(app, order_id)
    assert fake_razorpay.deliver(fake_razorpay.pay(request.provider_reference, secret="someone_elses_secret")) == 400
    assert stored_events(app) == [] and load(app, order_id).amount_paid_minor == 0


@pytest.mark.parametrize("event_id", [None, "", "x" * 256])
def test_an_event_without_a_usable_id_is_refused(app, fake_razorpay, order_id, event_id):
    request = ask_to_pay(app, order_id)
    event = fake_razorpay.pay(request.provider_reference)
    headers = {k: v for k, v in event.headers.items() if k != "x-razorpay-event-id"}
    if event_id is not None:
        headers["x-razorpay-event-id"] = event_id
    response = app.test_client().post(WEBHOOK, data=event.raw_body, headers=headers)
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_payload"
    assert stored_events(app) == []


def test_other_link_events_are_stored_and_ignored(app, fake_razorpay, order_id):
    request = ask_to_pay(app, order_id)
    link = dict(fake_razorpay.links[request.provider_reference], status="expired")
    assert fake_razorpay.deliver(fake_razorpay.event("payment_link.expired", {"payment_link": link})) == 200
    assert [(e.outcome, e.order_id) for e in stored_events(app)] == [("ignored", None)]
    assert load(app, order_id).payment_status == "unpaid"


@pytest.mark.parametrize(
    ("paid", "status", "outcome", "flag"),
    [
        (100_000, "partially_paid", "short", "Razorpay: paid ₹1,000.00, owed ₹5,844.00: ₹4,844.00 still to pay"),
        (600_000, "paid", "over", "Razorpay: paid ₹6,000.00, owed ₹5,844.00: ₹156.00 to refund"),
    ],
)
def test_a_short_or_over_payment_is_recorded_and_flagged_for_staff(
    app, fake_razorpay, order_id, paid, status, outcome, flag
):
    request = ask_to_pay(app, order_id)
    assert fake_razorpay.deliver(fake_razorpay.pay(request.provider_reference, amount_minor=paid)) == 200
    order = load(app, order_id)
    assert order.amount_paid_minor == paid and order.payment_status == status
    assert order.attention == flag
    assert order.events[-1].kind == "attention" and order.events[-1].note == flag
    assert [e.outcome for e in stored_events(app)] == [outcome]
    assert len(messages(app, "receipt")) == 1


def test_a_payment_after_the_order_was_cancelled_is_flagged_for_staff_and_not_accepted(app, fake_razorpay, order_id):
    request = ask_to_pay(app, order_id)
    with app.app_context():
        owner = make_staff("owner")
        order = db.session.get(Order, order_id)
        change_status(order, "cancelled", staff=owner, expected_version=None, note="Customer changed their mind")
    assert fake_razorpay.deliver(fake_razorpay.pay(request.provider_reference)) == 200
    order = load(app, order_id)
    assert order.status == "cancelled" and order.payments == [] and order.amount_paid_minor == 0
    assert order.attention == "Razorpay payment of ₹5,844.00 arrived after the order was cancelled: refund it or reopen"
    assert [e.outcome for e in stored_events(app)] == ["cancelled_order"]
    assert messages(app, "receipt") == [] and messages(app, "status:payment_received") == []


def test_a_payment_in_another_currency_is_flagged_and_not_recorded(app, fake_razorpay, order_id):
    request = ask_to_pay(app, order_id)
    assert fake_razorpay.deliver(fake_razorpay.pay(request.provider_reference, currency="USD")) == 200
    order = load(app, order_id)
    assert order.payments == [] and "not in the order's currency (INR)" in order.attention
    assert [e.outcome for e in stored_events(app)] == ["wrong_currency"]


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        ("server_error", "Razorpay failed the request for ₹5,844.00 (server error: The server encountered an error.)"),
        ("bad_gateway", "Razorpay gave no usable answer to the request for ₹5,844.00"),
        ("timeout", "Razorpay could not be reached to request ₹5,844.00; try again later."),
    ],
)
def test_razorpay_down_while_requesting_fails_the_request_for_staff_to_see_and_the_sweep_asks_again(
    app, fake_razorpay, order_id, failure, reason
):
    fake_razorpay.fail_next(failure)
    request = ask_to_pay(app, order_id)
    assert request.status == "failed" and request.attempts == 1 and reason in request.last_error
    assert fake_razorpay.links == {} and messages(app, "payment_request") == []
    order = load(app, order_id)
    assert order.attention.startswith("Payment request through razorpay failed: ") and reason in order.attention

    with app.app_context():
        make_staff("owner")
    staff = app.test_client()
    sign_in(staff, "owner@sunrise.example.com")
    page = staff.get(f"/admin/orders/{order.reference}").get_data(as_text=True)
    assert reason.replace("'", "&#39;") in page

    with app.app_context():
        assert requests.retry_failed_requests() == 0  # not yet: the sweep waits before asking again
        row = db.session.get(PaymentRequest, request.id)
        row.next_attempt_at -= requests.RETRY_SPACING[0]
        db.session.commit()
        assert requests.retry_failed_requests() == 1
        row = db.session.get(PaymentRequest, request.id)
        assert (row.status, row.attempts, row.last_error) == ("requested", 2, "")
        [link] = fake_razorpay.links.values()
        assert (row.provider_reference, row.url) == (link["id"], link["short_url"])
    [asked] = messages(app, "payment_request")
    assert link["short_url"] in asked.body_text


def test_a_link_made_when_the_answer_was_lost_is_the_one_the_sweep_sends(app, fake_razorpay, order_id):
    """Razorpay made the link but its answer never came: asking again with the same reference_id is refused by
    Razorpay, and the link it made is fetched instead of a second one."""
    fake_razorpay.fail_next("lost_answer")
    request = ask_to_pay(app, order_id)
    assert request.status == "failed" and "could not be reached" in request.last_error
    [made] = fake_razorpay.links.values()

    with app.app_context():
        row = db.session.get(PaymentRequest, request.id)
        row.next_attempt_at -= requests.RETRY_SPACING[0]
        db.session.commit()
        assert requests.retry_failed_requests() == 1
        row = db.session.get(PaymentRequest, request.id)
        assert (row.status, row.provider_reference, row.url) == ("requested", made["id"], made["short_url"])
    assert list(fake_razorpay.links) == [made["id"]]
    assert [(method, path) for method, path, _, _ in fake_razorpay.requests[-2:]] == [
        ("POST", "/v1/payment_links"),
        ("GET", "/v1/payment_links"),
    ]


def test_wrong_keys_are_refused_by_razorpay_in_words_for_staff(make_app, fake_razorpay):
    app = make_app(RAZORPAY_KEY_ID=KEY_ID, RAZORPAY_KEY_SECRET="not-the-secret", RAZORPAY_API_BASE=fake_razorpay.url)
    with app.app_context():
        make_store(delivery_fee_minor=5000, payment_provider="razorpay")
        variant = make_product("Silk Saree", price_minor=579_400, stock=5).variants[0]
        order = make_order([(variant, 1)], details=customer(phone=ASHA, payment_method="transfer"))
        request = requests.request_payment(order)
        assert request.status == "failed"
        assert "Razorpay refused the request for ₹5,844.00: The api key provided is invalid" in request.last_error
    assert fake_razorpay.links == {}


def test_razorpay_without_keys_is_not_set_up(make_app):
    app = make_app(RAZORPAY_KEY_ID="", RAZORPAY_KEY_SECRET="")
    with app.app_context():
        make_store(payment_provider="razorpay")
        variant = make_product("Silk Saree", price_minor=579_400, stock=5).variants[0]
        order = make_order([(variant, 1)], details=customer(phone=ASHA, payment_method="transfer"))
        request = requests.request_payment(order)
        assert request.status == "failed" and "RAZORPAY_KEY_ID" in request.last_error


# -- refunds ---------------------------------------------------------------------------------------------------


def paid_payment_id(app, fake_razorpay, order_id) -> str:
    request = ask_to_pay(app, order_id)
    assert fake_razorpay.deliver(fake_razorpay.pay(request.provider_reference)) == 200
    [payment] = load(app, order_id).payments
    return payment.reference


def test_a_partial_refund_goes_through_razorpay_and_returns_its_refund_id(app, fake_razorpay, order_id):
    payment_id = paid_payment_id(app, fake_razorpay, order_id)
    assert provider(app).supports_refunds is True

    refund_id = provider(app).refund(payment_id, 100_000, "INR", reference="ABCD2345R1")

    refund = fake_razorpay.refunds[refund_id]
    assert refund_id.startswith("rfnd_") and (refund["payment_id"], refund["amount"]) == (payment_id, 100_000)
    assert (refund["receipt"], refund["speed_requested"]) == ("ABCD2345R1", "normal")
    assert fake_razorpay.payments[payment_id]["refund_status"] == "partial"
    [(_, path, _, headers)] = [r for r in fake_razorpay.requests if r[1].endswith("/refund")]
    assert (
        path == f"/v1/payments/{payment_id}/refund" and headers["X-Refund-Idempotency"] == "chatout-refund-ABCD2345R1"
    )

    # The rest, then nothing more: Razorpay's refusal comes back in its words.
    provider(app).refund(payment_id, TOTAL - 100_000, "INR", reference="ABCD2345R2")
    assert fake_razorpay.payments[payment_id]["refund_status"] == "full"
    with pytest.raises(ProviderUnavailable, match="Razorpay refused the refund for ₹1.00: The payment has been fully"):
        provider(app).refund(payment_id, 100, "INR", reference="ABCD2345R3")


def test_a_refund_retried_after_a_lost_answer_is_made_once(app, fake_razorpay, order_id):
    payment_id = paid_payment_id(app, fake_razorpay, order_id)
    fake_razorpay.fail_next("lost_answer")
    with pytest.raises(ProviderUnavailable, match="could not be reached to refund ₹5,844.00"):
        provider(app).refund(payment_id, TOTAL, "INR", reference="ABCD2345R1")
    [made] = fake_razorpay.refunds

    assert provider(app).refund(payment_id, TOTAL, "INR", reference="ABCD2345R1") == made
    assert len(fake_razorpay.refunds) == 1 and fake_razorpay.payments[payment_id]["amount_refunded"] == TOTAL


@pytest.mark.parametrize(
    ("amount", "failure", "words"),
    [
        (TOTAL + 100, None, "Razorpay refused the refund for ₹5,845.00: The refund amount provided is greater"),
        (100_000, "server_error", "Razorpay failed the refund for ₹1,000.00 (server error"),
        (100_000, "timeout", "Razorpay could not be reached to refund ₹1,000.00"),
    ],
)
def test_a_refund_razorpay_cannot_make_raises_provider_unavailable(
    app, fake_razorpay, order_id, amount, failure, words
):
    payment_id = paid_payment_id(app, fake_razorpay, order_id)
    if failure:
        fake_razorpay.fail_next(failure)
    with pytest.raises(ProviderUnavailable) as raised:
        provider(app).refund(payment_id, amount, "INR", reference="ABCD2345R1")
    assert words in str(raised.value)
    assert fake_razorpay.refunds == {}
