"""Razorpay Payment Links: a hosted payment page per request, refunds, and the signed events Razorpay's webhook sends.

`RazorpayProvider.request` creates a Standard Payment Link for the amount asked (minor units: paise for rupees), with
the payment request's reference as `reference_id` (Razorpay refuses a second link with the same one), the order
reference in the notes (what the webhook reads back) and the order's status page as the `callback_url`. Razorpay's
own SMS, e-mail and reminders are off: the link goes to the customer in WhatsApp. No customer details are sent:
Razorpay no longer fills them in on its page, and without its notifications they do nothing.

`verify_event` checks `X-Razorpay-Signature` (hex HMAC-SHA256 of the raw body, keyed with the webhook secret) and
`read_event` turns a body into a ProviderEvent. The event's id is not in the body but in the `x-razorpay-event-id`
header (the same on every resend), which the webhook view stores it under. That header is not signed: a signed body
sent again under another id is stored again, and then found to be a payment already recorded (events.py).

Configuration: RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET, RAZORPAY_WEBHOOK_SECRET, RAZORPAY_API_BASE (a fake in
tests), RAZORPAY_TIMEOUT.
"""

import logging
import re
from datetime import UTC, datetime

import razorpay
import requests
from flask import current_app
from razorpay.errors import BadRequestError, GatewayError, ServerError, SignatureVerificationError

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

log = logging.getLogger(__name__)

NAME = "razorpay"
PAID_EVENT_TYPES = ("payment_link.paid",)
EVENT_ID_HEADER = "x-razorpay-event-id"
SIGNATURE_HEADER = "X-Razorpay-Signature"
REFUND_IDEMPOTENCY_HEADER = "X-Refund-Idempotency"
# Razorpay's words when a reference_id was used before: the answer to an earlier attempt was lost, not the link.
REFERENCE_TAKEN = "reference id already attempted"
REFERENCE_MAX = 40  # Razorpay's limit for reference_id (and a refund's receipt)
HEX_SIGNATURE = re.compile(r"[0-9a-f]{64}")
# What the SDK lets through: its own errors for Razorpay's error answers, requests' for the network (and for an
# error page that is not JSON, which it tries to read as JSON).
FAILURES = (BadRequestError, GatewayError, ServerError, requests.RequestException, ValueError)


class BadSignature(ValueError):
    """The webhook body is not Razorpay's: signature missing or wrong."""


class RazorpayProvider:
    name = NAME
    confirms_automatically = True
    supports_refunds = True

    def __init__(self, key_id: str, key_secret: str, api_base: str, timeout: float):
        # The SDK's own retries stay off (its default): it would sleep in the request, and the sweep asks again.
        self.client = razorpay.Client(auth=(key_id, key_secret), base_url=api_base)
        self.timeout = timeout

    @classmethod
    def from_config(cls) -> "RazorpayProvider":
        config = current_app.config
        if not (config["RAZORPAY_KEY_ID"] and config["RAZORPAY_KEY_SECRET"]):
            raise ProviderUnavailable("Razorpay is not set up: RAZORPAY_KEY_ID or RAZORPAY_KEY_SECRET is empty.")
        return cls(
            config["RAZORPAY_KEY_ID"],
            config["RAZORPAY_KEY_SECRET"],
            config["RAZORPAY_API_BASE"],
            config["RAZORPAY_TIMEOUT"],
        )

    def request(self, order, amount_minor: int, currency: str, *, reference: str) -> PaymentLink:
        """A Payment Link for `amount_minor` of `currency`; ProviderUnavailable when Razorpay can't make one.

        Asked again after a lost answer, Razorpay refuses the reused reference_id: the link it made then is
        fetched and used, so the customer never gets two links for one request.
        """
        params = {
            "amount": amount_minor,
            "currency": currency.upper(),
            "accept_partial": False,
            "reference_id": reference[:REFERENCE_MAX],
            "description": f"Order {order.reference}",
            "notes": {"order_reference": order.reference},
            "notify": {"sms": False, "email": False},
            "reminder_enable": False,
            "callback_url": status_url(order),
            "callback_method": "get",
        }
        try:
            try:
                link = self.client.payment_link.create(params, timeout=self.timeout)
            except BadRequestError as error:
                if REFERENCE_TAKEN not in str(error).lower():
                    raise
                link = self._earlier_link(params)
        except FAILURES as error:
            raise ProviderUnavailable(_explain(error, "request", amount_minor, currency)) from error
        if not isinstance(link, dict) or not link.get("id") or not link.get("short_url"):
            raise ProviderUnavailable("Razorpay answered without a payment link: try again later.")
        expires = datetime.fromtimestamp(link["expire_by"], UTC) if link.get("expire_by") else None
        return PaymentLink(NAME, link["id"], link["short_url"], link["short_url"], expires)

    def _earlier_link(self, params: dict) -> dict:
        """The link an earlier attempt made with this reference_id, if it still asks for the same money."""
        found = self.client.payment_link.all({"reference_id": params["reference_id"]}, timeout=self.timeout)
        links = found.get("payment_links") if isinstance(found, dict) else None
        for link in links if isinstance(links, list) else []:
            same = (link.get("amount"), str(link.get("currency") or "").upper()) == (
                params["amount"],
                params["currency"],
            )
            if link.get("reference_id") == params["reference_id"] and same and link.get("status") == "created":
                log.info("Razorpay link %s reused for reference %s", link.get("id"), params["reference_id"])
                return link
        raise BadRequestError(f"a link with reference {params['reference_id']} exists but cannot be paid any more")

    def refund(self, payment_reference: str, amount_minor: int, currency: str, *, reference: str) -> str:
        """Refund `amount_minor` of Razorpay payment `payment_reference`; Razorpay's refund id.

        The idempotency key (from our `reference`) makes a retry after a lost answer return the refund already
        made, never a second one. ProviderUnavailable, in words for staff, when Razorpay refuses or can't be reached.
        """
        data = {
            "amount": amount_minor,
            "speed": "normal",
            "receipt": reference[:REFERENCE_MAX],
            "notes": {"chatout_reference": reference},
        }
        headers = {REFUND_IDEMPOTENCY_HEADER: _idempotency_key("chatout-refund", reference)}
        try:
            refund = self.client.payment.refund(payment_reference, data, headers=headers, timeout=self.timeout)
        except FAILURES as error:
            raise ProviderUnavailable(_explain(error, "refund", amount_minor, currency)) from error
        if not isinstance(refund, dict) or not refund.get("id"):
            raise ProviderUnavailable("Razorpay answered the refund without a refund id: check the dashboard.")
        return str(refund["id"])


