"""Payment requests reach the customer in WhatsApp through the outbox, within Meta's limits (the fake Graph API
refuses what Meta would): a call-to-action button for a web link, text for UPI, the bare code for Pix."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from checkout import outbox
from checkout.extensions import db
from checkout.models import Order, PaymentRequest
from checkout.models.store import get_store_settings
from checkout.payments import providers
from checkout.payments.providers import PaymentLink, ProviderEntry, ProviderUnavailable
from checkout.payments.requests import PaymentNotRequested, request_payment, retry_failed_requests
from tests.factories import make_store
from tests.messaging.conftest import move_order_to, outgoing_messages, place
from tests.payments.customer_window import customer_wrote

ASHA, ASHA_DIGITS = "+919876543210", "919876543210"


@dataclass
class GatewayDouble:
    """A gateway-like provider for the https path; `down` makes it raise as a provider that timed out."""

    down: bool = False
    name: str = "testpay"
    confirms_automatically: bool = True

    def request(self, order, amount_minor, currency, *, reference):
        if self.down:
            raise ProviderUnavailable("gateway timed out")
        return PaymentLink(self.name, f"cs_{reference}", f"https://pay.example/{reference}", "", None)


@pytest.fixture
def gateway(monkeypatch):
    double = GatewayDouble()
    entry = ProviderEntry(label="Test gateway", build=lambda settings: double, check_settings=lambda v, s, c: {})
    monkeypatch.setitem(providers._REGISTRY, "testpay", entry)
    return double


def _shop(**fields):
    """The shop, and Asha, who wrote to it a minute ago: her 24-hour window is open for free-form messages."""
    make_store(name="Test Shop", **fields)
    customer_wrote(ASHA)


def _sent_after_confirmation(graph_api) -> list:
    """What Asha received, without the confirmation request that every website order starts with."""
    return [m for m in graph_api.messages_to(ASHA_DIGITS) if not _is_confirmation_request(m)]


def _is_confirmation_request(received) -> bool:
    """Confirm / Cancel: reply buttons inside the 24-hour window, the order_confirmation template outside it."""
    if received.type == "template":
        return received.body["template"]["name"] == "order_confirmation"
    return received.type == "interactive" and received.body["interactive"]["type"] == "button"


def test_upi_request_goes_as_text_with_the_intent_link_and_the_status_page(graph_api, variant_id):
    _shop(payment_provider="upi", upi_payee_address="testshop@okaxis", upi_payee_name="Test Shop")
    order = place(variant_id, phone=ASHA, payment_method="transfer")
    request = request_payment(order, "on_demand")
    assert request.status == "requested" and request.url.startswith("upi://pay?pa=testshop@okaxis&")
    outbox.run_due()
    [received] = _sent_after_confirmation(graph_api)
    assert received.type == "text"
    body = received.body["text"]["body"]
    assert request.url in body and f"/o/{order.status_token}" in body
    assert "&am=949.00&" in request.url  # ₹899 and ₹50 delivery
    assert f"&tr={request.provider_reference}&" in request.url


def test_pix_request_sends_the_copia_e_cola_code_alone_in_a_second_message(graph_api, variant_id):
    _shop(
        currency="BRL",
        payment_provider="pix",
        pix_key="loja@example.com",
        pix_merchant_name="Loja Teste",
        pix_merchant_city="Recife",
    )
    order = place(variant_id, phone=ASHA, payment_method="transfer")
    request = request_payment(order, "on_demand")
    assert request.url == "" and request.qr_payload.startswith("000201")
    outbox.run_due()
    explanation, code = _sent_after_confirmation(graph_api)
    assert "Pix" in explanation.body["text"]["body"]
    assert code.body["text"]["body"] == request.qr_payload


def test_https_link_goes_as_a_call_to_action_button(graph_api, variant_id, gateway):
    _shop(payment_provider="testpay")
    order = place(variant_id, phone=ASHA, payment_method="transfer")
    request = request_payment(order, "on_demand")
    outbox.run_due()
    [received] = _sent_after_confirmation(graph_api)
    interactive = received.body["interactive"]
    assert received.type == "interactive" and interactive["type"] == "cta_url"
    assert interactive["action"] == {
        "name": "cta_url",
        "parameters": {"display_text": "Pay now", "url": request.url},
    }
    assert order.reference in interactive["body"]["text"] and len(interactive["body"]["text"]) <= 1024


def test_pressing_twice_sends_one_request(graph_api, variant_id, gateway):
    _shop(payment_provider="testpay")
    order = place(variant_id, phone=ASHA, payment_method="transfer")
    first, second = request_payment(order, "on_demand"), request_payment(order, "on_demand")
    assert first.id == second.id
    outbox.run_due()
    assert len(_sent_after_confirmation(graph_api)) == 1


def test_cash_on_delivery_is_never_asked_to_pay(graph_api, variant_id, gateway):
    _shop(payment_provider="testpay", payment_request_when="order_created")
    order = place(variant_id, phone=ASHA, payment_method="cod")
    with pytest.raises(PaymentNotRequested, match="Cash on delivery"):
        request_payment(order, "on_demand")
    assert db.session.scalars(select(PaymentRequest)).all() == []


def test_request_at_order_creation_is_written_with_the_order(graph_api, variant_id, gateway):
    _shop(payment_provider="testpay", payment_request_when="order_created")
    order = place(variant_id, phone=ASHA, payment_method="transfer")
    [request] = db.session.scalars(select(PaymentRequest)).all()
    assert (request.order_id, request.trigger, request.amount_minor) == (order.id, "order_created", order.total_minor)
    assert [m.purpose for m in outgoing_messages()].count("payment_request") == 1


def test_request_when_staff_confirm_waits_for_the_confirmation(graph_api, variant_id, gateway):
    _shop(payment_provider="testpay", payment_request_when="staff_confirmed")
    order = place(variant_id, phone=ASHA, payment_method="transfer")
    assert db.session.scalars(select(PaymentRequest)).all() == []
    move_order_to(order, "confirmed")
    [request] = db.session.scalars(select(PaymentRequest)).all()
    assert request.trigger == "staff_confirmed" and request.status == "requested"


def test_provider_down_leaves_a_failed_request_for_staff_and_the_sweep_asks_again(graph_api, variant_id, gateway):
    _shop(payment_provider="testpay", payment_request_when="order_created")
    gateway.down = True
    order = place(variant_id, phone=ASHA, payment_method="transfer")  # the order is placed all the same
    [request] = db.session.scalars(select(PaymentRequest)).all()
    assert request.status == "failed" and "gateway timed out" in request.last_error and request.attempts == 1
    assert "failed" in db.session.get(Order, order.id).attention
    gateway.down = False
    assert retry_failed_requests() == 0  # not due yet: the next attempt is ten minutes on
    request.next_attempt_at = request.next_attempt_at - timedelta(minutes=10)
    db.session.commit()
    assert retry_failed_requests() == 1
    request = db.session.get(PaymentRequest, request.id)
    assert request.status == "requested" and request.attempts == 2 and request.url.startswith("https://")
    outbox.run_due()
    assert [m.type for m in _sent_after_confirmation(graph_api)] == ["interactive"]


def test_no_provider_chosen_means_no_request(graph_api, variant_id):
    _shop(payment_provider="")
    order = place(variant_id, phone=ASHA, payment_method="transfer")
    with pytest.raises(PaymentNotRequested, match="payment provider"):
        request_payment(order, "on_demand")
    assert get_store_settings().payment_provider == ""
