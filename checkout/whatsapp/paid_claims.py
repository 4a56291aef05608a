"""A customer writes "I paid": the answer comes from the order's payment record, never from their word.

Paid in full: the receipt of the latest payment again. Not (fully) paid: what is still owed, the open payment
request again (its link, button or Pix code), and a note for staff, who check the bank and record the payment themselves; the payment
state is never touched here. No open order: the same words a stranger gets for "where is my order".
"""

from checkout.models.messaging import Message
from checkout.models.orders import Order
from checkout.models.store import StoreSettings
from checkout.money import format_money
from checkout.orders import locks
from checkout.orders.lifecycle import record_event
from checkout.orders.payment_states import SETTLED_STATES
from checkout.orders.queries import latest_open_order_id
from checkout.payments.providers import NEVER_REQUESTED_METHODS
from checkout.payments.request_messages import payment_request_messages
from checkout.payments.requests import open_request_of
from checkout.phones import phone_forms
from checkout.receipts.message import receipt_message
from checkout.receipts.receipt import receipt_payments
from checkout.web.urls import status_url
from checkout.whatsapp import messages

PURPOSE = "reply:paid"
STAFF_NOTE = "Customer says they paid; no payment recorded yet"
PROOF_NOTE = "Customer sent a {what} while the order is unpaid: if it is a payment proof, check the money arrived"
ENGLISH = "en"

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "paid": "Thank you! Order {reference} is paid in full. Here is your receipt again.",
        "owed": "We have not received the full payment for order {reference} yet: {balance} is still owed. "
        "The shop will check and get back to you.",
    },
    "hinglish": {
        "paid": "Dhanyavaad! Order {reference} ka poora payment mil gaya hai. Yeh rahi aapki receipt dobara.",
        "owed": "Order {reference} ka poora payment abhi tak nahi mila: {balance} baaki hai. "
        "Shop check karke aapko batayega.",
    },
    "sw": {
        "paid": "Asante! Oda {reference} imelipwa kikamilifu. Hii hapa risiti yako tena.",
        "owed": "Bado hatujapokea malipo kamili ya oda {reference}: {balance} bado inadaiwa. "
        "Duka litaangalia na kukujibu.",
    },
    "pt": {
        "paid": "Obrigado! O pedido {reference} está pago. Aqui está o seu recibo novamente.",
        "owed": "Ainda não recebemos o pagamento completo do pedido {reference}: faltam {balance}. "
        "A loja vai verificar e responder.",
    },
}


def _say(language: str, key: str, **values) -> str:
    return TEXTS.get(language, TEXTS[ENGLISH]).get(key, TEXTS[ENGLISH][key]).format(**values)


def claimed_order(row: Message) -> Order | None:
    """The sender's newest open order, locked: the one "I paid" is about. None for an unknown number."""
    if not row.phone:
        return None
    order_id = latest_open_order_id(phone_forms(row.phone))
    return locks.lock_order(order_id) if order_id is not None else None


def note_for_staff(order: Order) -> None:
    """The claim goes on the order for staff (only when the record says unpaid); the payment state stays."""
    if order.payment_status in SETTLED_STATES:
        return
    order.attention = STAFF_NOTE
    record_event(order, "whatsapp", "customer", note=STAFF_NOTE)


def note_possible_proof(row: Message) -> None:
    """A picture or document from a customer whose order still owes money: maybe a payment screenshot.

    Staff are asked to check it (the order's attention line and its timeline, the file in the inbox); the
    payment state stays as it is: a picture proves nothing until the money is seen.
    """
    order = claimed_order(row)
    if order is None or order.payment_status == "paid" or order.payment_method in NEVER_REQUESTED_METHODS:
        return
    row.order_id = order.id
    note = PROOF_NOTE.format(what="picture" if row.kind == "image" else "document")
    order.attention = note
    record_event(order, "whatsapp", "customer", note=note)


def answer(order: Order | None, settings: StoreSettings, language: str) -> list[messages.OutboundMessage]:
    """What the customer is sent, in order; each message already checked against Meta's limits."""
    if order is None:
        return [messages.orders_overview([], settings, {})]  # a stranger's words: nothing about anyone's order
    payments = receipt_payments(order)
    if order.payment_status in SETTLED_STATES and payments:
        words = _say(language, "paid", reference=order.reference)
        return [receipt_message(order, payments[-1], settings, words=words)]
    balance = format_money(order.balance_minor, order.currency, settings.locale)
    replies = [messages.text_message(PURPOSE, _say(language, "owed", reference=order.reference, balance=balance))]
    request = open_request_of(order)
    if request is not None:
        replies += payment_request_messages(order, request, status_url=status_url(order))
    return replies
