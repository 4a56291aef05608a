"""The receipt as a WhatsApp document: the PDF by link (Meta fetches it from the status link's receipt
address) with the receipt's summary as its caption."""

from checkout.models.orders import Order, Payment
from checkout.models.store import StoreSettings
from checkout.receipts.receipt import build_receipt
from checkout.receipts.summary import CAPTION_MAX, receipt_summary
from checkout.web.urls import external_url, status_url
from checkout.whatsapp.limits import check_payload
from checkout.whatsapp.messages import OutboundMessage

RECEIPT_ENDPOINT = "storefront.payment_receipt"
PURPOSE = "receipt"
CAPTION_GAP = "\n\n"
SUMMARY_MIN = 200  # room for the receipt's first lines, its "…" and the status link


def receipt_link(order: Order, payment: Payment) -> str:
    """The receipt's absolute address: public to whoever holds the order's status token, as Meta must fetch it."""
    return external_url(RECEIPT_ENDPOINT, token=order.status_token, payment_id=payment.id)


def receipt_message(order: Order, payment: Payment, settings: StoreSettings, *, words: str = "") -> OutboundMessage:
    """One document message for one payment; raises PayloadInvalid if it breaks one of Meta's limits.

    `words` (the shop's own "payment received" text) open the caption when they leave room for the receipt's
    summary; a shop whose text is very long gets the summary alone.
    """
    receipt = build_receipt(order, payment, settings, status_url=status_url(order))
    room = CAPTION_MAX - len(words) - len(CAPTION_GAP)
    if words and room >= SUMMARY_MIN:
        caption = words + CAPTION_GAP + receipt_summary(receipt, room)
    else:
        caption = receipt_summary(receipt)
    document = {"link": receipt_link(order, payment), "filename": receipt.filename, "caption": caption}
    message = OutboundMessage(PURPOSE, {"type": "document", "document": document}, caption)
    check_payload(message.payload)
    return message
