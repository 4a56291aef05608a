"""Payment providers: the one interface every provider module keeps, the registry, and the shop's setting.

A provider turns "this order owes this much" into a link or code the customer pays with (PaymentLink); a
provider with webhooks later reports what happened (ProviderEvent). Which provider the shop uses and when
a request goes out are store settings, checked here and nowhere else (check_payment_settings).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from checkout.models.orders import Order
from checkout.models.store import StoreSettings, get_store_settings, save_store_settings
from checkout.orders.payment_states import SETTLED_STATES

# When the shop asks for payment: when the order is placed, when staff confirm it, or only when staff
# press "Request payment" on the order page. Cash on delivery is never asked for in advance.
REQUEST_AT_ORDER_CREATION = "order_created"
REQUEST_WHEN_STAFF_CONFIRM = "staff_confirmed"
REQUEST_ON_DEMAND = "on_demand"
REQUEST_WHEN_CHOICES = {
    REQUEST_AT_ORDER_CREATION: "When the order is placed",
    REQUEST_WHEN_STAFF_CONFIRM: "When staff confirm the order",
    REQUEST_ON_DEMAND: "Only when staff press “Request payment”",
}
NEVER_REQUESTED_METHODS = ("cod",)
# Providers that push the request to the customer's phone (M-Pesa's STK prompt): only to a number the customer
# has written from, so a refusal for that reason is asked again when they write (requests.py).
PUSHED_TO_THE_PHONE = ("mpesa",)

# What happens to an order whose open request is still unpaid past the shop's unpaid limit.
UNPAID_FLAG = "flag"
UNPAID_CANCEL = "cancel"
UNPAID_ACTIONS = {
    UNPAID_FLAG: "Flag the order for staff",
    UNPAID_CANCEL: "Cancel the order and release its stock",
}
HOURS_MAX = 24 * 30  # a month: the reminder delay and the unpaid limit are whole hours, 0 (off) to this


@dataclass(frozen=True)
class PaymentLink:
    provider: str  # "upi", "pix", "razorpay", "stripe", "mpesa"
    provider_reference: str  # the provider's id for this request (Stripe Checkout Session id, UPI tr=…)
    url: str  # what the customer opens (https:// for gateways; upi://pay?... for UPI; "" for Pix)
    qr_payload: str  # text a QR code encodes ("" when none)
    expires_at: datetime | None


@dataclass(frozen=True)
class ProviderEvent:  # one verified event from a provider's webhook
    provider: str
    event_id: str  # the provider's unique id: dedupe key
    # "paid" | "failed" (not paid: cancelled, timed out) | "ignored"; for a provider whose events are unsigned
    # and checked back with it (M-Pesa): "forged" (said paid, the provider says not) or "unconfirmed" (the
    # provider says paid, the event does not say how much)
    kind: str
    provider_reference: str  # matches PaymentLink.provider_reference
    amount_minor: int  # integer minor units, never float
    currency: str  # ISO 4217, upper case
    payment_reference: str  # the provider's payment/charge id, recorded on the Payment row
    note: str = ""  # what staff read about an event that is not a payment (the provider's own words)


class PaymentProvider(Protocol):
    name: str
    confirms_automatically: bool  # False for UPI and Pix: staff confirm
    supports_refunds: bool  # False: the shop gives money back itself and staff record it

    def request(self, order: Order, amount_minor: int, currency: str, *, reference: str) -> PaymentLink: ...

    def refund(self, payment_reference: str, amount_minor: int, currency: str, *, reference: str) -> str:
        """Give `amount_minor` back from the provider's payment `payment_reference`; the provider's refund id.

        `reference` names this refund for the provider's idempotency: the same reference again finds the same
        refund. Raises ProviderUnavailable (with words for staff) when the provider does not refund.
        """
        ...


class UnknownProvider(LookupError):
    def __init__(self, name: str):
        self.name = name
        super().__init__(f"No payment provider called {name!r}")


class ProviderNotConfigured(ValueError):
    """The shop chose a provider but its settings are missing or wrong: nothing can be requested."""


class ProviderUnavailable(RuntimeError):
    """The provider could not make the link right now (down, timed out, refused): ask again later."""


class InvalidPaymentSettings(Exception):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in errors.items()))


@dataclass(frozen=True)
class ProviderEntry:
    label: str
    build: Callable[[StoreSettings], PaymentProvider]  # raises ProviderNotConfigured
    # (values, settings, chosen) → {field: problem}; cleans its own fields in `values`; all required if chosen
    check_settings: Callable[[dict, StoreSettings, bool], dict[str, str]]


_REGISTRY: dict[str, ProviderEntry] = {}


def register_provider(name: str, entry: ProviderEntry) -> None:
    """Called once by each provider module (imported by checkout/payments/__init__.py)."""
    _REGISTRY[name] = entry


def provider_choices() -> dict[str, str]:
    return {name: entry.label for name, entry in sorted(_REGISTRY.items())}


def provider_named(name: str, settings: StoreSettings | None = None) -> PaymentProvider:
    """The provider `name`, set up from the shop's settings. Raises UnknownProvider or ProviderNotConfigured."""
    entry = _REGISTRY.get(name)
    if entry is None:
        raise UnknownProvider(name)
    return entry.build(settings or get_store_settings())