def _idempotency_key(prefix: str, reference: str) -> str:
    """Razorpay's key: at least 10 of letters, digits, '-' and '_'."""
    return f"{prefix}-{re.sub(r'[^A-Za-z0-9_-]', '-', reference)}"[:100]


def _explain(error: Exception, what: str, amount_minor: int, currency: str) -> str:
    """Why Razorpay could not do it, in words for staff (the SDK's errors carry Razorpay's description)."""
    amount = format_money(amount_minor, currency)
    if isinstance(error, requests.Timeout | requests.ConnectionError):
        return f"Razorpay could not be reached to {what} {amount}; try again later."
    if isinstance(error, BadRequestError):
        return f"Razorpay refused the {what} for {amount}: {error}"[:300]
    if isinstance(error, ServerError | GatewayError):
        return f"Razorpay failed the {what} for {amount} (server error: {str(error) or 'no description'}); try again later."[
            :300
        ]
    return f"Razorpay gave no usable answer to the {what} for {amount} ({type(error).__name__}); try again later."


def verify_event(raw_body: bytes, signature_header: str | None, webhook_secret: str) -> None:
    """Raise BadSignature unless `X-Razorpay-Signature` is the HMAC-SHA256 of these exact bytes with the secret."""
    if not signature_header or not webhook_secret:
        raise BadSignature("X-Razorpay-Signature missing or webhook secret not set")
    if not HEX_SIGNATURE.fullmatch(signature_header):  # the SDK's comparison raises TypeError on non-ASCII
        raise BadSignature("X-Razorpay-Signature is not a hex HMAC-SHA256")
    try:
        razorpay.Utility().verify_webhook_signature(raw_body.decode("utf-8"), signature_header, webhook_secret)
    except (SignatureVerificationError, UnicodeDecodeError) as error:
        raise BadSignature(str(error)) from None


def _entity(body: dict, name: str) -> dict:
    """`payload.<name>.entity` of an event body ({} when missing or not an object)."""
    payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
    wrapper = payload.get(name) if isinstance(payload.get(name), dict) else {}
    entity = wrapper.get("entity")
    return entity if isinstance(entity, dict) else {}


def order_reference(body: dict) -> str:
    """The order an event is about: the link's notes' order_reference ('' when none).

    Not reference_id: that is the payment request's own reference (ABCD2345P1, one per attempt).
    """
    notes = _entity(body, "payment_link").get("notes")
    return str(notes.get("order_reference") or "") if isinstance(notes, dict) else ""


def read_event(body: dict) -> ProviderEvent:
    """A verified event body as a ProviderEvent: "paid" for a paid link's captured payment, else "ignored".

    The money is the payment's (what was taken from the customer), not the link's asking price. The event id is
    not in the body (it is the x-razorpay-event-id header the event was stored under).
    """
    link, payment = _entity(body, "payment_link"), _entity(body, "payment")
    amount = payment.get("amount")
    paid = (
        body.get("event") in PAID_EVENT_TYPES
        and link.get("status") == "paid"
        and payment.get("status") == "captured"
        and type(amount) is int
        and amount > 0
    )
    return ProviderEvent(
        provider=NAME,
        event_id="",
        kind="paid" if paid else "ignored",
        provider_reference=str(link.get("id") or ""),
        amount_minor=amount if paid else 0,
        currency=str(payment.get("currency") or "").upper(),
        payment_reference=str(payment.get("id") or ""),
    )


def _build(settings) -> RazorpayProvider:
    """The shop's Razorpay, from the environment's keys (secrets never live in the database)."""
    config = current_app.config
    if not (config.get("RAZORPAY_KEY_ID") and config.get("RAZORPAY_KEY_SECRET")):
        raise ProviderNotConfigured("Razorpay is not set up: RAZORPAY_KEY_ID or RAZORPAY_KEY_SECRET is empty.")
    return RazorpayProvider.from_config()


def _check_settings(values: dict, settings, chosen: bool) -> dict[str, str]:
    """Razorpay has no fields in the database: chosen, it needs its keys in the environment."""
    if not chosen:
        return {}
    config = current_app.config
    if not (config.get("RAZORPAY_KEY_ID") and config.get("RAZORPAY_KEY_SECRET")):
        return {
            "payment_provider": "Razorpay needs RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET (and RAZORPAY_WEBHOOK_SECRET) "
            "in the environment."
        }
    return {}


register_provider(
    NAME, ProviderEntry(label="Razorpay Payment Links (UPI, cards)", build=_build, check_settings=_check_settings)
)
