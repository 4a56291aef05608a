"""M-Pesa Express (STK Push) through Safaricom's Daraja API: a PIN prompt on the customer's phone, and the
unsigned callback Daraja sends once the prompt is answered.

`MpesaProvider.request` pushes a prompt for the amount asked, in whole shillings, and only to the order's number
when its customer has written to the shop from it (`chatting_number`): a prompt on the phone of someone who
never chatted (a number typed on a form) is refused with the reason for staff. The callback
(`/webhooks/payments/mpesa/<MPESA_CALLBACK_SECRET>`) carries no signature, so `read_event` trusts nothing in it
until Daraja's own STK query for its CheckoutRequestID answers ResultCode 0; the amount and receipt number then
come from the callback. Daraja has no well-kept Python SDK: plain requests, with the OAuth token kept until it
expires. Configuration: MPESA_CONSUMER_KEY, MPESA_CONSUMER_SECRET, MPESA_SHORTCODE, MPESA_PASSKEY,
MPESA_CALLBACK_SECRET, MPESA_API_BASE (a fake in tests), MPESA_TIMEOUT, and PUBLIC_BASE_URL for the callback.
"""

import base64
import logging
import re
import threading
import time
from datetime import datetime, timedelta, timezone

import requests
from flask import current_app
from sqlalchemy import or_, select

from checkout.extensions import db
from checkout.models.messaging import Message
from checkout.models.orders import Order
from checkout.models.payments import PaymentRequest
from checkout.money import format_money, minor_digits, to_minor
from checkout.payments.providers import (
    PaymentLink,
    ProviderEntry,
    ProviderEvent,
    ProviderNotConfigured,
    ProviderUnavailable,
    register_provider,
)
from checkout.phones import display_phone, phone_forms, whatsapp_digits
from checkout.web.urls import external_url

log = logging.getLogger(__name__)

NAME = "mpesa"
CURRENCY = "KES"
TOKEN_PATH = "/oauth/v1/generate?grant_type=client_credentials"
STK_PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
STK_QUERY_PATH = "/mpesa/stkpushquery/v1/query"
CALLBACK_ENDPOINT = "payment_webhooks.receive_mpesa"
TRANSACTION_TYPE = "CustomerPayBillOnline"
ACCOUNT_REFERENCE_MAX = 12  # Daraja's limit; shown on the customer's prompt
TRANSACTION_DESC = "Order payment"  # at most 13 characters
NAIROBI = timezone(timedelta(hours=3), "EAT")  # the Timestamp is Kenyan time; Kenya keeps no daylight saving
KENYAN_MOBILE = re.compile(r"\+254[17]\d{8}")  # Safaricom's 07xx and 01xx mobiles, as E.164
TOKEN_MARGIN_SECONDS = 60  # a token this close to expiry is renewed first: it must outlive the call it is for
RESULT_PAID = "0"
ERROR_INVALID_TOKEN = "404.001.03"
ERROR_STILL_PROCESSING = "500.001.1001"  # the query's answer while the customer has not answered the prompt
CALLBACK_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,128}")  # one path segment, long enough not to be guessed
REQUIRED_CONFIG = ("MPESA_CONSUMER_KEY", "MPESA_CONSUMER_SECRET", "MPESA_SHORTCODE", "MPESA_PASSKEY")
ERROR_MAX = 300


class PromptNotSent(ValueError):
    """Why no M-Pesa prompt may go to this order's customer, in words for staff (Daraja was not asked)."""


class StillProcessing(ProviderUnavailable):
    """Daraja has no result for this prompt yet: the stored callback is read again later."""


