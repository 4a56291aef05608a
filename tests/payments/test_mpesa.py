"""M-Pesa Express (STK Push) end to end against a local fake of Daraja: request → the customer enters their PIN →
callback → checked back with Daraja → paid.

The fake (tests/fakes/daraja_api.py) is real HTTP on 127.0.0.1 and checks every field of the push as Daraja
documents it; the callback goes through the Flask app at the address the push gave Daraja; the customer's
WhatsApp messages come in through the signed webhook; the database is real.
"""

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from checkout import outbox
from checkout.extensions import db
from checkout.models import Message, Order, PaymentEvent, PaymentRequest, WebhookEvent
from checkout.money import format_money
from checkout.orders.desk import change_status
from checkout.payments import mpesa, requests
from checkout.payments.events import process_payment_event
from checkout.payments.providers import InvalidPaymentSettings, check_payment_settings
from checkout.whatsapp import webhooks
from tests.admin_helpers import make_staff
from tests.factories import customer, make_order, make_product, make_store
from tests.fakes.daraja_api import CONSUMER_KEY, CONSUMER_SECRET, PASSKEY, SHORTCODE, FakeDaraja, password
from tests.messaging import payloads

WANJIRU, WANJIRU_DIGITS = "+254712345678", "254712345678"
STRANGER_DIGITS = "254722000111"
CALLBACK_SECRET = "cb_7Qx2-secret-for-tests-only"
CALLBACK_PATH = f"/webhooks/payments/mpesa/{CALLBACK_SECRET}"
TOTAL = 1_250_000  # KES 12,450 + KES 50 delivery
SHILLINGS = 12_500


@pytest.fixture
def fake_daraja():
    mpesa.forget_tokens()
    fake = FakeDaraja(timeout_seconds=4)
    yield fake
    fake.close()
    mpesa.forget_tokens()


@pytest.fixture
def app(make_app, fake_daraja):
    app = make_app(
        MPESA_CONSUMER_KEY=CONSUMER_KEY,
        MPESA_CONSUMER_SECRET=CONSUMER_SECRET,
        MPESA_SHORTCODE=SHORTCODE,
        MPESA_PASSKEY=PASSKEY,
        MPESA_CALLBACK_SECRET=CALLBACK_SECRET,
        MPESA_API_BASE=fake_daraja.url,
        MPESA_TIMEOUT=1.5,  # room for a loaded CI machine; the fakes hold a "timeout" longer
        PUBLIC_BASE_URL="https://shop.example",
    )
    client = app.test_client()
    fake_daraja.webhook = lambda path, raw: client.post(path, data=raw, content_type="application/json").status_code
    return app


def _shop_and_order(price_minor: int = 1_245_000) -> Order:
    make_store(
        name="Duka la Mama",
        currency="KES",
        locale="en_KE",
        default_region="KE",
        whatsapp_number="+254700100200",
        delivery_fee_minor=5000,
        payment_provider="mpesa",
        payment_request_when="on_demand",
    )
    variant = make_product("Kikoi", price_minor=price_minor, stock=5).variants[0]
    details = customer(name="Wanjiru Kamau", phone=WANJIRU, payment_method="transfer")
    return make_order([(variant, 1)], details=details)


@pytest.fixture
def order_id(app):
    with app.app_context():
        order = _shop_and_order()
        assert order.total_minor == TOTAL
        outbox.run_due()
        return order.id


def reference_of(app, order_id) -> str:
    with app.app_context():
        return db.session.get(Order, order_id).reference


def writes(app, text: str, digits: str = WANJIRU_DIGITS, *, seconds_ago: int = 0) -> None:
    """A WhatsApp message from `digits`, through the signed webhook, processed as the worker does."""
    sent = str(int(time.time()) - seconds_ago)
    body = payloads.inbound({"type": "text", "text": {"body": text}, "timestamp": sent}, wa_id=digits)
    assert payloads.post_signed(app.test_client(), app, body).status_code == 200
    with app.app_context():
        for event_id in db.session.scalars(select(WebhookEvent.id).where(WebhookEvent.processed_at.is_(None))).all():
            webhooks.process_event(event_id)
        outbox.run_due()


def handshake(app, order_id) -> None:
    """Wanjiru sends her order's reference from her own number: the number is proven."""
    writes(app, f"Habari, this is my order {reference_of(app, order_id)}")


