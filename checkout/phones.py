"""Phone numbers: whatever the shopper types, stored as E.164 and handed to WhatsApp as digits.

Two readings: `normalise_phone` for a person's own WhatsApp (shoppers, staff alert numbers), which
must be a number the WhatsApp app can live on, and `normalise_business_phone` for the shop's own
WhatsApp Business number, which Meta also registers on landlines and toll-free numbers.
"""

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType

MAX_TYPED = 32

# Numbers the WhatsApp app cannot be registered on (it verifies by SMS or by a call to a person).
NOT_FOR_WHATSAPP = {
    PhoneNumberType.TOLL_FREE: "a toll-free number",
    PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    PhoneNumberType.SHARED_COST: "a shared-cost number",
    PhoneNumberType.UAN: "a company's universal access number",
    PhoneNumberType.PAGER: "a pager number",
    PhoneNumberType.VOICEMAIL: "a voicemail number",
}

# Mexico dropped its dialling prefixes in 2019 (the '1' after +52 for mobiles, 044/045 before a mobile,
# 01 for long distance); phonenumbers now refuses them, people still type them, and Meta's wa_id still
# carries the 1. Every Mexican number has ten digits after them, and none starts with 0 or 1.
_MEXICO_OLD_INTERNATIONAL = re.compile(r"\+521([2-9][0-9]{9})")
_MEXICO_OLD_NATIONAL = re.compile(r"(?:044|045|01)([2-9][0-9]{9})")
_MEXICO_WA_ID = re.compile(r"521([2-9][0-9]{9})")  # WhatsApp's own form, copied without the +
# Brazil: two-digit area codes 11-99 (no 0 in them); mobiles were 8 digits from 6-9 before the 9 was put in front.
_BRAZIL_MOBILE_WITHOUT_NINE = re.compile(r"\+55([1-9][1-9])([6-9][0-9]{7})")
_BRAZIL_MOBILE_WITH_NINE = re.compile(r"\+55([1-9][1-9])9([6-9][0-9]{7})")
_TYPING = re.compile(r"[\s().\-/]")  # what people put between digits


class InvalidPhone(ValueError):
    pass


def normalise_phone(raw: str, default_region: str) -> str:
    """'098765 43210' in region IN → '+919876543210': a person's WhatsApp number, or InvalidPhone for people.

    Argentina: an Argentine mobile is +54 9 <area> <number>, and the 9 is what WhatsApp addresses;
    Argentines type their mobile without it (`+54 11 2345-6789`, `11 2345-6789`) because at home the 9
    (and the 15) are only dialling prefixes, so phonenumbers reads those as landlines. We accept them as
    the mobile with the 9: a shopper typing the number for a WhatsApp checkout is typing the phone that
    has WhatsApp, and the app does not live on Argentine landlines. Refusing would turn away the most
    common way of writing the number; storing it as typed would send every message to a number WhatsApp
    cannot reach. Only when the number with the 9 is a valid mobile range; otherwise it is refused.
    """
    number = _parsed(raw, default_region)
    if number.country_code == 54 and phonenumbers.number_type(number) == PhoneNumberType.FIXED_LINE:
        number = _argentine_mobile(number)
    kind = phonenumbers.number_type(number)
    if kind in NOT_FOR_WHATSAPP:
        raise InvalidPhone(f"That is {NOT_FOR_WHATSAPP[kind]}, which can't have WhatsApp. Enter a mobile number.")
    return _e164(number)


def normalise_business_phone(raw: str, default_region: str) -> str:
    """The shop's own WhatsApp Business number, as typed: any valid number, landline or toll-free included."""
    return _e164(_parsed(raw, default_region))


def _parsed(raw: str, default_region: str) -> phonenumbers.PhoneNumber:
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("Please enter your WhatsApp number.")
    if len(text) > MAX_TYPED:
        raise InvalidPhone("That number is too long.")
    if text.startswith("00"):
        text = "+" + text[2:]  # 00 is the international prefix in most regions
    region = (default_region or "").upper() or None
    text = _without_old_mexican_prefix(text, region)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone("That doesn't look like a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("That number isn't valid. Include the country code if it's not a local number.")
    return number


def _without_old_mexican_prefix(text: str, region: str | None) -> str:
    """'+52 1 55 1234 5678' → '+525512345678'; '044 55 1234 5678' in MX → the same. Anything else unchanged."""
    compact = _TYPING.sub("", text)
    if match := _MEXICO_OLD_INTERNATIONAL.fullmatch(compact):
        return "+52" + match[1]
    if region == "MX" and (match := _MEXICO_OLD_NATIONAL.fullmatch(compact) or _MEXICO_WA_ID.fullmatch(compact)):
        return "+52" + match[1]
    return text


def _argentine_mobile(number: phonenumbers.PhoneNumber) -> phonenumbers.PhoneNumber:
    national = str(number.national_number)
    mobile = phonenumbers.PhoneNumber(country_code=54, national_number=int("9" + national))
    if phonenumbers.is_valid_number(mobile) and phonenumbers.number_type(mobile) == PhoneNumberType.MOBILE:
        return mobile
    raise InvalidPhone("That is an Argentine landline, which can't have WhatsApp. Enter your mobile number.")


def _e164(number: phonenumbers.PhoneNumber) -> str:
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
    orders) say +52 + 10 digits; they are the same phone. Brazilian mobiles registered on WhatsApp
    before the ninth digit (2012-2016) keep a wa_id of 55 + area + 8 digits, while the number
    people type (and our orders hold) is 55 + area + 9 + those 8 digits: same phone again.
    """
    if not wa_id or not wa_id.isdigit():
        return None
    if len(wa_id) == 13 and wa_id.startswith("521"):
        return "+52" + wa_id[3:]
    if match := _BRAZIL_MOBILE_WITHOUT_NINE.fullmatch("+" + wa_id):
        return f"+55{match[1]}9{match[2]}"
    return "+" + wa_id


def phone_forms(e164: str) -> tuple[str, ...]:
    """Every E.164 form one phone may have been stored under: a Brazilian mobile with and without its 9.

    Match inbound senders to orders and contacts with `in_(phone_forms(...))`, never with ==.
    """
    if not e164:
        return ()
    if match := _BRAZIL_MOBILE_WITHOUT_NINE.fullmatch(e164):
        return (f"+55{match[1]}9{match[2]}", e164)
    if match := _BRAZIL_MOBILE_WITH_NINE.fullmatch(e164):
        return (e164, f"+55{match[1]}{match[2]}")
    return (e164,)