# The OAuth token, per API base and consumer key: (token, monotonic time it stops being used).
_tokens: dict[tuple[str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()


def forget_tokens() -> None:
    """Drop every cached token (a refused token, or a test starting afresh)."""
    with _tokens_lock:
        _tokens.clear()


class MpesaProvider:
    name = NAME
    confirms_automatically = True

    def __init__(
        self,
        *,
        consumer_key: str,
        consumer_secret: str,
        shortcode: str,
        passkey: str,
        api_base: str,
        timeout: float,
        callback_url: str,
    ):
        self.consumer_key, self.consumer_secret = consumer_key, consumer_secret
        self.shortcode, self.passkey = shortcode, passkey
        self.api_base, self.timeout, self.callback_url = api_base.rstrip("/"), timeout, callback_url

    @classmethod
    def from_config(cls) -> "MpesaProvider":
        problem = configuration_problem()
        if problem:
            raise ProviderNotConfigured(problem)
        config = current_app.config
        return cls(
            consumer_key=config["MPESA_CONSUMER_KEY"],
            consumer_secret=config["MPESA_CONSUMER_SECRET"],
            shortcode=config["MPESA_SHORTCODE"],
            passkey=config["MPESA_PASSKEY"],
            api_base=config["MPESA_API_BASE"],
            timeout=config["MPESA_TIMEOUT"],
            callback_url=callback_url(),
        )

    # -- asking -------------------------------------------------------------------------------------------

    def request(self, order: Order, amount_minor: int, currency: str, *, reference: str) -> PaymentLink:
        """Push the prompt for `amount_minor`; PromptNotSent when it may not go, ProviderUnavailable when Daraja fails.

        Daraja has no idempotency key: a push whose answer was lost may have reached the phone, and asking again
        sends a second prompt (the customer can pay only one of them before they expire).
        """
        shillings = whole_shillings(amount_minor, currency)
        phone = chatting_number(order)
        if phone is None:
            raise PromptNotSent(
                f"the customer has not written from this number yet ({display_phone(order.customer_phone)}): "
                "the M-Pesa prompt goes only to a number that has chatted with the shop"
            )
        if not KENYAN_MOBILE.fullmatch(phone):
            raise PromptNotSent(f"M-Pesa prompts go to Kenyan mobile numbers only, not {display_phone(phone)}")
        digits = whatsapp_digits(phone)
        timestamp = daraja_timestamp()
        body = {
            "BusinessShortCode": self.shortcode,
            "Password": daraja_password(self.shortcode, self.passkey, timestamp),
            "Timestamp": timestamp,
            "TransactionType": TRANSACTION_TYPE,
            "Amount": shillings,
            "PartyA": digits,
            "PartyB": self.shortcode,
            "PhoneNumber": digits,
            "CallBackURL": self.callback_url,
            "AccountReference": account_reference(order),
            "TransactionDesc": TRANSACTION_DESC,
        }
        amount = format_money(amount_minor, currency)
        answer = self._post(STK_PUSH_PATH, body, f"send the M-Pesa prompt for {amount}")
        checkout_request_id = str(answer.get("CheckoutRequestID") or "")
        if str(answer.get("ResponseCode")) != "0" or not checkout_request_id:
            said = answer.get("ResponseDescription") or answer.get("errorMessage") or "no reason given"
            raise ProviderUnavailable(f"M-Pesa did not accept the prompt for {amount}: {said}"[:ERROR_MAX])
        return PaymentLink(NAME, checkout_request_id, "", "", None)

    def query(self, checkout_request_id: str) -> dict:
        """Daraja's own record of a prompt (ResultCode, ResultDesc); StillProcessing while it has none."""
        timestamp = daraja_timestamp()
        body = {
            "BusinessShortCode": self.shortcode,
            "Password": daraja_password(self.shortcode, self.passkey, timestamp),
            "Timestamp": timestamp,
            "CheckoutRequestID": checkout_request_id,
        }
        return self._post(STK_QUERY_PATH, body, f"check M-Pesa prompt {checkout_request_id}")

    # -- HTTP -----------------------------------------------------------------------------------------------

    def _post(self, path: str, body: dict, what: str) -> dict:
        """POST with the bearer token; a token Daraja no longer takes is renewed once."""
        for attempt in (1, 2):
            token = self._token(what)
            try:
                response = requests.post(
                    self.api_base + path,
                    json=body,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=self.timeout,
                )
            except requests.RequestException as error:
                raise ProviderUnavailable(f"M-Pesa could not be reached to {what}; try again later.") from error
            answer = _json(response)
            if response.ok:
                return answer
            code = str(answer.get("errorCode") or "")
            if (code == ERROR_INVALID_TOKEN or response.status_code == 401) and attempt == 1:
                self._drop_token()
                continue
            if code == ERROR_STILL_PROCESSING:
                raise StillProcessing(f"M-Pesa has no result yet: could not {what}")
            said = answer.get("errorMessage") or response.reason or "no reason given"
            raise ProviderUnavailable(f"M-Pesa refused to {what} (HTTP {response.status_code}): {said}"[:ERROR_MAX])
        raise AssertionError("unreachable")  # pragma: no cover

    def _token(self, what: str) -> str:
        """The OAuth client-credentials token, fetched when there is none or it is about to expire."""
        key = (self.api_base, self.consumer_key)
        with _tokens_lock:
            cached = _tokens.get(key)
            if cached and cached[1] > time.monotonic():
                return cached[0]
            try:
                response = requests.get(
                    self.api_base + TOKEN_PATH,
                    auth=(self.consumer_key, self.consumer_secret),
                    timeout=self.timeout,
                )
            except requests.RequestException as error:
                raise ProviderUnavailable(f"M-Pesa could not be reached to {what}; try again later.") from error
            answer = _json(response)
            token = answer.get("access_token")
            if not response.ok or not isinstance(token, str) or not token:
                said = answer.get("errorMessage") or response.reason or "no token in the answer"
                raise ProviderUnavailable(
                    f"M-Pesa refused the shop's keys (HTTP {response.status_code}): {said}. "
                    "Check MPESA_CONSUMER_KEY, MPESA_CONSUMER_SECRET and MPESA_API_BASE."
                )
            try:
                lifetime = float(answer.get("expires_in") or 0)  # Daraja sends it as text: "3599"
            except (TypeError, ValueError):
                lifetime = 0
            _tokens[key] = (token, time.monotonic() + max(0.0, lifetime - TOKEN_MARGIN_SECONDS))
            return token

    def _drop_token(self) -> None:
        with _tokens_lock:
            _tokens.pop((self.api_base, self.consumer_key), None)


def _json(response: requests.Response) -> dict:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


# -- the request's fields ----------------------------------------------------------------------------------------


def daraja_timestamp(now: datetime | None = None) -> str:
    """YYYYMMDDHHmmss in Nairobi time, as Daraja reads it."""
    return (now or datetime.now(NAIROBI)).astimezone(NAIROBI).strftime("%Y%m%d%H%M%S")


def daraja_password(shortcode: str, passkey: str, timestamp: str) -> str:
    """base64(shortcode + passkey + timestamp): Daraja's Password field."""
    return base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode("ascii")


def account_reference(order: Order) -> str:
    """The order reference as the prompt shows it: letters and digits only, at most 12 (ABCD2345)."""
    return re.sub(r"[^A-Za-z0-9]", "", order.reference)[:ACCOUNT_REFERENCE_MAX]


def whole_shillings(amount_minor: int, currency: str) -> int:
    """The amount in whole shillings, or PromptNotSent: M-Pesa takes shillings only, and no cents."""
    if currency != CURRENCY:
        raise PromptNotSent(f"M-Pesa takes Kenyan shillings (KES) only, and this order is in {currency}")
    unit = 10 ** minor_digits(CURRENCY)
    if amount_minor % unit:
        raise PromptNotSent(
            f"M-Pesa takes whole shillings only, and {format_money(amount_minor, currency)} has cents: "
            "change the order's balance to whole shillings, or record the payment by hand"
        )
    return amount_minor // unit


def callback_url() -> str:
    return external_url(CALLBACK_ENDPOINT, secret=current_app.config["MPESA_CALLBACK_SECRET"])


def chatting_number(order: Order) -> str | None:
    """The order's number when its customer has proven it is theirs by writing from it; None otherwise.

    WhatsApp itself is the proof: the handshake (the order's reference sent from its number, which sets
    phone_verified_at), an inbound message from that number about this order (the chat it was placed in, an
    "I paid"), or any inbound message from it since the order was placed. A number typed on a form proves
    nothing: a prompt to it would ask a stranger for money.
    """
    if not order.customer_phone:
        return None
    if order.phone_verified_at is not None:
        return order.customer_phone
    written = select(Message.id).where(
        Message.direction == "in",
        Message.phone.in_(phone_forms(order.customer_phone)),
        # WhatsApp stamps a message in whole seconds: one written in the second the order was placed counts.
        or_(Message.order_id == order.id, Message.created_at >= order.created_at.replace(microsecond=0)),
    )
    return order.customer_phone if db.session.scalar(written.limit(1)) is not None else None


# -- the callback -------------------------------------------------------------------------------------------------


def _stk_callback(body) -> dict:
    if not isinstance(body, dict):
        return {}
    inner = body.get("Body")
    callback = inner.get("stkCallback") if isinstance(inner, dict) else None
    return callback if isinstance(callback, dict) else {}


def checkout_request_id(body) -> str:
    """The prompt a callback is about ('' when the body is not an STK callback): the dedupe key."""
    value = _stk_callback(body).get("CheckoutRequestID")
    return value if isinstance(value, str) and 0 < len(value) <= 120 else ""


def order_reference(body) -> str:
    """The order whose payment request pushed this prompt ('' when none of ours did)."""
    query = (
        select(Order.reference)
        .join(PaymentRequest, PaymentRequest.order_id == Order.id)
        .where(PaymentRequest.provider == NAME, PaymentRequest.provider_reference == checkout_request_id(body))
    )
    return db.session.scalar(query.limit(1)) or ""


def _metadata(callback: dict) -> dict:
    """CallbackMetadata's Items as {Name: Value} ({} when the callback carries none or garbles it)."""
    metadata = callback.get("CallbackMetadata")
    items = metadata.get("Item") if isinstance(metadata, dict) else None
    if not isinstance(items, list):
        return {}
    return {
        item["Name"]: item.get("Value")
        for item in items
        if isinstance(item, dict) and isinstance(item.get("Name"), str)
    }


def _amount_minor(value) -> int | None:
    """The callback's Amount (whole shillings, as a number or text) in minor units; None when unreadable."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        amount = to_minor(str(value).strip(), CURRENCY)
    except ValueError:
        return None
    return amount if amount > 0 else None


def read_event(body) -> ProviderEvent:
    """A stored callback as a ProviderEvent, after asking Daraja about its prompt (the callback is unsigned).

    Only Daraja's query answering ResultCode 0 makes it "paid"; the callback must then say paid too, with its
    amount and receipt number. When the two disagree staff are told ("forged", "unconfirmed") and nothing is
    recorded. Raises ProviderUnavailable (StillProcessing included) when Daraja can't say yet: the stored
    callback stays unprocessed, to be read again.
    """
    callback = _stk_callback(body)
    checkout_id = checkout_request_id(body)

    def event(kind: str, note: str = "", amount_minor: int = 0, receipt: str = "") -> ProviderEvent:
        return ProviderEvent(NAME, checkout_id, kind, checkout_id, amount_minor, CURRENCY, receipt, note[:ERROR_MAX])

    if not checkout_id or not order_reference(body):
        return event("failed", "no payment request of this shop pushed this prompt")
    answer = MpesaProvider.from_config().query(checkout_id)
    confirmed = str(answer.get("ResultCode", "")).strip() == RESULT_PAID
    said_paid = str(callback.get("ResultCode", "")).strip() == RESULT_PAID
    metadata = _metadata(callback)
    amount = _amount_minor(metadata.get("Amount"))
    receipt = str(metadata.get("MpesaReceiptNumber") or "").strip()
    daraja_says = f"{answer.get('ResultDesc') or 'no description'} (ResultCode {answer.get('ResultCode', 'none')})"
    if confirmed and said_paid and amount is not None and receipt:
        return event("paid", amount_minor=amount, receipt=receipt)
    if confirmed:
        return event(
            "unconfirmed",
            f"M-Pesa says prompt {checkout_id} was paid, but its callback did not say how much: check the "
            "M-Pesa statement and record the payment by hand",
        )
    if said_paid:
        log.warning("M-Pesa callback for %s says paid; Daraja says %s", checkout_id, daraja_says)
        return event(
            "forged",
            f"a callback said prompt {checkout_id} was paid, but M-Pesa's own record says {daraja_says}: "
            "nothing recorded",
        )
    return event("failed", daraja_says)


# -- the shop's settings ------------------------------------------------------------------------------------------


def configuration_problem() -> str:
    """What is missing from the environment for M-Pesa ('' when nothing), in words for the owner."""
    config = current_app.config
    missing = [name for name in REQUIRED_CONFIG if not config.get(name)]
    if missing:
        return f"M-Pesa is not set up: {', '.join(missing)} empty in the environment."
    if not CALLBACK_SECRET_PATTERN.fullmatch(config.get("MPESA_CALLBACK_SECRET") or ""):
        return "M-Pesa needs MPESA_CALLBACK_SECRET: 16 to 128 random letters, digits, - or _."
    if not config.get("PUBLIC_BASE_URL"):
        return "M-Pesa needs PUBLIC_BASE_URL: Safaricom calls the shop back at that address."
    return ""


def _build(settings) -> MpesaProvider:
    """The shop's M-Pesa, from the environment's keys (secrets never live in the database)."""
    return MpesaProvider.from_config()


def _check_settings(values: dict, settings, chosen: bool) -> dict[str, str]:
    if not chosen:
        return {}
    problem = configuration_problem()
    if problem:
        return {"payment_provider": problem}
    if settings.currency != CURRENCY:
        return {"payment_provider": "M-Pesa takes Kenyan shillings only: the shop's currency must be KES."}
    return {}


register_provider(NAME, ProviderEntry(label="M-Pesa Express (STK Push)", build=_build, check_settings=_check_settings))