def ask(app, order_id) -> PaymentRequest:
    """Staff press "Request payment"; the request as it was saved."""
    with app.app_context():
        request = requests.request_payment(db.session.get(Order, order_id))
        db.session.refresh(request)
        db.session.expunge(request)
        outbox.run_due()
        return request


def load(app, order_id) -> Order:
    with app.app_context():
        order = db.session.get(Order, order_id)
        order.payments, order.events  # noqa: B018 (loaded before the session closes)
        db.session.expunge_all()
        return order


def request_row(app, request_id) -> PaymentRequest:
    with app.app_context():
        row = db.session.get(PaymentRequest, request_id)
        db.session.expunge(row)
        return row


def stored_events(app) -> list[PaymentEvent]:
    with app.app_context():
        rows = list(db.session.scalars(select(PaymentEvent).order_by(PaymentEvent.id)))
        db.session.expunge_all()
        return rows


def messages_to_wanjiru(app, purpose: str) -> list[Message]:
    with app.app_context():
        outbox.run_due()
        query = select(Message).where(Message.direction == "out", Message.phone == WANJIRU, Message.purpose == purpose)
        rows = list(db.session.scalars(query.order_by(Message.id)))
        db.session.expunge_all()
        return rows


def queries(fake, checkout_request_id: str) -> int:
    return sum(
        1
        for _, path, body in fake.requests
        if path.endswith("/query") and body.get("CheckoutRequestID") == checkout_request_id
    )


def kes(amount_minor: int) -> str:
    return format_money(amount_minor, "KES")


# -- the whole way ----------------------------------------------------------------------------------------------


def test_a_customer_who_pays_the_prompt_has_the_order_paid_and_gets_one_receipt(app, fake_daraja, order_id):
    handshake(app, order_id)
    request = ask(app, order_id)
    reference = reference_of(app, order_id)

    assert request.status == "requested" and request.provider == "mpesa" and request.url == ""
    prompt = fake_daraja.prompts[request.provider_reference]
    asked = prompt.request
    assert asked["Amount"] == SHILLINGS and asked["PhoneNumber"] == asked["PartyA"] == WANJIRU_DIGITS
    assert asked["PartyB"] == asked["BusinessShortCode"] == SHORTCODE
    assert asked["TransactionType"] == "CustomerPayBillOnline"
    assert asked["Password"] == password(SHORTCODE, PASSKEY, asked["Timestamp"])
    assert asked["AccountReference"] == reference.replace("-", "") and len(asked["TransactionDesc"]) <= 13
    assert asked["CallBackURL"] == f"https://shop.example{CALLBACK_PATH}"

    [told] = messages_to_wanjiru(app, "payment_request")
    assert told.payload["type"] == "text" and "M-Pesa prompt" in told.body_text and kes(TOTAL) in told.body_text
    page = app.test_client().get(f"/o/{load(app, order_id).status_token}").get_data(as_text=True)
    assert "enter your M-Pesa PIN" in page and "copia e cola" not in page and 'id="pay-link"' not in page

    callback = fake_daraja.pay(request.provider_reference)
    assert fake_daraja.deliver(callback) == 200

    order = load(app, order_id)
    assert order.payment_status == "paid" and order.amount_paid_minor == TOTAL and order.attention == ""
    [payment] = order.payments
    assert (payment.method, payment.amount_minor, payment.reference) == ("mpesa", TOTAL, prompt.receipt)
    assert [(e.event_id, e.outcome, e.order_id) for e in stored_events(app)] == [
        (request.provider_reference, "paid", order_id)
    ]
    assert queries(fake_daraja, request.provider_reference) == 1  # checked with Daraja before it was believed
    assert request_row(app, request.id).status == "paid"
    [receipt] = messages_to_wanjiru(app, "receipt")
    assert receipt.kind == "document" and prompt.receipt in receipt.body_text
    assert "M-Pesa" in receipt.body_text and "mpesa" not in receipt.body_text  # the method as people name it


def test_the_oauth_token_is_kept_until_daraja_stops_taking_it(app, fake_daraja, order_id):
    handshake(app, order_id)
    request = ask(app, order_id)
    fake_daraja.deliver(fake_daraja.pay(request.provider_reference))  # the callback's query: the same token
    assert fake_daraja.token_requests == 1
    fake_daraja.expire_tokens()
    with app.app_context():
        answer = mpesa.MpesaProvider.from_config().query(request.provider_reference)
    assert answer["ResultCode"] == "0" and fake_daraja.token_requests == 2