def shop_provider(settings: StoreSettings | None = None) -> PaymentProvider | None:
    """The provider the shop chose, or None when it asks for no payments."""
    settings = settings or get_store_settings()
    return provider_named(settings.payment_provider, settings) if settings.payment_provider else None


def is_requested_for(order: Order, trigger: str, settings: StoreSettings) -> bool:
    """Whether `trigger` should ask this order's customer to pay: the one rule of when a request goes out."""
    if not settings.payment_provider or order.payment_method in NEVER_REQUESTED_METHODS:
        return False
    if order.status == "cancelled" or order.payment_status in SETTLED_STATES:
        return False
    return trigger == REQUEST_ON_DEMAND or trigger == settings.payment_request_when


PAYMENT_SETTING_FIELDS = (
    "payment_provider",
    "payment_request_when",
    "upi_payee_address",
    "upi_payee_name",
    "pix_key",
    "pix_merchant_name",
    "pix_merchant_city",
    "payment_reminder_after_hours",
    "unpaid_limit_hours",
    "unpaid_action",
)
HOURS_FIELDS = ("payment_reminder_after_hours", "unpaid_limit_hours")


def payment_setting_values(settings: StoreSettings) -> dict[str, str]:
    """The payment settings as the form shows them (0 hours shows as 0, not as an empty field)."""
    return {
        field: str(getattr(settings, field) if field in HOURS_FIELDS else getattr(settings, field) or "")
        for field in PAYMENT_SETTING_FIELDS
    }


def check_payment_settings(submitted: dict, settings: StoreSettings) -> dict:
    """The payment settings to store, cleaned, from what the owner typed; InvalidPaymentSettings lists every problem.

    Every field that is filled in must be right, whichever provider it belongs to; the chosen provider's
    fields must also be complete. Each provider module checks (and cleans, in `values`) its own fields.
    """
    values = {field: _text(submitted.get(field, getattr(settings, field))) for field in PAYMENT_SETTING_FIELDS}
    errors: dict[str, str] = {}
    provider = values["payment_provider"]
    if provider and provider not in _REGISTRY:
        errors["payment_provider"] = "Choose one of the listed payment providers."
    if values["payment_request_when"] not in REQUEST_WHEN_CHOICES:
        errors["payment_request_when"] = "Choose when customers are asked to pay."
    for name, entry in _REGISTRY.items():
        errors.update(entry.check_settings(values, settings, name == provider))
    errors.update(_check_reminder_settings(values))
    if errors:
        raise InvalidPaymentSettings(errors)
    return values


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _whole_hours(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and int(text) <= HOURS_MAX else None


def _check_reminder_settings(values: dict) -> dict[str, str]:
    """The reminder delay, the unpaid limit (whole hours, 0 = off) and what the limit does; cleaned in `values`."""
    errors: dict[str, str] = {}
    labels = {"payment_reminder_after_hours": "The reminder delay", "unpaid_limit_hours": "The unpaid limit"}
    for field, label in labels.items():
        hours = _whole_hours(values[field])
        if hours is None:
            errors[field] = f"{label} is a whole number of hours from 0 (off) to {HOURS_MAX}."
        else:
            values[field] = hours
    if values["unpaid_action"] not in UNPAID_ACTIONS:
        errors["unpaid_action"] = "Choose what happens to an order unpaid past the limit."
    reminder, limit = values["payment_reminder_after_hours"], values["unpaid_limit_hours"]
    if not errors and reminder and limit and limit <= reminder:
        errors["unpaid_limit_hours"] = (
            f"The unpaid limit must be longer than the reminder delay ({reminder} hours), "
            "or the customer is never reminded before it."
        )
    return errors


def save_payment_settings(submitted: dict) -> StoreSettings:
    """Check what the owner typed and store it in one transaction; InvalidPaymentSettings writes nothing."""
    return save_store_settings(lambda settings: check_payment_settings(submitted, settings))
