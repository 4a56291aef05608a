"""Phone numbers: whatever the shopper types, stored as E.164 and handed to WhatsApp as digits."""

from functools import lru_cache

import phonenumbers


class InvalidPhone(ValueError):
    pass


def normalise_phone(raw: str, default_region: str) -> str:
    """'098765 43210' in region IN → '+919876543210'. Raises InvalidPhone with a message for people."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("Please enter your WhatsApp number.")
    if len(text) > 32:
        raise InvalidPhone("That number is too long.")
    if text.startswith("00"):
        text = "+" + text[2:]  # 00 is the international prefix in most regions
    try:
        number = phonenumbers.parse(text, default_region.upper() or None)
    except phonenumbers.NumberParseException:
        raise InvalidPhone("That doesn't look like a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("That number isn't valid. Include the country code if it's not a local number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def whatsapp_digits(e164: str) -> str:
    """'+919876543210' → '919876543210', the form wa.me links take."""
    return e164.lstrip("+")


@lru_cache(maxsize=4096)  # the order desk shows fifty numbers per page, again at every refresh
def display_phone(e164: str) -> str:
    """International format for people to read: '+91 98765 43210'."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def phone_from_wa_id(wa_id: str) -> str | None:
    """The E.164 number behind a WhatsApp sender id, or None when the id is not a number.

    Meta still sends Mexican mobiles in the old form 521 + 10 digits, while E.164 (and our
    orders) say +52 + 10 digits; they are the same phone.
    """
    if not wa_id or not wa_id.isdigit():
        return None
    if len(wa_id) == 13 and wa_id.startswith("521"):
        return "+52" + wa_id[3:]
    return "+" + wa_id
