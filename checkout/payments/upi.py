"""UPI: a `upi://pay` intent link (and the same text as a QR code) per NPCI's UPI linking specification.

UPI has no gateway here and no callback: the customer's app pays the shop's VPA directly and staff
confirm the money arrived (confirms_automatically is False), or a gateway provider reconciles it.
"""

import re
from dataclasses import dataclass
from urllib.parse import quote

from checkout.models.orders import Order
from checkout.models.store import StoreSettings
from checkout.money import from_minor
from checkout.payments.providers import PaymentLink, ProviderEntry, ProviderNotConfigured, register_provider

NAME = "upi"
CURRENCY = "INR"  # UPI moves rupees only
# A VPA is handle@psp: letters, digits, dot, hyphen, underscore before the @, letters and digits after.
VPA_PATTERN = re.compile(r"[A-Za-z0-9._-]{2,256}@[A-Za-z][A-Za-z0-9]{1,63}", re.ASCII)
PAYEE_NAME_MAX = 99
REFERENCE_MAX = 35  # tr: NPCI allows up to 35 characters
NOTE_MAX = 50  # tn: UPI apps show about this much


class InvalidUpiRequest(ValueError):
    pass


def _encoded(value: str, safe: str = "") -> str:
    """Percent-encoded UTF-8 with spaces as %20, never '+': UPI apps read '+' literally."""
    return quote(value, safe=safe)


def upi_amount(amount_minor: int) -> str:
    """The am= value: rupees with exactly two decimals, e.g. 12345 → '123.45'."""
    return f"{from_minor(amount_minor, CURRENCY):.2f}"


def upi_intent_link(*, payee_address: str, payee_name: str, amount_minor: int, reference: str, note: str) -> str:
    """`upi://pay?pa=…&pn=…&am=…&cu=INR&tr=…&tn=…` with every value percent-encoded (the VPA keeps its '@')."""
    if not VPA_PATTERN.fullmatch(payee_address):
        raise InvalidUpiRequest(f"{payee_address!r} is not a UPI ID (name@bank)")
    if amount_minor <= 0:
        raise InvalidUpiRequest("the amount must be more than zero")
    if not reference or len(reference) > REFERENCE_MAX:
        raise InvalidUpiRequest(f"the reference must be 1 to {REFERENCE_MAX} characters")
    fields = [
        ("pa", _encoded(payee_address, safe="@")),
        ("pn", _encoded(payee_name.strip()[:PAYEE_NAME_MAX])),
        ("am", upi_amount(amount_minor)),
        ("cu", CURRENCY),
        ("tr", _encoded(reference)),
        ("tn", _encoded(note.strip()[:NOTE_MAX])),
    ]
    return "upi://pay?" + "&".join(f"{key}={value}" for key, value in fields)


@dataclass(frozen=True)
class UpiProvider:
    payee_address: str
    payee_name: str
    name: str = NAME
    confirms_automatically: bool = False
    supports_refunds: bool = False  # money goes back by hand: staff record it

    def request(self, order: Order, amount_minor: int, currency: str, *, reference: str) -> PaymentLink:
        if currency != CURRENCY:
            raise ProviderNotConfigured(f"UPI takes payments in INR only, not {currency}")
        link = upi_intent_link(
            payee_address=self.payee_address,
            payee_name=self.payee_name,
            amount_minor=amount_minor,
            reference=reference,
            note=f"Order {order.reference}",
        )
        return PaymentLink(provider=NAME, provider_reference=reference, url=link, qr_payload=link, expires_at=None)


def _build(settings: StoreSettings) -> UpiProvider:
    if not VPA_PATTERN.fullmatch(settings.upi_payee_address or "") or not (settings.upi_payee_name or "").strip():
        raise ProviderNotConfigured("UPI needs the shop's UPI ID and payee name (Settings → Payments)")
    return UpiProvider(settings.upi_payee_address, settings.upi_payee_name.strip())


def check_upi_settings(values: dict, settings: StoreSettings, chosen: bool) -> dict[str, str]:
    errors = {}
    address, name = values["upi_payee_address"], " ".join(values["upi_payee_name"].split())
    values["upi_payee_name"] = name
    if address and not VPA_PATTERN.fullmatch(address):
        errors["upi_payee_address"] = "A UPI ID looks like shopname@okbank."
    if len(name) > PAYEE_NAME_MAX:
        errors["upi_payee_name"] = f"At most {PAYEE_NAME_MAX} characters."
    if chosen:
        if not address:
            errors["upi_payee_address"] = "UPI needs the shop's UPI ID."
        if not name:
            errors["upi_payee_name"] = "UPI needs the name customers see when they pay."
        if settings.currency != CURRENCY:
            errors["payment_provider"] = "UPI takes rupees only: the shop's currency must be INR."
    return errors


register_provider(NAME, ProviderEntry(label="UPI (link and QR code)", build=_build, check_settings=check_upi_settings))
