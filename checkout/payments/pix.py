"""Pix: a static BR Code "copia e cola" payload (BCB's BR Code over the EMVCo merchant-presented QR format).

The payload is a run of ID-length-value fields ending in a CRC16; the customer pastes it into their bank's
app or scans it as a QR code. There is no callback: staff confirm the money arrived.
"""

import re
import unicodedata
import uuid
from dataclasses import dataclass

from checkout.models.orders import Order
from checkout.models.store import StoreSettings
from checkout.money import from_minor
from checkout.payments.providers import PaymentLink, ProviderEntry, ProviderNotConfigured, register_provider

NAME = "pix"
CURRENCY = "BRL"
CURRENCY_NUMERIC = "986"  # ISO 4217 numeric code of the real
PIX_GUI = "br.gov.bcb.pix"
MERCHANT_NAME_MAX = 25
MERCHANT_CITY_MAX = 15
KEY_MAX = 77
TXID_MAX = 25
NO_TXID = "***"  # the spec's value when a static code carries no transaction id
AMOUNT_MAX_CHARACTERS = 13
_TXID_CHARACTERS = re.compile(r"[A-Za-z0-9]{1,25}", re.ASCII)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+55[1-9][0-9]{9,10}", re.ASCII)


class InvalidPixRequest(ValueError):
    pass


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def field(field_id: str, value: str) -> str:
    """One EMV field: two-digit id, two-digit length, value."""
    if len(value) > 99:
        raise InvalidPixRequest(f"field {field_id} is {len(value)} characters, more than 99")
    return f"{field_id}{len(value):02d}{value}"


def normalised_text(text: str, maximum: int) -> str:
    """What the BR Code allows in a name or city: printable ASCII, accents dropped (São Paulo → Sao Paulo),
    single spaces, at most `maximum` characters."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if c.isascii() and c.isprintable())
    return " ".join(ascii_only.split())[:maximum].rstrip()


def normalised_key(raw: str) -> str | None:
    """A Pix key in the form the directory holds it, or None when it is none of the five kinds.

    CPF (11 digits) and CNPJ (14 digits) lose their dots, dashes and slash; a phone is +55 and its
    digits; an e-mail is lower case; a random key (EVP) is a lower-case UUID.
    """
    text = raw.strip()
    if _PHONE.fullmatch(re.sub(r"[\s()-]", "", text)):
        return re.sub(r"[\s()-]", "", text)
    if _EMAIL.fullmatch(text) and len(text) <= KEY_MAX:
        return text.lower()
    digits = re.sub(r"[.\-/\s]", "", text)
    if digits.isascii() and digits.isdigit() and len(digits) in (11, 14):
        return digits
    try:
        return str(uuid.UUID(text)) if len(text) == 36 else None
    except ValueError:
        return None


def pix_amount(amount_minor: int) -> str:
    return f"{from_minor(amount_minor, CURRENCY):.2f}"


def pix_payload(*, key: str, merchant_name: str, merchant_city: str, amount_minor: int | None, txid: str) -> str:
    """The copia e cola text, CRC included. `amount_minor` None leaves the amount for the payer to type."""
    name = normalised_text(merchant_name, MERCHANT_NAME_MAX)
    city = normalised_text(merchant_city, MERCHANT_CITY_MAX)
    if not name or not city:
        raise InvalidPixRequest("the merchant name and city must have letters the BR Code allows")
    if normalised_key(key) != key:
        raise InvalidPixRequest(f"{key!r} is not a Pix key in its normal form")
    if txid != NO_TXID and not _TXID_CHARACTERS.fullmatch(txid):
        raise InvalidPixRequest(f"the transaction id must be 1 to {TXID_MAX} letters and digits")
    parts = [
        field("00", "01"),
        field("26", field("00", PIX_GUI) + field("01", key)),
        field("52", "0000"),
        field("53", CURRENCY_NUMERIC),
    ]
    if amount_minor is not None:
        amount = pix_amount(amount_minor)
        if amount_minor <= 0 or len(amount) > AMOUNT_MAX_CHARACTERS:
            raise InvalidPixRequest("the amount must be more than zero and at most 13 characters")
        parts.append(field("54", amount))
    parts += [field("58", "BR"), field("59", name), field("60", city), field("62", field("05", txid))]
    without_crc = "".join(parts) + "6304"
    return f"{without_crc}{crc16_ccitt_false(without_crc.encode('ascii')):04X}"


@dataclass(frozen=True)
class PixProvider:
    key: str
    merchant_name: str
    merchant_city: str
    name: str = NAME
    confirms_automatically: bool = False
    supports_refunds: bool = False  # money goes back by hand: staff record it

    def request(self, order: Order, amount_minor: int, currency: str, *, reference: str) -> PaymentLink:
        if currency != CURRENCY:
            raise ProviderNotConfigured(f"Pix takes payments in BRL only, not {currency}")
        payload = pix_payload(
            key=self.key,
            merchant_name=self.merchant_name,
            merchant_city=self.merchant_city,
            amount_minor=amount_minor,
            txid=reference,
        )
        return PaymentLink(provider=NAME, provider_reference=reference, url="", qr_payload=payload, expires_at=None)


def _build(settings: StoreSettings) -> PixProvider:
    key = normalised_key(settings.pix_key or "")
    name = normalised_text(settings.pix_merchant_name or "", MERCHANT_NAME_MAX)
    city = normalised_text(settings.pix_merchant_city or "", MERCHANT_CITY_MAX)
    if not key or not name or not city:
        raise ProviderNotConfigured("Pix needs the shop's Pix key, name and city (Settings → Payments)")
    return PixProvider(key, name, city)


def check_pix_settings(values: dict, settings: StoreSettings, chosen: bool) -> dict[str, str]:
    errors = {}
    if values["pix_key"]:
        key = normalised_key(values["pix_key"])
        if key is None:
            errors["pix_key"] = "A Pix key is a CPF, CNPJ, e-mail, phone (+55…) or random key."
        else:
            values["pix_key"] = key
    for field_name, maximum, what in (
        ("pix_merchant_name", MERCHANT_NAME_MAX, "name"),
        ("pix_merchant_city", MERCHANT_CITY_MAX, "city"),
    ):
        typed = values[field_name]
        values[field_name] = normalised_text(typed, maximum)
        if typed and not values[field_name]:
            errors[field_name] = f"Write the {what} in Latin letters (accents are fine)."
    if chosen:
        for field_name, what in (("pix_key", "key"), ("pix_merchant_name", "name"), ("pix_merchant_city", "city")):
            if not values[field_name] and field_name not in errors:
                errors[field_name] = f"Pix needs the shop's {what}."
        if settings.currency != CURRENCY:
            errors["payment_provider"] = "Pix takes reais only: the shop's currency must be BRL."
    return errors


register_provider(
    NAME, ProviderEntry(label="Pix (copia e cola and QR code)", build=_build, check_settings=check_pix_settings)
)