# -- callbacks that must change nothing --------------------------------------------------------------------------


def test_a_replayed_callback_is_acknowledged_and_changes_nothing(app, fake_daraja, order_id):
    handshake(app, order_id)
    request = ask(app, order_id)
    callback = fake_daraja.pay(request.provider_reference)
    assert [fake_daraja.deliver(callback) for _ in range(3)] == [200, 200, 200]
    assert len(load(app, order_id).payments) == 1
    assert len(stored_events(app)) == 1 and queries(fake_daraja, request.provider_reference) == 1
    assert len(messages_to_wanjiru(app, "receipt")) == 1


@pytest.mark.parametrize("path", ["/webhooks/payments/mpesa/not-the-secret-at-all", "/webhooks/payments/mpesa/x"])
def test_a_callback_to_a_wrong_secret_is_a_page_that_does_not_exist(app, fake_daraja, order_id, path):
    handshake(app, order_id)
    request = ask(app, order_id)
    callback = fake_daraja.pay(request.provider_reference)
    assert fake_daraja.deliver(callback, url=f"https://shop.example{path}") == 404
    assert stored_events(app) == [] and load(app, order_id).payments == []
    assert queries(fake_daraja, request.provider_reference) == 0


def test_without_a_callback_secret_every_callback_address_is_missing(make_app, fake_daraja):
    app = make_app(MPESA_CALLBACK_SECRET="")
    assert app.test_client().post("/webhooks/payments/mpesa/anything", json={}).status_code == 404


@pytest.mark.parametrize("raw", [b"not json", b'{"Body": {}}', b"\xff\xfe{}", b"[1, 2]"])
def test_a_callback_that_is_not_an_stk_callback_is_refused_and_nothing_is_stored(app, raw):
    response = app.test_client().post(CALLBACK_PATH, data=raw, content_type="application/json")
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_payload"
    assert stored_events(app) == []


def test_a_forged_paid_callback_that_daraja_contradicts_records_nothing_and_tells_staff(app, fake_daraja, order_id):
    handshake(app, order_id)
    request = ask(app, order_id)
    fake_daraja.cancel(request.provider_reference)  # what really happened, never delivered
    assert fake_daraja.deliver(fake_daraja.forge(request.provider_reference)) == 200
    order = load(app, order_id)
    assert order.payments == [] and order.payment_status == "unpaid"
    assert "M-Pesa's own record says Request cancelled by user (ResultCode 1032): nothing recorded" in order.attention
    assert [e.outcome for e in stored_events(app)] == ["forged"]
    assert request_row(app, request.id).status == "expired"  # its prompt is dead: asking again pushes a new one
    assert messages_to_wanjiru(app, "receipt") == []


def test_a_cancelled_callback_for_a_prompt_daraja_says_was_paid_records_nothing_and_tells_staff(
    app, fake_daraja, order_id
):
    """The money arrived but the callback does not say how much: staff record it from the M-Pesa statement."""
    handshake(app, order_id)
    request = ask(app, order_id)
    paid = fake_daraja.pay(request.provider_reference)  # the real callback, still on its way
    assert fake_daraja.deliver(fake_daraja.forge(request.provider_reference, cancelled=True)) == 200
    order = load(app, order_id)
    assert order.payments == [] and "was paid, but its callback did not say how much" in order.attention
    assert [e.outcome for e in stored_events(app)] == ["unconfirmed"]
    assert request_row(app, request.id).status == "requested"  # not closed: it was paid
    assert fake_daraja.deliver(paid) == 200  # one callback per prompt: the late one is a resend
    assert load(app, order_id).payments == [] and len(stored_events(app)) == 1


def test_a_callback_for_a_prompt_the_shop_never_asked_for_is_not_checked_or_recorded(app, fake_daraja, order_id):
    handshake(app, order_id)
    with app.app_context():  # a push made outside any payment request of this shop
        link = mpesa.MpesaProvider.from_config().request(
            db.session.get(Order, order_id), TOTAL, "KES", reference="ELSEWHERE"
        )
    assert fake_daraja.deliver(fake_daraja.pay(link.provider_reference)) == 200
    assert [e.outcome for e in stored_events(app)] == ["unknown_order"]
    assert queries(fake_daraja, link.provider_reference) == 0 and load(app, order_id).payments == []


