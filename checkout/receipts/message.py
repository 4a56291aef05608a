"""The receipt as a WhatsApp document: the PDF uploaded to WhatsApp when the message is sent and sent by its
media id (FIELD-NOTES), with the receipt's summary as its caption.

Meta never fetches the receipt from us: the PDF names the customer, their phone and address, and is made from
the database at the moment of sending (checkout/whatsapp/attachments.py), so no public address is needed.
"""

from checkout.extensions import db
from checkout.models.orders import Order, Payment
from checkout.models.store import StoreSettings, get_store_settings
from checkout.receipts.pdf import receipt_pdf
from checkout.receipts.receipt import build_receipt, receipt_filename, receipt_number, receipt_payment
from checkout.receipts.summary import CAPTION_MAX, receipt_summary
from checkout.web.urls import status_url
from checkout.whatsapp import attachments
from checkout.whatsapp.limits import check_payload
from checkout.whatsapp.messages import OutboundMessage

PURPOSE = "receipt"
SOURCE = "receipt"  # the attachment source this module registers
CAPTION_GAP = "\n\n"
SUMMARY_MIN = 200  # room for the receipt's first lines, its "…" and the status link


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
    document = {"filename": receipt.filename, "caption": caption}
    payload = attachments.attach(
        {"type": "document", "document": document}, SOURCE, order_id=order.id, payment_id=payment.id
    )
    check_payload(attachments.as_checked(payload))
    return OutboundMessage(PURPOSE, payload, caption)


def receipt_file(arguments: dict) -> attachments.AttachedFile:
    """The receipt PDF an outbox message names, made from the database as it is now."""
    order = db.session.get(Order, arguments.get("order_id"))
    payment = receipt_payment(order, arguments.get("payment_id")) if order is not None else None
    if payment is None:
        raise attachments.AttachmentUnavailable("the order or its payment is gone")
    data = receipt_pdf(order, payment, get_store_settings())
    return attachments.AttachedFile(data, "application/pdf", receipt_filename(receipt_number(order, payment)))


attachments.register_source(SOURCE, receipt_file)
