"""Consent to WhatsApp reminders: recorded at checkout, honoured by every sender, withdrawn by "STOP" or by staff.

Order confirmations and status updates answer the customer's own order and need no consent. The
reminder of an unfinished order and the recovery of an abandoned cart are sent only to a number that
has consent now (a consent row not withdrawn), and a marketing template never without it: the outbox
refuses to queue one (`needs_consent`) and drops a queued one whose consent was withdrawn before it went.
"""

import unicodedata

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update

from checkout.database import transaction, utcnow
from checkout.extensions import db
from checkout.models.consents import CONSENT_SOURCES, Consent
from checkout.models.messaging import Message
from checkout.models.orders import Order
from checkout.models.store import StoreSettings
from checkout.phones import phone_forms
from checkout.whatsapp.templates import is_marketing

# The messages sent only with consent, at most one of them per customer per RECOVERY_GAP (checkout/whatsapp/recovery.py).
REMINDER = "order_confirmation_reminder"
CART_RECOVERY = "cart_recovery"
RECOVERY_PURPOSES = (REMINDER, CART_RECOVERY)

# "STOP" in the languages a shop's customers write in: English always, plus the shop's own (its locale's
# language and its country's). A whole message, not a word in a sentence: "acha" is "stop" in Swahili but
# "okay" in Hindi, so it only counts in a Swahili-speaking shop.
STOP_WORDS = {
    "en": ("stop", "unsubscribe", "stop all", "opt out", "optout"),
    "hi": ("बंद करो", "बंद", "band karo", "band kro", "bandh karo"),
    "sw": ("acha", "sitisha", "simamisha"),
    "pt": ("parar", "pare", "sair", "cancelar"),
}
COUNTRY_LANGUAGES = {"IN": "hi", "KE": "sw", "TZ": "sw", "UG": "sw", "BR": "pt", "PT": "pt", "MZ": "pt", "AO": "pt"}


class ConsentMissing(Exception):
    """A message that needs consent was about to be queued for a number without it."""

    def __init__(self, phone: str, purpose: str):
        super().__init__(f"{purpose} needs the customer's consent and {phone} has none")


def needs_consent(purpose: str, payload: dict) -> bool:
    """Reminders and cart recovery, and anything sent through a marketing template."""
    return purpose in RECOVERY_PURPOSES or is_marketing(payload)


def has_consent(phone: str) -> bool:
    forms = phone_forms(phone)
    if not forms:
        return False
    query = select(Consent.id).where(Consent.phone.in_(forms), Consent.withdrawn_at.is_(None)).limit(1)
    return db.session.scalar(query) is not None


def consent_given(phone_column) -> ColumnElement[bool]:
    """SQL condition for a sweep: the number in `phone_column` has consent now (numbers as stored at checkout)."""
    return exists().where(Consent.phone == phone_column, Consent.withdrawn_at.is_(None))


def opted_out(phone_column, settings: StoreSettings) -> ColumnElement[bool]:
    """SQL condition: the number in `phone_column` said STOP (or had its consent withdrawn) and has not agreed since.

    For messages that need no consent but must respect a STOP (the follow-up after delivery): a STOP from
    a number that never gave consent withdraws no row, so the customer's own "STOP" message counts too.
    """
    withdrawn = exists().where(Consent.phone == phone_column, Consent.withdrawn_at.is_not(None))
    said_stop = exists().where(
        Message.phone == phone_column,
        Message.direction == "in",
        func.lower(func.trim(Message.body_text)).in_(sorted(stop_words(settings))),
    )
    return and_(or_(withdrawn, said_stop), ~consent_given(phone_column))


def record_consent(phone: str, *, source: str, wording: str, order: Order | None = None) -> Consent:
    """Consent for this number, with the words the customer saw, in the caller's transaction."""
    if source not in CONSENT_SOURCES:
        raise ValueError(f"unknown consent source {source!r}")
    consent = Consent(phone=phone, source=source, wording=wording, order_id=order.id if order else None)
    db.session.add(consent)
    return consent


def record_checkout_consent(order: Order, *, source: str, wording: str) -> Consent:
    """The customer ticked the box while placing `order`: consent for its number, committed.

    A repeat of the same checkout finds the row it wrote the first time instead of writing another.
    """
    existing = db.session.scalar(select(Consent).where(Consent.order_id == order.id).limit(1))
    if existing is not None:
        return existing
    with transaction():
        return record_consent(order.customer_phone, source=source, wording=wording, order=order)


def withdraw(phone: str, *, how: str, note: str = "") -> int:
    """Withdraw every consent of this number now, in the caller's transaction; returns how many were open."""
    forms = phone_forms(phone)
    if not forms:
        return 0
    result = db.session.execute(
        update(Consent)
        .where(Consent.phone.in_(forms), Consent.withdrawn_at.is_(None))
        .values(withdrawn_at=utcnow(), withdrawn_by=how, withdrawal_note=note[:200]),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


def withdraw_by_staff(phone: str, *, staff_name: str) -> int:
    """A staff member withdraws the customer's consent (they asked by phone, in the shop…): one commit."""
    with transaction():
        return withdraw(phone, how="staff", note=staff_name)


def consent_history(phone: str) -> list[Consent]:
    """Every time this number gave consent, newest first, with how each one ended."""
    forms = phone_forms(phone)
    if not forms:
        return []
    query = select(Consent).where(Consent.phone.in_(forms)).order_by(Consent.given_at.desc(), Consent.id.desc())
    return list(db.session.scalars(query))


def stop_words(settings: StoreSettings) -> frozenset[str]:
    """The whole messages that withdraw consent in this shop."""
    languages = {"en", (settings.locale or "en").split("_")[0].lower()}
    if language := COUNTRY_LANGUAGES.get((settings.default_region or "").upper()):
        languages.add(language)
    return frozenset(word for language in languages for word in STOP_WORDS.get(language, ()))


def is_stop_request(text: str, settings: StoreSettings) -> bool:
    """ "STOP", "Stop.", " unsubscribe!" or the shop's language's word, as the whole message."""
    words = " ".join(_without_marks_around(text or "").casefold().split())
    return words in stop_words(settings)


def _without_marks_around(text: str) -> str:
    """Punctuation, symbols (emoji) and spaces taken off both ends; letters of any script, vowel signs included, kept."""
    keep = [not unicodedata.category(char).startswith(("P", "S", "Z", "C")) for char in text]
    if True not in keep:
        return ""
    return text[keep.index(True) : len(keep) - keep[::-1].index(True)]
