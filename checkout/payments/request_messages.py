"""The WhatsApp message that asks a customer to pay: a call-to-action button for a web link, text otherwise.

Meta opens a call-to-action button's URL in the phone's browser, so only https:// links become a button;
a UPI intent link (upi://) and a Pix copia e cola code go as text, with the status page (which shows the
QR code and a copy button) linked below them. M-Pesa sends no link at all: the prompt is already on the
customer's phone, so the message says where to look.
"""

from checkout.models.orders import Order
from checkout.models.payments import PaymentRequest
from checkout.money import format_money
from checkout.payments import mpesa
from checkout.whatsapp.limits import CTA_URL_SCHEMES, INTERACTIVE_BODY_MAX, check_payload
from checkout.whatsapp.messages import OutboundMessage

PURPOSE = "payment_request"
PAY_BUTTON_TEXT = "Pay now"


def _checked(message: OutboundMessage) -> OutboundMessage:
    check_payload(message.payload)
    return message


def _text(body: str) -> OutboundMessage:
    return _checked(OutboundMessage(PURPOSE, {"type": "text", "text": {"body": body, "preview_url": False}}, body))


def _opening(order: Order, request: PaymentRequest) -> str:
    amount = format_money(request.amount_minor, request.currency)
    return f"Please pay {amount} for order {order.reference}."


def payment_request_messages(order: Order, request: PaymentRequest, *, status_url: str) -> list[OutboundMessage]:
    """The message(s) that carry this request to the customer, each within Meta's limits."""
    opening = _opening(order, request)
    if request.provider == mpesa.NAME:
        return [
            _text(
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
        return [_checked(OutboundMessage(PURPOSE, payload, f"{body}\n[{PAY_BUTTON_TEXT}: {request.url}]"))]
    if request.url:  # an app link such as upi://pay, which phones open from text but Meta refuses as a button
        return [
            _text(
                f"{opening}\nPay with any UPI app: {request.url}\n"
                f"Or scan the QR code on your order page: {status_url}\n"
                "We confirm your order as soon as the money arrives."
            )
        ]
    return [
        _text(
            f"{opening}\nPay with Pix: copy the code in the next message and paste it in your bank's app "
            f"(Pix copia e cola), or scan the QR code on your order page: {status_url}"
        ),
        _text(request.qr_payload),
    ]
