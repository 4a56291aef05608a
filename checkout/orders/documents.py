"""An order as other systems read it: the Store API and the shop's own webhooks get the same document.

One function lists the order's outside fields, so a field added for one reader reaches the other too.
The public status (for anyone holding the status link) is the other, smaller document: no phone, no address.
"""

from checkout.models.orders import Order
from checkout.models.store import StoreSettings
from checkout.money import format_money
from checkout.orders.customer_timeline import customer_timeline
from checkout.orders.lifecycle import OrderStatus
from checkout.web.urls import status_url


def order_document(order: Order, settings: StoreSettings) -> dict:
    """The whole order for the shop's systems and API callers; `*_display` are ready to show as they are."""
    money = lambda amount: format_money(amount, order.currency, settings.locale)  # noqa: E731
    return {
        "reference": order.reference,
        "status": order.status,
        "status_label": OrderStatus(order.status).label,
        "source": order.source,
        "currency": order.currency,
        "subtotal_minor": order.subtotal_minor,
        "delivery_fee_minor": order.delivery_fee_minor,
        "discount_minor": order.discount_minor,
        "delivery_discount_minor": order.delivery_discount_minor,
        "coupon_code": order.coupon_code or None,
        "total_minor": order.total_minor,
        "amount_paid_minor": order.amount_paid_minor,
        "subtotal_display": money(order.subtotal_minor),
        "delivery_fee_display": money(order.delivery_fee_minor),
        "discount_display": money(order.discount_minor),
        "total_display": money(order.total_minor),
        "lines": [
            {
                "sku": line.sku,
                "name": line.product_name,
                "options": line.options_label,
                "quantity": line.quantity,
                "unit_price_minor": line.unit_price_minor,
                "line_total_minor": line.line_total_minor,
            }
            for line in order.lines
        ],
        "status_url": status_url(order),
        "created_at": order.created_at.isoformat() if order.created_at else None,
        "fulfilment": order.fulfilment,
        "delivery_address": order.delivery_address,
        "payment_method": order.payment_method,
        "payment_status": order.payment_status,
        "external_reference": order.external_reference,
        "customer": {"name": order.customer_name, "phone": order.customer_phone, "address": order.delivery_address},
    }


def public_status_document(order: Order) -> dict:
    """For anyone holding the status token: no phone, no address."""
    return {
        "reference": order.reference,
        "status": order.status,
        "status_label": OrderStatus(order.status).label,
        "currency": order.currency,
        "total_minor": order.total_minor,
        "lines": [
            {"name": line.product_name, "options": line.options_label, "quantity": line.quantity}
            for line in order.lines
        ],
        # Only what the customer may see (customer_timeline); "created" kept as the placed entry's kind.
        "timeline": [
            {
                "at": entry.at.isoformat(),
                "kind": "created" if entry.kind == "placed" else entry.kind,
                "status": entry.status,
                "label": entry.title,
            }
            for entry in customer_timeline(order)
        ],
    }