# -- money that is not simply "paid" ------------------------------------------------------------------------------


def test_a_prompt_the_customer_cancels_closes_the_request_and_a_new_one_can_be_pushed(app, fake_daraja, order_id):
    handshake(app, order_id)
    first = ask(app, order_id)
    assert fake_daraja.deliver(fake_daraja.cancel(first.provider_reference)) == 200
    order = load(app, order_id)
    assert order.payments == [] and order.attention == ""
    assert order.events[-1].kind == "payment_request"
    assert order.events[-1].note == "M-Pesa: not paid: Request cancelled by user (ResultCode 1032)"
    assert [e.outcome for e in stored_events(app)] == ["failed"]
    assert request_row(app, first.id).status == "expired"
    second = ask(app, order_id)
    assert second.id != first.id and second.provider_reference in fake_daraja.prompts
    assert len(fake_daraja.prompts) == 2


def test_a_short_payment_is_recorded_and_flagged_for_staff(app, fake_daraja, order_id):
    handshake(app, order_id)
    request = ask(app, order_id)
    assert fake_daraja.deliver(fake_daraja.pay(request.provider_reference, amount=5_000)) == 200
    order = load(app, order_id)
    assert order.amount_paid_minor == 500_000 and order.payment_status == "partially_paid"
    flag = f"M-Pesa: paid {kes(500_000)}, owed {kes(TOTAL)}: {kes(750_000)} still to pay"
    assert order.attention == flag and order.events[-1].kind == "attention"
    assert [e.outcome for e in stored_events(app)] == ["short"]
    assert len(messages_to_wanjiru(app, "receipt")) == 1


def test_a_payment_after_the_order_was_cancelled_is_flagged_and_not_accepted(app, fake_daraja, order_id):
    handshake(app, order_id)
    request = ask(app, order_id)
    with app.app_context():
        owner = make_staff("owner")
        order = db.session.get(Order, order_id)
        change_status(order, "cancelled", staff=owner, expected_version=None, note="Out of stock")
    assert fake_daraja.deliver(fake_daraja.pay(request.provider_reference)) == 200
    order = load(app, order_id)
    assert order.status == "cancelled" and order.payments == [] and order.amount_paid_minor == 0
    assert (
        order.attention == f"M-Pesa payment of {kes(TOTAL)} arrived after the order was cancelled: refund it or reopen"
    )
    assert [e.outcome for e in stored_events(app)] == ["cancelled_order"]
    assert messages_to_wanjiru(app, "receipt") == []


def test_a_callback_daraja_cannot_confirm_yet_is_kept_and_recorded_once_when_it_can(app, fake_daraja, order_id):
    handshake(app, order_id)
    request = ask(app, order_id)
    callback = fake_daraja.pay(request.provider_reference)
    fake_daraja.fail_next("server_error")  # the query back to Daraja
    assert fake_daraja.deliver(callback) == 200
    [stored] = stored_events(app)
    assert stored.processed_at is None and "HTTP 500" in stored.error
    assert load(app, order_id).payments == []
    with app.app_context():
        assert process_payment_event(stored.id) == "paid"
        assert process_payment_event(stored.id) == "paid"  # a second run finds the outcome on the row
    assert len(load(app, order_id).payments) == 1 and len(messages_to_wanjiru(app, "receipt")) == 1


# -- when no prompt may go, or Daraja is down ---------------------------------------------------------------------


@pytest.mark.parametrize(("failure", "said"), [("server_error", "HTTP 500"), ("timeout", "could not be reached")])
def test_daraja_down_while_requesting_leaves_a_failed_request_for_staff_and_the_sweep_pushes_later(
    app, fake_daraja, order_id, failure, said
):
    handshake(app, order_id)
    fake_daraja.fail_next(failure)
    request = ask(app, order_id)
    assert request.status == "failed" and said in request.last_error and request.attempts == 1
    order = load(app, order_id)
    assert order.attention.startswith("Payment request through mpesa failed: M-Pesa") and said in order.attention
    assert fake_daraja.prompts == {} and messages_to_wanjiru(app, "payment_request") == []

    with app.app_context():
        row = db.session.get(PaymentRequest, request.id)
        row.next_attempt_at -= timedelta(hours=1)  # its next attempt is due
        db.session.commit()
        assert requests.retry_failed_requests() == 1
    retried = request_row(app, request.id)
    assert retried.status == "requested" and retried.attempts == 2 and retried.provider_reference in fake_daraja.prompts
    assert len(messages_to_wanjiru(app, "payment_request")) == 1


