"""The WhatsApp message that asks a customer to pay: a call-to-action button for a web link, text otherwise.

Meta opens a call-to-action button's URL in the phone's browser, so only https:// links become a button;
a UPI intent link (upi://) and a Pix copia e cola code go as text, with the status page (which shows the
QR code and a copy button) linked below them. M-Pesa sends no link at all: the prompt is already on the
customer's phone, so the message says where to look. Outside the customer's 24-hour window none of these may
go: the approved payment_request template carries a web link instead (the gateway's, or the status page).
The one reminder of a request is the same message, said as a reminder (for M-Pesa: reply for a new prompt).
"""

from checkout.models.orders import Order
from checkout.models.payments import PaymentRequest
from checkout.models.store import get_store_settings
from checkout.money import format_money
from checkout.payments import mpesa
from checkout.whatsapp import templates
from checkout.whatsapp.limits import CTA_URL_SCHEMES, INTERACTIVE_BODY_MAX, check_payload
from checkout.whatsapp.messages import OutboundMessage, template_message
from checkout.whatsapp.templates import template_language

PURPOSE = "payment_request"
REMINDER_PURPOSE = "payment_reminder"
PAY_BUTTON_TEXT = "Pay now"


def _checked(message: OutboundMessage) -> OutboundMessage:
    check_payload(message.payload)
    return message


def _opening(order: Order, request: PaymentRequest, purpose: str) -> str:
    amount = format_money(request.amount_minor, request.currency)
    if purpose == REMINDER_PURPOSE:
        return f"A reminder: order {order.reference} is waiting for your payment of {amount}."
    return f"Please pay {amount} for order {order.reference}."


def payment_request_messages(
    order: Order,
    request: PaymentRequest,
    *,
    status_url: str,
    in_window: bool = True,
    language: str = "",
    purpose: str = PURPOSE,
) -> list[OutboundMessage]:
    """The message(s) that carry this request (or, with REMINDER_PURPOSE, its reminder), within Meta's limits.

    Outside the 24-hour window (`in_window` False) the one payment_request template, in `language` (the shop's
    template language when empty).
    """
    if not in_window:
        return [_template(order, request, status_url=status_url, language=language, purpose=purpose)]

    def text(body: str) -> OutboundMessage:
        payload = {"type": "text", "text": {"body": body, "preview_url": False}}
        return _checked(OutboundMessage(purpose, payload, body))

    opening = _opening(order, request, purpose)
    if request.provider == mpesa.NAME and purpose == REMINDER_PURPOSE:
        # The first prompt has long expired, and a prompt is never pushed to a phone unasked.
        return [
            text(f"{opening}\nReply here and we will send a new M-Pesa prompt to your phone. Your order: {status_url}")
        ]
    if request.provider == mpesa.NAME:
        return [
            text(
                f"{opening}\nCheck your phone: we have sent you an M-Pesa prompt for this amount. "
                "Enter your M-Pesa PIN to pay.\n"
                f"No prompt, or it expired? Reply here and we will send a new one. Your order: {status_url}"
            )
        ]
    if request.url.startswith(CTA_URL_SCHEMES):
        body = f"{opening}\nTap the button to pay securely. Your order: {status_url}"[:INTERACTIVE_BODY_MAX]
        payload = {
            "type": "interactive",
            "interactive": {
                "type": "cta_url",
                "body": {"text": body},
                "action": {"name": "cta_url", "parameters": {"display_text": PAY_BUTTON_TEXT, "url": request.url}},
            },
        }
        return [_checked(OutboundMessage(purpose, payload, f"{body}\n[{PAY_BUTTON_TEXT}: {request.url}]"))]
    if request.url:  # an app link such as upi://pay, which phones open from text but Meta refuses as a button
        return [
            text(
                f"{opening}\nPay with any UPI app: {request.url}\n"
                f"Or scan the QR code on your order page: {status_url}\n"
                "We confirm your order as soon as the money arrives."
            )
        ]
    return [
        text(
            f"{opening}\nPay with Pix: copy the code in the next message and paste it in your bank's app "
            f"(Pix copia e cola), or scan the QR code on your order page: {status_url}"
        ),
        text(request.qr_payload),
    ]


def _template(
    order: Order, request: PaymentRequest, *, status_url: str, language: str, purpose: str
) -> OutboundMessage:
    """The payment_request template: a web link the phone opens (an upi:// or Pix code has its QR on the status page)."""
    link = request.url if request.url.startswith(CTA_URL_SCHEMES) else status_url
    amount = format_money(request.amount_minor, request.currency)
    values = [order.customer_name, order.reference, get_store_settings().name, amount, link]
    return template_message(purpose, templates.PAYMENT_REQUEST, values, language or template_language())
