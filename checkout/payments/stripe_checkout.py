"""Stripe Checkout: a hosted payment page per request, and the signed events Stripe's webhook sends.

`StripeProvider.request` creates a Checkout Session in the order's currency for the amount asked, with the payment
request's reference as `client_reference_id`, the order reference in the metadata (what the webhook reads back), and
the order's status page as where Stripe sends the customer back. `verify_event` checks the `Stripe-Signature` header over the raw body (Stripe's scheme, five
minutes' tolerance) and `read_event` turns the body into a ProviderEvent. Configuration: STRIPE_SECRET_KEY,
STRIPE_WEBHOOK_SECRET, STRIPE_API_BASE (a fake in tests), STRIPE_TIMEOUT, STRIPE_MAX_NETWORK_RETRIES.
"""

from datetime import UTC, datetime

import stripe
from flask import current_app

from checkout.money import format_money
from checkout.payments.providers import (
    PaymentLink,
    ProviderEntry,
    ProviderEvent,
    ProviderNotConfigured,
    ProviderUnavailable,
    register_provider,
)
from checkout.web.urls import status_url

NAME = "stripe"
SIGNATURE_TOLERANCE_SECONDS = 300  # Stripe's default: an older signed timestamp is a replay
# Session events that mean the money has arrived: paid at once (cards), or later (bank debits and vouchers).
PAID_EVENT_TYPES = ("checkout.session.completed", "checkout.session.async_payment_succeeded")


class BadSignature(ValueError):
    """The webhook body is not Stripe's: signature missing, wrong, or too old."""


class StripeProvider:
    name = NAME
    confirms_automatically = True
    supports_refunds = True

    def __init__(self, secret_key: str, api_base: str, timeout: float, max_network_retries: int):
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base},
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout),
        )

    @classmethod
    def from_config(cls) -> "StripeProvider":
        config = current_app.config
        if not config["STRIPE_SECRET_KEY"]:
            raise ProviderUnavailable("Stripe is not set up: STRIPE_SECRET_KEY is empty.")
        return cls(
            config["STRIPE_SECRET_KEY"],
            config["STRIPE_API_BASE"],
            config["STRIPE_TIMEOUT"],
            config["STRIPE_MAX_NETWORK_RETRIES"],
        )

    def request(self, order, amount_minor: int, currency: str, *, reference: str) -> PaymentLink:
        """A Checkout Session for `amount_minor` of `currency`; ProviderUnavailable when Stripe can't make one.

        The idempotency key makes a retry after a timeout find the session the lost answer described, not a second one.
        """
        page = status_url(order)
        params = {
            "mode": "payment",
            "client_reference_id": reference,
            "metadata": {"order_reference": order.reference},
            "payment_intent_data": {"metadata": {"order_reference": order.reference}},
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": currency.lower(),
                        "unit_amount": amount_minor,
                        "product_data": {"name": f"Order {order.reference}"},
                    },
                }
            ],
            "success_url": page,
            "cancel_url": page,
        }
        key = f"chatout-checkout-{reference}-{amount_minor}-{currency}"
        try:
            session = self.client.v1.checkout.sessions.create(params=params, options={"idempotency_key": key})
        except stripe.StripeError as error:
            raise ProviderUnavailable(_explain(error, amount_minor, currency)) from error
        data = session.to_dict()
        expires = datetime.fromtimestamp(data["expires_at"], UTC) if data.get("expires_at") else None
        return PaymentLink(NAME, data["id"], data["url"], data["url"], expires)

    def refund(self, payment_reference: str, amount_minor: int, currency: str, *, reference: str) -> str:
        """Refund `amount_minor` of the PaymentIntent `payment_reference`; Stripe's refund id (re_…).

        The idempotency key is the refund's own reference: a retry after a lost answer finds the refund Stripe
        made, never a second one. A refund Stripe reports as failed or canceled is a failure here too.
        """
        if not payment_reference:
            raise ProviderUnavailable("This payment has no Stripe PaymentIntent to refund.")
        params = {
            "payment_intent": payment_reference,
            "amount": amount_minor,
            "metadata": {"chatout_refund": reference},
        }
        key = f"chatout-refund-{reference}-{amount_minor}-{currency}"
        try:
            refund = self.client.v1.refunds.create(params=params, options={"idempotency_key": key})
        except stripe.StripeError as error:
            raise ProviderUnavailable(_explain(error, amount_minor, currency, "refund")) from error
        data = refund.to_dict()
        if data.get("status") in ("failed", "canceled"):
            amount = format_money(amount_minor, currency)
            raise ProviderUnavailable(f"Stripe did not refund {amount}: the refund {data.get('status')}.")
        return str(data["id"])


def _explain(error: stripe.StripeError, amount_minor: int, currency: str, what: str = "request") -> str:
    amount = format_money(amount_minor, currency)
    if isinstance(error, stripe.APIConnectionError):
        return f"Stripe could not be reached to {what} {amount}; try again later."
    status = f"HTTP {error.http_status}" if error.http_status else "no answer"
    return f"Stripe refused the {what} for {amount} ({status}): {error.user_message or error}"[:300]


def verify_event(raw_body: bytes, signature_header: str | None, webhook_secret: str) -> None:
    """Raise BadSignature unless `Stripe-Signature` signs these exact bytes with the secret, within the tolerance."""
    if not signature_header or not webhook_secret:
        raise BadSignature("Stripe-Signature missing or webhook secret not set")
    try:
        stripe.WebhookSignature.verify_header(
            raw_body.decode("utf-8"), signature_header, webhook_secret, SIGNATURE_TOLERANCE_SECONDS
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as error:
        raise BadSignature(str(error)) from None


def order_reference(body: dict) -> str:
    """The order a session event is about: the metadata's order_reference the request set ('' when none).

    Not client_reference_id: that is the payment request's own reference (ABCD2345P1, one per attempt), which
    names no order.
    """
    session = (body.get("data") or {}).get("object") or {}
    metadata = session.get("metadata") if isinstance(session.get("metadata"), dict) else {}
    return str(metadata.get("order_reference") or "")


def read_event(body: dict) -> ProviderEvent:
    """A verified event body as a ProviderEvent: "paid" for a paid session, "ignored" for anything else."""
    session = (body.get("data") or {}).get("object") or {}
    paid = body.get("type") in PAID_EVENT_TYPES and session.get("payment_status") == "paid"
    amount = session.get("amount_total")
    return ProviderEvent(
        provider=NAME,
        event_id=str(body.get("id") or ""),
        kind="paid" if paid and isinstance(amount, int) else "ignored",
        provider_reference=str(session.get("id") or ""),
        amount_minor=amount if isinstance(amount, int) else 0,
        currency=str(session.get("currency") or "").upper(),
        payment_reference=str(session.get("payment_intent") or ""),
    )


def _build(settings) -> StripeProvider:
    """The shop's Stripe, from the environment's keys (secrets never live in the database)."""
    if not current_app.config.get("STRIPE_SECRET_KEY"):
        raise ProviderNotConfigured("Stripe is not set up: STRIPE_SECRET_KEY is empty.")
    return StripeProvider.from_config()


def _check_settings(values: dict, settings, chosen: bool) -> dict[str, str]:
    if chosen and not current_app.config.get("STRIPE_SECRET_KEY"):
        return {"payment_provider": "Stripe needs STRIPE_SECRET_KEY (and STRIPE_WEBHOOK_SECRET) in the environment."}
    return {}


register_provider(NAME, ProviderEntry(label="Stripe Checkout (cards)", build=_build, check_settings=_check_settings))