def test_no_prompt_goes_to_a_number_that_has_not_written_to_the_shop(app, fake_daraja, order_id):
    writes(app, f"Pay for {reference_of(app, order_id)} please", digits=STRANGER_DIGITS)  # someone else's phone
    request = ask(app, order_id)
    assert request.status == "failed" and "the customer has not written from this number yet" in request.last_error
    order = load(app, order_id)
    assert "the customer has not written from this number yet" in order.attention
    assert order.phone_verified_at is None
    assert fake_daraja.requests == [] and messages_to_wanjiru(app, "payment_request") == []

    writes(app, "Hi, nimelipa? How do I pay?")  # Wanjiru herself writes, after placing the order
    again = ask(app, order_id)
    assert again.status == "requested" and fake_daraja.prompts[again.provider_reference].request["PhoneNumber"] == (
        WANJIRU_DIGITS
    )


def test_a_message_from_the_number_before_the_order_was_placed_proves_nothing(app, fake_daraja):
    writes(app, "Hello, do you deliver to Kisumu?", seconds_ago=3600)
    with app.app_context():
        order = _shop_and_order()
        assert mpesa.chatting_number(order) is None
        order.phone_verified_at = order.created_at  # the handshake
        assert mpesa.chatting_number(order) == WANJIRU


def test_a_balance_with_cents_is_refused_with_the_reason_and_daraja_is_not_asked(app, fake_daraja):
    with app.app_context():
        order_id = _shop_and_order(price_minor=1_245_050).id
    handshake(app, order_id)
    request = ask(app, order_id)
    assert request.status == "failed" and "whole shillings" in request.last_error
    assert kes(1_250_050) in load(app, order_id).attention
    assert fake_daraja.requests == []


def test_choosing_m_pesa_needs_its_keys_and_a_shop_in_shillings(make_app):
    app = make_app(
        MPESA_CONSUMER_KEY="",
        MPESA_CALLBACK_SECRET=CALLBACK_SECRET,
        PUBLIC_BASE_URL="https://shop.example",
    )
    with app.app_context():
        settings = make_store(currency="KES")
        with pytest.raises(InvalidPaymentSettings) as refused:
            check_payment_settings({"payment_provider": "mpesa", "payment_request_when": "on_demand"}, settings)
        assert "MPESA_CONSUMER_KEY" in refused.value.errors["payment_provider"]
        app.config.update(
            MPESA_CONSUMER_KEY=CONSUMER_KEY,
            MPESA_CONSUMER_SECRET=CONSUMER_SECRET,
            MPESA_SHORTCODE=SHORTCODE,
            MPESA_PASSKEY=PASSKEY,
        )
        chosen = {"payment_provider": "mpesa", "payment_request_when": "on_demand"}
        assert check_payment_settings(chosen, settings)["payment_provider"] == "mpesa"
        settings.currency = "INR"
        with pytest.raises(InvalidPaymentSettings) as refused:
            check_payment_settings(chosen, settings)
        assert "KES" in refused.value.errors["payment_provider"]


def test_a_prompt_refused_for_an_unproven_number_goes_as_soon_as_the_customer_sends_the_order(
    app, fake_daraja, order_id
):
    refused = ask(app, order_id)
    assert refused.status == "failed" and fake_daraja.requests == []

    handshake(app, order_id)  # Wanjiru sends her order from her own number: no staff press needed

    with app.app_context():
        request = db.session.get(PaymentRequest, refused.id)
        assert request.status == "requested" and request.id == refused.id
        assert fake_daraja.prompts[request.provider_reference].request["PhoneNumber"] == WANJIRU_DIGITS
    assert len(messages_to_wanjiru(app, "payment_request")) == 1
    handshake(app, order_id)  # sending it again pushes nothing more
    assert len(fake_daraja.prompts) == 1
